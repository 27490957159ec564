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
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from calcml.autodiff.errors import GraphEscapeError, InPlaceError, StaleGraphError
from calcml.autodiff.state import STATE


def as_float_array(data: Any) -> np.ndarray:
    """An ndarray of a floating dtype: floats keep theirs (float32 stays float32), the rest become float64."""
    array = data if type(data) is np.ndarray else np.asarray(data)
    if array.dtype.kind not in "fc":  # floating or complex
        array = array.astype(np.float64)
    return array


CREATION_ORDER = itertools.count()  # every Tensor is numbered when made: inputs before outputs


class Node(NamedTuple):
    """How a Tensor was computed: ``prim(*args, **kwargs)``; ``parents`` are the indices of the
    arguments that require gradients. ``values`` are the arguments with Tensors replaced by arrays.
    (A tuple: the engine makes one per traced operation, so it is made without a Python ``__init__``.)"""

    prim: Any
    args: tuple
    values: list
    kwargs: dict
    parents: list[int]


new_node = tuple.__new__  # new_node(Node, (prim, args, values, kwargs, parents)): a Node at C speed


class Tensor:
    """An ndarray with a gradient.

    >>> t = cm.Tensor(np.ones(3), requires_grad=True)
    >>> y = (t * t).sum(); y.backward(); t.grad
    array([2., 2., 2.])

    ``.grad`` accumulates across ``backward()`` calls, as in PyTorch: set ``t.grad = None`` (or call
    ``t.zero_grad()``) between steps.
    """

    __slots__ = ("value", "requires_grad", "grad", "node", "tangent", "name", "seq", "modified_at",
                 "owner", "previous", "shares_memory", "__weakref__")
    # ``previous`` (set only by an in-place update of a computed Tensor): the state it had before, for the
    # operations that used it then; ``shares_memory`` (set only when an operation returned a view): its
    # array is also another Tensor's. Neither is set on most Tensors: read them with getattr(t, ..., default).
    __array_priority__ = 1000

    if TYPE_CHECKING:  # attached at import by tensor_methods.py and rules/indexing.py; declared for type checkers
        value: np.ndarray
        grad: np.ndarray | None
        node: Node | None
        tangent: np.ndarray | None

        def __getitem__(self, index: Any) -> Tensor: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __divmod__(self, other: Any) -> tuple[Tensor, Tensor]: ...
        def __rdivmod__(self, other: Any) -> tuple[Tensor, Tensor]: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __round__(self, ndigits: int | None = None) -> Tensor: ...
        def __contains__(self, value: Any) -> bool: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __and__(self, other: Any) -> Tensor: ...
        def __rand__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __ror__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def __rxor__(self, other: Any) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any: ...
        def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any: ...
        # ndarray's methods of the same names and signatures (each calls the NumPy function)
        def sum(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def mean(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def prod(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def max(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def min(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def var(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def std(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def cumsum(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def cumprod(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def all(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def any(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def argmax(self, *args: Any, **kwargs: Any) -> Any: ...
        def argmin(self, *args: Any, **kwargs: Any) -> Any: ...
        def argsort(self, *args: Any, **kwargs: Any) -> Any: ...
        def argpartition(self, *args: Any, **kwargs: Any) -> Any: ...
        def nonzero(self) -> Any: ...
        def searchsorted(self, *args: Any, **kwargs: Any) -> Any: ...
        def swapaxes(self, axis1: int, axis2: int) -> Tensor: ...
        def squeeze(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def ravel(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def dot(self, other: Any) -> Tensor: ...
        def clip(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def repeat(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def take(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def trace(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def diagonal(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def round(self, *args: Any, **kwargs: Any) -> Tensor: ...
        def conj(self) -> Tensor: ...
        def conjugate(self) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def tan(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def sinh(self) -> Tensor: ...
        def cosh(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def square(self) -> Tensor: ...
        def log1p(self) -> Tensor: ...
        def expm1(self) -> Tensor: ...
        def sign(self) -> Tensor: ...
        def reshape(self, *shape: Any, order: str = "C") -> Tensor: ...
        def transpose(self, *axes: Any) -> Tensor: ...
        def flatten(self, order: str = "C") -> Tensor: ...
        def astype(self, dtype: Any, copy: bool = True) -> Tensor: ...
        def copy(self, order: str = "C") -> Tensor: ...
        @property
        def T(self) -> Tensor: ...
        @property
        def mT(self) -> Tensor: ...
        @property
        def real(self) -> Tensor: ...
        @property
        def imag(self) -> Tensor: ...
        @property
        def itemsize(self) -> int: ...
        @property
        def nbytes(self) -> int: ...

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.value
        if requires_grad:  # a leaf owns a copy, seen through a read-only view: writes to `data` or `t.value`
            self.owner = np.array(as_float_array(data), copy=True)  # cannot reach the graph; updates
            self.value = self.owner.view()                            # (writable(), copy_, -=) go through
            self.value.flags.writeable = False                        # `owner` and are stamped
        else:
            self.value = np.asarray(data)
            self.owner = None
        self.requires_grad = requires_grad
        self.grad = None
        self.node = None
        self.tangent = None
        self.name = name
        self.seq = next(CREATION_ORDER)
        self.modified_at = 0  # creation number current when the values were last changed in place

    @classmethod
    def input(cls, array: np.ndarray) -> Tensor:
        """A leaf that requires grad around ``array`` itself, not a copy: the input a transform makes
        for the duration of one call (the transform owns it; nothing else can write to it meanwhile)."""
        leaf = object.__new__(cls)  # made once per argument per call: without __init__'s checks
        leaf.value = array
        leaf.requires_grad = True
        leaf.grad = leaf.node = leaf.tangent = leaf.name = leaf.owner = None
        leaf.seq = next(CREATION_ORDER)
        leaf.modified_at = 0
        return leaf

    # -- what an array has ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the value."""
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the value."""
        return self.value.dtype

    @property
    def ndim(self) -> int:
        """The number of axes of the value."""
        return self.value.ndim

    @property
    def size(self) -> int:
        """The number of elements of the value."""
        return self.value.size

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self.value)))

    # -- leaving the graph: refused while traced, so a derivative is never a quiet zero -----------
    def is_traced(self) -> bool:
        """True while this Tensor is being differentiated: it requires grad with recording on, or it
        carries forward-mode tangents. Its value then must not leave the graph as a plain number."""
        if self.tangent is not None and not STATE.tangents_stopped:
            return True
        return self.requires_grad and STATE.recording

    def _refuse_escape(self, how: str) -> None:
        if self.is_traced():
            raise GraphEscapeError(escape_message(self, how))
        if STATE.vmap_tracers:
            note_value_use(self)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` gives the value of an untraced Tensor; a traced one refuses (see ``is_traced``)."""
        self._refuse_escape("np.asarray / np.array (or writing it into a NumPy array)")
        value = self.value if dtype is None else self.value.astype(dtype, copy=False)
        return value.copy() if copy else value

    def numpy(self) -> np.ndarray:
        """The value as a plain ndarray (shared, not copied); refused while traced, like ``np.asarray``."""
        self._refuse_escape(".numpy()")
        return self.value

    def item(self, *index: Any) -> Any:
        """The value (or the entry at ``index``, as NumPy's ``a.item(3)``) as a Python number. The one deliberate
        escape of the Tensor API (log a loss with ``loss.item()``, as in PyTorch); inside a transform
        (``cm.grad`` ...) it is refused like ``float``: index the Tensor instead (``t[3]``, ``t.flat[3]``)."""
        if STATE.reverse_depth > 0 or STATE.forward_depth > 0:
            self._refuse_escape(".item()")
        return self.value.item(*index)

    @property
    def flat(self) -> _FlatEntries:
        """``t.flat[i]``: entries in row-major order, as NumPy's ``a.flat``, on the graph (``t.ravel()[i]``)."""
        return _FlatEntries(self)

    def as_integer_ratio(self) -> tuple[int, int]:
        """Refused: ``statistics`` and ``fractions`` want exact Python numbers (a traced value would leave the
        graph, and a Fraction inside a Tensor helps no one)."""
        self._refuse_escape("an exact ratio (the statistics or fractions module)")
        raise GraphEscapeError("the statistics and fractions modules want exact Python numbers, not Tensors.\n"
                             "  use np.mean, np.median, np.var or np.std on the Tensor (they are on the graph), "
                             "or t.item() for a plain number.")

    def tolist(self) -> Any:
        """The value as nested Python lists; refused (GraphEscapeError) while the Tensor is traced."""
        self._refuse_escape(".tolist()")
        return self.value.tolist()

    def __float__(self) -> float:
        self._refuse_escape("float() (or a math.* function)")
        return float(self.value)

    def __int__(self) -> int:
        self._refuse_escape("int()")
        return int(self.value)

    def __index__(self) -> int:
        """``range(t)``, ``a[t]``, ``[0] * t``: an integer from a Tensor of integers that is not being differentiated.
        Refused for a traced one: a number in a differentiated argument is a real variable, even an int leaf
        kept with the weights (``{"w": w, "steps": 3}``), and a count or position read from it leaves the graph."""
        if self.is_traced():
            raise GraphEscapeError(
                f"an integer was asked of a traced Tensor ({self.dtype}, shape {self.shape}) — for range(), an index "
                "or a repeat count. Every number in a differentiated argument is a real variable, an int too (a step "
                "count or size kept with the weights in {'w': w, 'steps': 3} is traced like w).\n"
                "  pass integer settings in an argument that is not differentiated (leave it out of argnums, or close "
                "over it), or use t.value for a deliberate constant."
            )
        if STATE.vmap_tracers:
            note_value_use(self)
        return operator.index(self.value)

    def __complex__(self) -> complex:
        self._refuse_escape("complex()")
        return complex(self.value)

    def __bool__(self) -> bool:
        """Control flow on values is allowed (``if loss < tol``): a branch is piecewise constant.
        (Under cm.vmap each example may take its own branch: vmap then runs example by example.)"""
        if STATE.vmap_tracers:
            note_value_use(self)
        return bool(self.value)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats the value (text never flows back into the graph)."""
        return format(self.value.item() if self.value.ndim == 0 else self.value, spec) if spec else repr(self)

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
        TENSOR_HOOKS.backward(self, gradient, create_graph)

    def __copy__(self) -> Tensor:
        """``copy.copy(t)``: as for an array, new values; a computed Tensor's copy stays on the graph
        (``np.copy``), a leaf's copy is a new leaf with the same ``requires_grad``, trained apart."""
        if self.node is None and self.tangent is None:
            return Tensor(self.value.copy(), requires_grad=self.requires_grad, name=self.name)
        return np.copy(self)

    def __deepcopy__(self, memo: dict) -> Tensor:
        """``copy.deepcopy(t)``, as ``copy.copy``: a deep copy of a model copies its parameters as new leaves
        (with their ``.grad``), and a copied activation stays on the graph, so gradients flow through it."""
        twin = self.__copy__()
        if self.grad is not None and twin.node is None:
            twin.grad = np.array(self.grad, copy=True)
        memo[id(self)] = twin
        return twin

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same values, cut from the graph: gradients do not flow through it (a deliberate constant). A copy:
        updating it in place (``d += 1``) must not change the values the graph saved for its backward pass."""
        return Tensor(self.value.copy())

    def copy_(self, values: Any) -> Tensor:
        """Overwrite this leaf's values in place (like ``torch.Tensor.copy_`` under no_grad): loading
        weights, restoring a checkpoint. Graphs recorded before refuse to backpropagate afterwards."""
        with self.writable() as array:
            array[...] = values.value if isinstance(values, Tensor) else values
        return self

    def writable(self) -> _Writable:
        """``with t.writable() as w: w -= lr * g`` — the sanctioned in-place update of a leaf's array
        (optimizers use it). The array is read-only otherwise, and the update is stamped, so a graph
        that used the old values raises at ``backward()`` instead of giving a stale gradient."""
        return _Writable(self)


    # -- writes are refused: they would silently bypass the graph ---------------------------------
    def __setitem__(self, index, value) -> None:
        raise InPlaceError(
            f"cannot assign into a Tensor (t[{index!r}] = ...): in-place writes bypass the graph and "
            f"would give wrong gradients.\n  Tensor: shape={self.shape}, {self.dtype}\n"
            "  instead: build a new array, e.g. np.where(mask, new, t), np.concatenate([...]) or "
            "t + np.eye(...) * delta."
        )


def recorded_by_vmap(tensor: Tensor) -> bool:
    """True when a running cm.vmap trace recorded ``tensor``: its value differs per example."""
    return any(tracer.depends(tensor) for tracer in STATE.vmap_tracers)


def note_value_use(tensor: Tensor) -> None:
    """A plain value (bool, float, array) was read from ``tensor``: each running cm.vmap trace is told, and
    decides what the read means for it (it may have to run f example by example)."""
    for tracer in STATE.vmap_tracers:
        tracer.note_value_use(tensor)


class _FlatEntries:
    """What ``Tensor.flat`` returns: read entries in row-major order (writes are refused, as on a Tensor)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor):
        self.tensor = tensor

    def __getitem__(self, index: Any) -> Tensor:
        return self.tensor.ravel()[index]

    def __iter__(self) -> Any:
        return iter(self.tensor.ravel())

    def __len__(self) -> int:
        return self.tensor.value.size

    def __setitem__(self, index: Any, value: Any) -> None:
        self.tensor.ravel()[index] = value  # refused by Tensor.__setitem__, with what to write instead


class TensorHooks:
    """The passes a Tensor's methods call that are built on the Tensor itself, so tensor.py cannot import
    them: each installs itself here when its module is imported (``Tensor.backward`` calls reverse mode's
    ``backward_into_leaves``, installed by ``calcml.autodiff.transforms.reverse_mode``)."""

    backward: Callable[[Tensor, Any, bool], None]


TENSOR_HOOKS = TensorHooks()


class _Writable:
    """The context of ``Tensor.writable``: unlock the array, then lock it again and stamp the change."""

    __slots__ = ("tensor", "array", "unlocked")

    def __init__(self, tensor: Tensor):
        self.tensor = tensor
        self.array = tensor.value

    def __enter__(self) -> np.ndarray:
        owner = getattr(self.tensor, "owner", None)
        self.unlocked = False
        if owner is not None and self.array.base is owner:
            return owner  # the leaf's own writable array: no flag to flip
        if not self.array.flags.writeable:  # a value set by hand: unlock it for the update
            self.array.flags.writeable = True
            self.unlocked = True
        return self.array

    def __exit__(self, *exc: object) -> None:
        if self.unlocked:
            self.array.flags.writeable = False
        self.tensor.modified_at = next(CREATION_ORDER)


def escape_message(tensor: Tensor, how: str) -> str:
    """Why a traced value may not become a plain one, and the three ways out."""
    return (
        f"{how} was asked for the value of a traced Tensor (shape {tensor.shape}, {tensor.dtype}) while it "
        "is being differentiated; the plain value would leave the graph and its derivative would silently "
        "be zero.\n"
        "  to build an array from traced pieces, use np.stack([...]) / np.concatenate / np.where instead of "
        "np.array([...]) or assignment into np.zeros(...);\n"
        "  use np.exp / np.sin ... instead of math.exp / math.sin;\n"
        "  for a deliberate constant, take t.detach() or t.value (or compute it inside cm.no_grad())."
    )


def stale_leaf_message(leaf: Tensor) -> str:
    return (
        f"a leaf Tensor (shape {leaf.shape}{', ' + repr(leaf.name) if leaf.name else ''}) was changed in place "
        "(an optimizer step or copy_) after it was used to compute this output, so the recorded graph holds "
        "values that no longer exist and backward() would give a stale gradient.\n"
        "  recompute the output after the update (call backward() before optimizer.step())."
    )


def check_not_stale(leaf: Tensor, user_seq: int) -> None:
    """Raise StaleGraphError if ``leaf`` was modified in place after the op numbered ``user_seq`` used it."""
    if leaf.modified_at > user_seq:
        raise StaleGraphError(stale_leaf_message(leaf))
