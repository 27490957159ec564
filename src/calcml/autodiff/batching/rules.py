"""Batching rules: how one recorded operation runs on a whole batch at once.

During the replay a batched value is a ``Batched``: its ``physical`` array has the batch axis in front,
``physical.shape == (B, *logical_shape)``. A rule receives the operation's arguments (Batched or
constants) and returns the physical result:

    elementwise      align ranks after the batch axis, then broadcast:   (B, 3) + (4, 3) → (B, 1, 3) + (4, 3)
    reductions       shift the axis by one:                              sum(x, axis=0) → sum(X, axis=1)
    shapes           the same, with the batch size in front:              reshape(x, (2, 3)) → reshape(X, (B, 2, 3))
    matmul           vectors as matrices, stacked:                        x @ W → X[:, None] @ W
    einsum           a fresh label for the batch axis:                    'k,j->jk' → 'Zk,Zj->Zjk'
    indexing         arange(B) in front of the index:                     z[y] → Z[arange(B), Y]

Each primitive carries its rule (``prim.defvmap(rule)``, declared at the end of this module); a broadcasting
primitive without one is elementwise. ``FUNCTION_RULES`` holds the rules of the NumPy functions that are not
primitives (``np.argmax``: recorded because its result differs per example). Anything else runs ``loop``:
once per example, stacked — slower, never wrong.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import calcml.autodiff.rules  # noqa: F401  (registers the primitives whose rules are declared below)
from calcml.autodiff.dispatch import plain
from calcml.autodiff.primitive import REGISTRY, Primitive
from calcml.autodiff.rules.shape import tile_layout
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms.arguments import stopped


class Batched:
    """A value with the batch axis in front (``physical.shape == (B, *logical_shape)``)."""

    __slots__ = ("physical",)

    def __init__(self, physical: Any):
        self.physical = physical

    @property
    def ndim(self) -> int:
        """The rank of one example."""
        return self.physical.ndim - 1


def logical_ndim(value: Any) -> int:
    """The rank of one example of ``value`` (a constant is the same for every example)."""
    if type(value) is Batched:
        return value.physical.ndim - 1
    if type(value) is np.ndarray or type(value) is Tensor:
        return value.ndim
    return np.ndim(value)


def has_batched(value: Any) -> bool:
    """True when ``value`` (or an item of a tuple or list) is Batched."""
    if type(value) is Batched:
        return True
    if isinstance(value, (tuple, list)):
        return any(has_batched(v) for v in value)
    return False


def _example(value: Any, b: int) -> Any:
    if type(value) is Batched:
        return value.physical[b]
    if isinstance(value, tuple):
        return tuple(_example(v, b) for v in value)
    if isinstance(value, list):
        return [_example(v, b) for v in value]
    return value


def _plain_option(value: Any) -> Any:
    """Options (where= masks) are not differentiated: plain values."""
    return value.value if type(value) is Tensor else value


def loop(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """The rule of last resort: once per example, stacked. Right for every operation."""
    kwargs_b = [{k: _plain_option(_example(v, b)) for k, v in kwargs.items()} for b in range(size)]
    return np.stack([fn(*_example(args, b), **kwargs_b[b]) for b in range(size)])


def _with_rank(x: Batched, rank: int) -> Any:
    """The physical array of ``x`` with 1-axes after the batch axis, so one example has ``rank`` axes."""
    physical = x.physical
    missing = rank - (physical.ndim - 1)
    if missing <= 0:
        return physical
    shape = physical.shape
    return physical.reshape(shape[:1] + (1,) * missing + shape[1:])


# ---- elementwise ---------------------------------------------------------------------------------------
def elementwise(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Broadcasting operations: give every batched argument the common rank, the batch axis in front."""
    rank = max(logical_ndim(a) for a in args)
    return fn(*[_with_rank(a, rank) if type(a) is Batched else a for a in args], **kwargs)


def leading_axes_pass(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Operations on their first argument entry by entry or on its last axes only, which any leading axes pass
    through (astype, round, zeros_like, digitize into fixed bins, im2col windows): applied to the batch as it is."""
    if type(args[0]) is not Batched or has_batched(args[1:]) or "shape" in kwargs:
        return loop(fn, args, kwargs, size)
    return fn(args[0].physical, *args[1:], **kwargs)


# ---- along an axis -------------------------------------------------------------------------------------
def shift_axis(axis: Any, ndim: int) -> Any:
    """A logical axis (or tuple, or None for all of an example's ``ndim`` axes) as a physical one.

    >>> shift_axis(0, 2), shift_axis(-1, 2), shift_axis(None, 2)
    (1, -1, (1, 2))
    """
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(shift_axis(a, ndim) for a in axis)
    return axis + 1 if axis >= 0 else axis


@functools.lru_cache(maxsize=512)
def _parameter(fn: Any, name: str) -> tuple[int, Any] | None:
    """Where parameter ``name`` of ``fn`` (a primitive's forward or a NumPy function) sits, and its default;
    looked up once per function (inspect is slow). None when ``fn`` has no such plain parameter."""
    try:
        parameters = list(inspect.signature(fn.forward if isinstance(fn, Primitive) else fn).parameters.values())
    except (TypeError, ValueError):
        return None
    for position, parameter in enumerate(parameters):
        if parameter.name == name and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            default = None if parameter.default is parameter.empty else parameter.default
            return (position if parameter.kind is parameter.POSITIONAL_OR_KEYWORD else len(parameters)), default
    return None


def axis_rule(parameter: str, none_means_all: bool = True) -> Callable:
    """Operations on the first argument along ``parameter`` (an axis or a tuple of axes). None means all of an
    example's axes (sum, flip), or with ``none_means_all=False`` the example flattened (cumsum, argmax)."""
    def rule(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
        if not args or type(args[0]) is not Batched or has_batched(args[1:]) or has_batched(tuple(kwargs.values())):
            return loop(fn, args, kwargs, size)
        found = _parameter(fn, parameter)
        if found is None:
            return loop(fn, args, kwargs, size)
        position, default = found
        axis = args[position] if position < len(args) else kwargs.get(parameter, default)
        physical = args[0].physical
        flattened = axis is None and not none_means_all
        if flattened:
            physical, shifted = np.reshape(physical, (size, -1)), 1
        else:
            shifted = shift_axis(axis, args[0].ndim)
        if position < len(args):
            out = fn(physical, *args[1:position], shifted, *args[position + 1:], **kwargs)
        else:
            out = fn(physical, *args[1:], **{**kwargs, parameter: shifted})
        if flattened and kwargs.get("keepdims"):  # argmax(x, keepdims=True): a 1 for each of the example's axes
            return np.reshape(out, (size,) + (1,) * args[0].ndim)
        return out
    return rule


# ---- shapes --------------------------------------------------------------------------------------------
def _fortran_reshape(physical: Any, shape: tuple) -> Any:
    """Each example reshaped in Fortran order: with the batch axis last, Fortran order keeps each example's
    entries in one block, in the order ``np.reshape(x, shape, order="F")`` reads them."""
    moved = np.reshape(np.moveaxis(physical, 0, -1), shape + (physical.shape[0],), order="F")
    return np.moveaxis(moved, -1, 0)


def reshape(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a, shape = args[0], args[1] if len(args) > 1 else kwargs.get("shape")
    order = args[2] if len(args) > 2 else kwargs.get("order", "C")
    if order not in ("C", "F") or has_batched(args[1:]):
        return loop(fn, args, kwargs, size)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order == "F":
        return _fortran_reshape(a.physical, shape)
    return a.physical.reshape((size,) + shape)


def ravel(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    order = kwargs.get("order", args[1] if len(args) > 1 else "C")
    if order == "F":
        return _fortran_reshape(args[0].physical, (-1,))
    if order != "C":
        return loop(fn, args, kwargs, size)
    return args[0].physical.reshape((size, -1))


def transpose(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a = args[0]
    axes = args[1] if len(args) > 1 else kwargs.get("axes")
    permutation = tuple(reversed(range(a.ndim))) if axes is None else tuple(ax % a.ndim for ax in axes)
    return np.transpose(a.physical, (0,) + tuple(p + 1 for p in permutation))


def expand_dims(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    axis = args[1] if len(args) > 1 else kwargs["axis"]
    ndim = args[0].ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    normal = tuple(a % ndim for a in axis) if isinstance(axis, (tuple, list)) else axis % ndim
    return np.expand_dims(args[0].physical, shift_axis(normal, ndim))


def squeeze(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a = args[0]
    axis = args[1] if len(args) > 1 else kwargs.get("axis")
    logical = a.physical.shape[1:]
    if axis is None:
        axis = tuple(i for i, n in enumerate(logical) if n == 1)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return np.squeeze(a.physical, tuple(ax % len(logical) + 1 for ax in axes))


def broadcast_to(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a = args[0]
    shape = tuple(args[1] if len(args) > 1 else kwargs["shape"])
    return np.broadcast_to(_with_rank(a, len(shape)), (size,) + shape)


# ---- joining, padding, tiling --------------------------------------------------------------------------
def every_example(value: Any, size: int) -> Any:
    """The physical batch of ``value``: its own when Batched, a constant repeated for every example."""
    return value.physical if type(value) is Batched else np.broadcast_to(value, (size,) + np.shape(value))


def concatenate(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Each example's pieces joined along the axis after the batch axis (axis=None: each example's pieces
    flattened first); a constant piece is repeated for every example."""
    axis = kwargs.get("axis", 0)
    pieces = [every_example(a, size) for a in args]
    if axis is None:
        return fn(*[np.reshape(p, (size, -1)) for p in pieces], axis=1)
    return fn(*pieces, axis=shift_axis(axis, 0))


def stack(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Each example's pieces stacked on a new axis, counted among the example's axes after the batch axis."""
    return fn(*[every_example(a, size) for a in args], axis=shift_axis(kwargs.get("axis", 0), 0))


def pad(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """No border on the batch axis: pad_width gets a (0, 0) pair in front."""
    array, widths = args[0], args[1] if len(args) > 1 else kwargs.get("pad_width")
    if type(array) is not Batched or has_batched(args[1:]) or has_batched(tuple(kwargs.values())):
        return loop(fn, args, kwargs, size)
    if np.shape(widths) != (array.ndim, 2):  # only the (before, after) pair per axis that np.pad's wrapper gives
        return loop(fn, args, kwargs, size)
    rest = {k: v for k, v in kwargs.items() if k != "pad_width"}
    return fn(array.physical, ((0, 0),) + tuple(tuple(pair) for pair in widths), *args[2:], **rest)


def tile(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """reps aligned with the example's axes as np.tile aligns them, and 1 copy along the batch axis."""
    array, reps = args[0], args[1] if len(args) > 1 else kwargs["reps"]
    if type(array) is not Batched or has_batched((reps,)):
        return loop(fn, args, kwargs, size)
    shape, reps = tile_layout(array.physical.shape[1:], reps)
    return fn(np.reshape(array.physical, (size,) + shape), (1,) + reps)


# ---- products ------------------------------------------------------------------------------------------
def matmul(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Vectors become matrices (and back), and the batched operands get the same number of stacked axes:
    x @ W for a batch of vectors x is a stack of B products (1, n) @ (n, m). (Not one (B, n) @ (n, m)
    product: for large ones BLAS starts threads, which on a busy machine cost milliseconds.)"""
    a, b = args
    squeezed = []
    if logical_ndim(a) == 1:  # a row vector, squeezed out again afterwards
        a = Batched(a.physical[:, None]) if type(a) is Batched else a[None]
        squeezed.append(-2)
    if logical_ndim(b) == 1:  # a column vector
        b = Batched(b.physical[..., None]) if type(b) is Batched else b[..., None]
        squeezed.append(-1)
    rank = max(logical_ndim(a), logical_ndim(b))
    out = fn(*[_with_rank(x, rank) if type(x) is Batched else x for x in (a, b)], **kwargs)
    return np.squeeze(out, tuple(squeezed)) if squeezed else out


def einsum(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """A fresh label for the batch axis, in front of every batched operand's labels and of the output's."""
    subscripts, operands = args[0], args[1:]
    if not isinstance(subscripts, str) or "->" not in subscripts:
        return loop(fn, args, kwargs, size)
    inputs, output = subscripts.replace(" ", "").split("->")
    label = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in subscripts)
    terms = [label + term if type(op) is Batched else term for term, op in zip(inputs.split(","), operands)]
    physical = [op.physical if type(op) is Batched else op for op in operands]
    return fn(",".join(terms) + "->" + label + output, *physical, **kwargs)


# ---- indexing ------------------------------------------------------------------------------------------
class PhysicalIndex(NamedTuple):
    """How one example's index reads the whole batch: ``index`` on the physical array gives NumPy's layout,
    and ``moved`` (source axes, destination axes) puts the picked axes where one example's result has them."""

    index: tuple
    moved: tuple | None


def _index_shape(part: Any) -> tuple | None:
    """The shape one example's advanced index entry broadcasts with; None for a slice."""
    if type(part) is Batched:
        return part.physical.shape[1:]
    return None if type(part) is slice else np.shape(part)


def _plain_entries(index: tuple) -> tuple | None:
    """The index with recorded indices as plain integer arrays and constant masks as the integer arrays they
    stand for (np.nonzero); None for what has no fixed shape per example (a recorded mask) or no rule here
    (None or Ellipsis beside advanced entries)."""
    parts = []
    for part in index:
        if type(part) is Batched:  # a recorded index of an enclosing vmap is read: that vmap runs per example
            physical = plain(part.physical)
            if physical.dtype == bool:
                return None
            parts.append(Batched(physical))
        elif isinstance(part, np.ndarray) and part.dtype == bool:
            parts.extend(np.nonzero(part))
        elif part is None or part is Ellipsis:
            return None
        else:
            parts.append(part)
    return tuple(parts)


def _physical_index(index: tuple, size: int, x_batched: bool = True) -> PhysicalIndex | None:
    """One example's index (Ellipsis written out) as an index of the physical batch.

    Advanced entries (integer arrays, and ints beside them) broadcast to a shape S; one example's result has
    S where they stand when they are adjacent, else in front. With x batched, ``arange(B)`` joins them in
    front, so NumPy puts (B, *S) first: S moves back after the slices before it. With only the index batched
    (``np.eye(C)[y]``), (B, *S) stands where S would, and B moves to the front. None when the index cannot be
    batched this way: the operation then runs once per example."""
    is_array = [type(p) is Batched or (isinstance(p, np.ndarray) and p.ndim > 0) for p in index]
    if not any(is_array):  # basic indexing (ints, slices, None): the batch axis is one more slice
        return PhysicalIndex((slice(None),) + index, None)
    parts = _plain_entries(index)
    if parts is None:
        return None
    shapes = [_index_shape(part) for part in parts]
    advanced = [i for i, shape in enumerate(shapes) if shape is not None]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    depth = max(len(shapes[i]) for i in advanced)
    parts = tuple(_with_rank(p, depth) if type(p) is Batched else p for p in parts)
    before = advanced[0]  # result axes ahead of S: the slices before the first advanced entry
    if not x_batched:  # (B, *S) where S stands
        return PhysicalIndex(parts, ((before,), (0,)) if adjacent and before else None)
    physical = (np.arange(size).reshape((size,) + (1,) * depth),) + parts
    if not adjacent or before == 0:  # NumPy's layout is one example's, with B in front
        return PhysicalIndex(physical, None)
    picked = tuple(range(1, 1 + depth))
    return PhysicalIndex(physical, (picked, tuple(range(1 + before, 1 + before + depth))))


def getitem(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    x, index = args
    physical = _physical_index(index, size, x_batched=type(x) is Batched)
    if physical is None:
        return loop(fn, args, kwargs, size)
    out = fn(x.physical if type(x) is Batched else x, physical.index, **kwargs)
    return out if physical.moved is None else np.moveaxis(out, *physical.moved)


def scatter_add(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """The transpose of getitem's rule: the values are put in NumPy's layout of the physical index, then added."""
    values, index, shape = args
    physical = _physical_index(index, size)
    if physical is None:
        return loop(fn, args, kwargs, size)
    values = every_example(values, size)
    if physical.moved is not None:
        values = np.moveaxis(values, physical.moved[1], physical.moved[0])
    return fn(values, physical.index, (size,) + tuple(shape), **kwargs)


# ---- checks ------------------------------------------------------------------------------------------
def refusal(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """A check (``rules.refusals``) on the whole batch: it refuses when any example is bad (vmap then runs example
    by example, which raises the same error for that example); the value gets the batch axis."""
    value, bad = args
    return fn(every_example(value, size), bad.physical if type(bad) is Batched else bad, **kwargs)


# ---- who has which rule --------------------------------------------------------------------------------
for _name, _rule in {
    "reshape": reshape, "ravel": ravel, "transpose": transpose, "expand_dims": expand_dims, "squeeze": squeeze,
    "broadcast_to": broadcast_to, "matmul": matmul, "einsum": einsum, "getitem": getitem,
    "scatter_add": scatter_add, "astype": leading_axes_pass, "copy": leading_axes_pass,
    "concatenate": concatenate, "stack": stack, "pad": pad, "tile": tile, "refusal": refusal,
    **dict.fromkeys(("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "softmax", "flip"),
                    axis_rule("axis")),
    **dict.fromkeys(("cumsum", "cumprod"), axis_rule("axis", none_means_all=False)),
}.items():
    REGISTRY[_name].defvmap(_rule)

FUNCTION_RULES: dict[Callable, Callable] = {
    np.argmax: axis_rule("axis", none_means_all=False), np.argmin: axis_rule("axis", none_means_all=False),
    np.any: axis_rule("axis"), np.all: axis_rule("axis"), np.count_nonzero: axis_rule("axis"),
    np.isclose: elementwise,
    **dict.fromkeys((np.round, np.around, np.fix, np.isposinf, np.isneginf, np.isreal, np.iscomplex, np.digitize,
                     np.isin), leading_axes_pass),
    **dict.fromkeys((np.zeros_like, np.ones_like, np.empty_like), leading_axes_pass),
    stopped: leading_axes_pass,
}


def rule_for(fn: Any) -> Callable:
    """The batching rule of a recorded operation (a primitive, a piecewise-constant ufunc or NumPy function)."""
    if isinstance(fn, Primitive):
        return fn.vmap_rule or (elementwise if fn.broadcasts else loop)
    if isinstance(fn, np.ufunc) and fn.nout == 1:
        return elementwise
    return FUNCTION_RULES.get(fn, loop)
