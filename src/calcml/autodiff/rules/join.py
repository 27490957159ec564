"""Joining and splitting: concatenate and stack (variadic primitives), pad (a constant border, or the
edge/reflect/symmetric/wrap modes as gathers); the split family as slices.

Joining places each input in its own block of the output, so each input's gradient is its block of g
(a slice for concatenate, one index for stack) and the tangents join like the values. Splitting is
the reverse: the pieces are getitem slices, so their gradients flow back through indexing.
hstack, vstack, dstack, column_stack and append are concatenate after a reshape.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from calcml.autodiff.dispatch import implements
from calcml.autodiff.errors import OperationError, ShapeError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.indexing import index_along
from calcml.autodiff.tensor import Tensor


def _full_tangents(tangents: list, arrays: tuple, dtype) -> list[np.ndarray]:
    """The tangent of every input, zeros for the inputs that carry none (constants)."""
    batch = next(t.shape[0] for t in tangents if t is not None)
    return [np.zeros((batch,) + np.shape(a), dtype=dtype) if t is None else t
            for t, a in zip(tangents, arrays, strict=True)]


# ---- concatenate --------------------------------------------------------------------------------
@primitive(formula=Formula("∂L/∂x_k = the block of g where x_k sits"))
def concatenate(*arrays, axis=0):
    """Join along an existing axis (all flattened first when axis is None).

    ∂L/∂x_k = the block of g where x_k sits:  g[..., offset_k : offset_k + n_k, ...].
    """
    return np.concatenate(arrays, axis=axis)


def _concatenate_vjp(argnum: int, g, ans, *arrays, axis=0):
    if axis is None:
        start = sum(np.size(a) for a in arrays[:argnum])
        return np.reshape(g[start:start + np.size(arrays[argnum])], np.shape(arrays[argnum]))
    axis = axis % np.ndim(ans)
    start = sum(np.shape(a)[axis] for a in arrays[:argnum])
    return g[index_along(axis, np.ndim(ans), slice(start, start + np.shape(arrays[argnum])[axis]))]


def _concatenate_jvp(tangents: list, ans, *arrays, axis=0):
    full = _full_tangents(tangents, arrays, ans.dtype)
    if axis is None:
        return np.concatenate([np.reshape(t, (t.shape[0], -1)) for t in full], axis=1)
    return np.concatenate(full, axis=axis % ans.ndim + 1)


concatenate.defvjp_argnum(_concatenate_vjp).defjvp_all(_concatenate_jvp)


def _numpy_concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """np.concatenate / np.concat on Tensors; ``dtype=`` is a cast of the result."""
    joined = concatenate(*arrays, axis=axis)
    return joined if dtype is None else np.astype(joined, dtype)


implements(np.concatenate, _numpy_concatenate)  # np.concat is the same function


# ---- stack --------------------------------------------------------------------------------------
@primitive(formula=Formula("∂L/∂x_k = g[..., k, ...] (index k on the new axis)"))
def stack(*arrays, axis=0):
    """Join along a new axis.  ∂L/∂x_k = g[..., k, ...] (index k on the new axis)."""
    return np.stack(arrays, axis=axis)


stack.defvjp_argnum(lambda argnum, g, ans, *arrays, axis=0: g[index_along(axis, np.ndim(ans), argnum)])
stack.defjvp_all(lambda tangents, ans, *arrays, axis=0: np.stack(
    _full_tangents(tangents, arrays, ans.dtype), axis=axis % ans.ndim + 1))


def _numpy_stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    stacked = stack(*arrays, axis=axis)
    return stacked if dtype is None else np.astype(stacked, dtype)


implements(np.stack, _numpy_stack)


# ---- the stacking shortcuts ---------------------------------------------------------------------
def _hstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [np.atleast_1d(a) for a in tup]
    return _numpy_concatenate(arrays, axis=0 if np.ndim(arrays[0]) == 1 else 1, dtype=dtype)


def _vstack(tup, *, dtype=None, casting="same_kind"):
    return _numpy_concatenate([np.atleast_2d(a) for a in tup], axis=0, dtype=dtype)


def _dstack(tup):
    return _numpy_concatenate([np.atleast_3d(a) for a in tup], axis=2)


def _column_stack(tup):
    """1-d (and 0-d) inputs become columns; 2-d ones are joined as they are."""
    return _numpy_concatenate([a if np.ndim(a) >= 2 else np.reshape(a, (-1, 1)) for a in tup], axis=1)


def _append(arr, values, axis=None):
    if axis is None:
        return concatenate(np.ravel(arr), np.ravel(values))
    return concatenate(arr, values, axis=axis)


implements(np.hstack, _hstack)
implements(np.vstack, _vstack)
implements(np.dstack, _dstack)
implements(np.column_stack, _column_stack)
implements(np.append, _append)


# ---- splitting: slices, so gradients flow through getitem ---------------------------------------
def _split_points(length: int, indices_or_sections: Any, equal: bool, op: str) -> list[int]:
    """Boundaries of the pieces along the axis, as np.split / np.array_split place them."""
    if np.ndim(indices_or_sections) > 0:
        return [0] + [int(i) for i in indices_or_sections] + [length]
    sections = int(indices_or_sections)
    if sections <= 0:
        raise ShapeError(f"{op}: the number of sections must be positive, not {sections}.")
    if equal and length % sections:
        raise ShapeError(
            f"{op}: an axis of length {length} cannot be split into {sections} equal parts.\n"
            "  use np.array_split for parts of unequal length, or give the split indices explicitly."
        )
    each, extra = divmod(length, sections)
    points = [0]
    for k in range(sections):
        points.append(points[-1] + each + (k < extra))
    return points


def _pieces(ary, indices_or_sections, axis: int, equal: bool, op: str) -> list:
    shape = np.shape(ary)
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(f"{op}: axis {axis} is out of range for an array of shape {shape}.")
    points = _split_points(shape[axis], indices_or_sections, equal, op)
    return [ary[index_along(axis, len(shape), slice(start, stop))] for start, stop in pairwise(points)]


def _split(ary, indices_or_sections, axis=0):
    return _pieces(ary, indices_or_sections, axis, True, "split")


def _array_split(ary, indices_or_sections, axis=0):
    return _pieces(ary, indices_or_sections, axis, False, "array_split")


def _split_on(axis_of_ndim, minimum_ndim: int, op: str):
    """hsplit / vsplit / dsplit: np.split along an axis chosen from the number of dimensions."""

    def split_on(ary, indices_or_sections):
        if np.ndim(ary) < minimum_ndim:
            raise ShapeError(f"{op} needs an array with at least {minimum_ndim} dimension(s); got shape "
                             f"{np.shape(ary)}.")
        return _pieces(ary, indices_or_sections, axis_of_ndim(np.ndim(ary)), True, op)

    return split_on


def _unstack(x, /, *, axis=0):
    return tuple(x[index_along(axis, np.ndim(x), k)] for k in range(np.shape(x)[axis]))


implements(np.split, _split)
implements(np.array_split, _array_split)
implements(np.hsplit, _split_on(lambda ndim: 1 if ndim > 1 else 0, 1, "hsplit"))
implements(np.vsplit, _split_on(lambda ndim: 0, 2, "vsplit"))
implements(np.dsplit, _split_on(lambda ndim: 2, 3, "dsplit"))
implements(np.unstack, _unstack)


# ---- pad ----------------------------------------------------------------------------------------
@primitive(formula=Formula("∂L/∂x = g with the border cut off"))
def pad(array, pad_width, constant_values=0):
    """Surround x with a constant (``pad_width``: one (before, after) pair per axis).

    ∂L/∂x = g with the border cut off:  g[b₀ : b₀ + n₀, b₁ : b₁ + n₁, ...].
    """
    return np.pad(array, pad_width, mode="constant", constant_values=constant_values)


def _pad_vjp(g, ans, array, pad_width, constant_values=0):
    inside = zip(pad_width, np.shape(array), strict=True)
    return g[tuple(slice(before, before + n) for (before, _), n in inside)]


pad.defvjp(_pad_vjp)
pad.defjvp(lambda t, ans, array, pad_width, constant_values=0: np.pad(t, ((0, 0),) + pad_width))


def _pad_widths(pad_width: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """One (before, after) pair per axis, read as np.pad reads ``pad_width``."""
    widths = np.asarray(pad_width)
    if widths.size == 2 and widths.shape != (2, 1):
        widths = widths.ravel()
    if widths.dtype.kind not in "iu" and widths.size:
        raise ShapeError(f"pad: pad_width must be integers, got {pad_width!r}.")
    try:
        pairs = np.broadcast_to(widths, (len(shape), 2))
    except ValueError:
        raise ShapeError(
            f"pad: pad_width {pad_width!r} does not fit an array of shape {shape}; give one "
            "(before, after) pair per axis, one pair for all axes, or one number."
        ) from None
    if np.any(pairs < 0):
        raise ShapeError(f"pad: pad_width cannot be negative, got {pad_width!r}.")
    return tuple((int(before), int(after)) for before, after in pairs)


GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


def _numpy_pad(array, pad_width, mode="constant", **kwargs):
    """np.pad on a Tensor.

    mode='constant': the border is ``constant_values`` (a plain value, per-axis pairs allowed, or a
    traced scalar c, whose gradient is the sum of g over the border). The modes 'edge', 'reflect',
    'symmetric' and 'wrap' copy entries of x outward, so they are gathers: the source of each output
    entry along an axis is np.pad(arange(n), mode=mode), and ∂L/∂x_i sums g over the copies of x_i.
    """
    shape = np.shape(array)
    widths = _pad_widths(pad_width, shape)
    options = set(kwargs)
    if mode == "constant" and options <= {"constant_values"}:
        fill = kwargs.get("constant_values", 0)
        if type(fill) is not Tensor:
            return pad(array, widths, fill)
        if np.ndim(fill) != 0:
            raise OperationError("pad: a traced constant_values must be one scalar; pad with 0 and add "
                                 "each border's value times a 0/1 mask of that border.")
        border = np.pad(np.zeros(shape, dtype=np.result_type(array)), widths, constant_values=1.0)
        return pad(array, widths, 0) + fill * border
    if mode in GATHER_MODES and options <= {"reflect_type"} and kwargs.get("reflect_type", "even") == "even":
        sources = [np.pad(np.arange(n), w, mode=mode) for n, w in zip(shape, widths, strict=True)]
        return array[np.ix_(*sources)] if sources else array
    raise OperationError(
        f"pad: mode={mode!r}{''.join(f', {k}={v!r}' for k, v in kwargs.items())} is not differentiable in "
        f"calcml; use mode='constant' (with constant_values) or one of {', '.join(GATHER_MODES)} "
        "(reflect_type='even').\n  other modes can be written with differentiable pieces, e.g. "
        "np.concatenate of the array with statistics of its edges."
    )


implements(np.pad, _numpy_pad)
