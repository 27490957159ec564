"""The Tensor: a NumPy array that remembers how it was computed.

A Tensor holds ``value`` (an ndarray). When it was produced by a traced operation on inputs that
require gradients it also holds ``node``: the primitive, its arguments and what the VJP needs.
In forward mode it carries ``tangent``: a batch of directional derivatives, shape (B, *value.shape).

NumPy calls on Tensors (``np.sin(t)``, ``np.sum(t, axis=1)``, ``t @ W``) are routed to calcml's
primitives through ``__array_ufunc__`` and ``__array_function__``, so plain NumPy code is traced.
Arithmetic operators and array methods are attached in ``tensor_methods.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from calcml.autodiff.errors import InPlaceError


def as_float_array(data: Any) -> np.ndarray:
    """An ndarray of a floating dtype: floats keep theirs (float32 stays float32), the rest become float64."""
    array = np.asarray(data)
    if array.dtype.kind not in "fc":  # floating or complex
        array = array.astype(np.float64)
    return array


CREATION_ORDER = itertools.count()  # every Tensor is numbered when made: inputs before outputs


class Node:
    """How a Tensor was computed: ``prim(*args, **kwargs)``; ``parents`` are the indices of the
    arguments that require gradients. ``values`` are the arguments with Tensors replaced by arrays."""

    __slots__ = ("prim", "args", "values", "kwargs", "parents")

    def __init__(self, prim, args, values, kwargs, parents):
        self.prim = prim
        self.args = args
        self.values = values
        self.kwargs = kwargs
        self.parents = parents


class Tensor:
    """An ndarray with a gradient.

    >>> t = cm.Tensor(np.ones(3), requires_grad=True)
    >>> y = (t * t).sum(); y.backward(); t.grad
    array([2., 2., 2.])

    ``.grad`` accumulates across ``backward()`` calls, as in PyTorch: set ``t.grad = None`` (or call
    ``t.zero_grad()``) between steps.
    """

    __slots__ = ("value", "requires_grad", "grad", "node", "tangent", "name", "seq", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.value
        self.value = as_float_array(data) if requires_grad else np.asarray(data)
        self.requires_grad = requires_grad
        self.grad = None
        self.node = None
        self.tangent = None
        self.name = name
        self.seq = next(CREATION_ORDER)

    # -- what an array has ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self.value)))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` gives the value (the graph is not carried into a plain array)."""
        value = self.value if dtype is None else self.value.astype(dtype, copy=False)
        return value.copy() if copy else value

    def numpy(self) -> np.ndarray:
        """The value as a plain ndarray (shared, not copied)."""
        return self.value

    def item(self) -> Any:
        return self.value.item()

    def tolist(self) -> Any:
        return self.value.tolist()

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self.value, precision=6, threshold=20, separator=", ", prefix="Tensor(")
        extras = ""
        if self.node is not None:
            extras = f", op={self.node.prim.name}"
        elif self.requires_grad:
            extras = ", requires_grad=True"
        return f"Tensor({body}{extras})"

    # -- gradients ------------------------------------------------------------------------------
    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Backpropagate from this Tensor and accumulate ∂self/∂leaf into every leaf's ``.grad``.

        For a scalar, the seed is 1; otherwise pass ``gradient`` (the cotangent, same shape).
        With ``create_graph=True`` the gradients are themselves traced Tensors, so they can be
        differentiated again.
        """
        from calcml.autodiff.reverse import backward_into_leaves

        backward_into_leaves(self, gradient, create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same value, cut from the graph: gradients do not flow through it."""
        return Tensor(self.value)

    # -- writes are refused: they would silently bypass the graph ---------------------------------
    def __setitem__(self, index, value) -> None:
        raise InPlaceError(
            f"cannot assign into a Tensor (t[{index!r}] = ...): in-place writes bypass the graph and "
            f"would give wrong gradients.\n  Tensor: shape={self.shape}, {self.dtype}\n"
            "  instead: build a new array, e.g. np.where(mask, new, t), np.concatenate([...]) or "
            "t + np.eye(...) * delta."
        )
