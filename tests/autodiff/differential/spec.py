"""The differential harness's one data format: a ``Case`` per supported NumPy function.

A case says how to call a function the way users do (``fn``, on arrays that become Tensors under a
transform), where its inputs live (``domain``, ``shapes``) and, when PyTorch has the same function,
how to compute it there (``torch_fn``, float64).  ``test_differential.py`` runs every case in reverse
mode, forward mode and at second order, against PyTorch (torch.func) or central differences.

Each family of rules lists its cases in its own ``cases_<family>.py`` file here (``CASES = [...]``);
the runner collects them all and checks that every name in ``cm.supported_functions()`` is covered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

ShapesStrategy = st.SearchStrategy  # draws a tuple of shapes, one per argument


def broadcastable(arity: int, min_dims: int = 0, max_dims: int = 3, max_side: int = 3) -> ShapesStrategy:
    """Shapes that broadcast together (e.g. (3, 1) and (2,)): the default for elementwise functions."""
    return mutually_broadcastable_shapes(num_shapes=arity, min_dims=min_dims, max_dims=max_dims,
                                         max_side=max_side).map(lambda s: s.input_shapes)


def same_shape(arity: int, min_dims: int = 0, max_dims: int = 3, max_side: int = 3) -> ShapesStrategy:
    """All arguments of one shape."""
    shape = st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)
    return shape.map(lambda s: (s,) * arity)


def fixed(*shapes: tuple[int, ...]) -> ShapesStrategy:
    """Exactly these shapes (for functions with structural requirements, e.g. square matrices)."""
    return st.just(tuple(shapes))


@dataclass(frozen=True)
class Case:
    """One way of calling one supported function.

    name      the public name as ``cm.supported_functions()`` lists it, e.g. ``"numpy.sin"``,
              ``"numpy.linalg.eigh"`` (several cases may share a name: different options/axes)
    fn        ``fn(*arrays) -> array``: NumPy code as a user writes it, e.g. ``lambda x: np.sum(x, axis=-1)``;
              it may return a tuple (each element is checked)
    arity     how many array arguments ``fn`` takes (all are differentiated)
    shapes    a strategy drawing one shape per argument (default: broadcastable shapes)
    domain    (low, high) of the uniformly drawn values, or a tuple of such pairs, one per argument
    make_args optional ``make_args(rng, shapes) -> tuple of arrays`` for structured inputs (SPD
              matrices, distinct values for sort, matrices with separated eigenvalues); overrides domain
    torch_fn  the same math in PyTorch on float64 tensors, or None to compare with finite differences
    second_order  False only where the second derivative is not defined or not meaningful (say why in note)
    forward   False only where forward mode is deliberately unsupported (say why in note)
    rtol      tolerance of the comparison (float64)
    note      why a flag is off, or anything a reader of the case should know
    """

    name: str
    fn: Callable
    arity: int = 1
    shapes: ShapesStrategy = field(default=None)  # type: ignore[assignment]
    domain: tuple = (-2.0, 2.0)
    make_args: Callable | None = None
    torch_fn: Callable | None = None
    second_order: bool = True
    forward: bool = True
    rtol: float = 1e-6
    note: str = ""

    def shape_strategy(self) -> ShapesStrategy:
        return self.shapes if self.shapes is not None else broadcastable(self.arity)

    def arguments(self, rng: np.random.Generator, shapes: tuple) -> tuple[np.ndarray, ...]:
        """Draw float64 arguments of the given shapes inside the case's domain."""
        if self.make_args is not None:
            return tuple(np.asarray(a, dtype=np.float64) for a in self.make_args(rng, shapes))
        domains = self.domain if isinstance(self.domain[0], tuple) else (self.domain,) * self.arity
        return tuple(rng.uniform(low, high, size=shape) for (low, high), shape in zip(domains, shapes))
