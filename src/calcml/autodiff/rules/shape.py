"""Shape primitives: reshape and its relatives, transpose (and every axis permutation), broadcast_to,
flip, tile, astype and copy; plus diagonal and diag expressed through indexing, and roll, rot90,
tril and triu written with indexing, flips, transposes and np.where.

These ops move entries around without changing them, so the Jacobian is a permutation (or a 0/1
selection) matrix and each VJP applies its transpose: undo the reshape, invert the permutation,
flip back, sum the tiles. The JVP applies the op itself to the tangent, with the batch axis in front
kept out of the way (axes shifted by one, or counted from the end).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calcml.autodiff.dispatch import implements
from calcml.autodiff.errors import OperationError, ShapeError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import Primitive, primitive
from calcml.autodiff.rules.axes import negative_axes
from calcml.autodiff.rules.indexing import scatter_add
from calcml.autodiff.tensor import Tensor


# ---- reshape-like: reshape, ravel, expand_dims, squeeze ------------------------------------------
# Each keeps the entries in order and only changes the shape, so they share one pair of rules.
def _restore_shape(g, ans, x, *args, order="C", **kwargs):
    """∂L/∂x = g read back in x's shape (same element order)."""
    return np.reshape(g, np.shape(x), order=order)


def _reshape_tangent(t, ans, x, *args, order="C", **kwargs):
    """ṫ_out = each tangent of the batch reshaped like the value."""
    batch = t.shape[0]
    if order == "F":  # batch axis last, so Fortran order keeps each direction in one block
        moved = np.reshape(np.moveaxis(t, 0, -1), ans.shape + (batch,), order="F")
        return np.moveaxis(moved, -1, 0)
    return np.reshape(t, (batch,) + ans.shape)


def _reshape_like(forward) -> Primitive:
    prim = primitive(forward, formula=Formula("∂L/∂x = reshape(g, x.shape)"))
    prim.defvjp(_restore_shape)
    prim.defjvp(_reshape_tangent)
    return prim


@_reshape_like
def reshape(a, shape, order="C"):
    """The same entries in a new shape.  ∂L/∂x = reshape(∂L/∂out, x.shape).

    >>> np.reshape(cm.Tensor(np.arange(6.0)), (2, -1)).shape
    (2, 3)
    """
    return np.reshape(a, shape, order=order)


@_reshape_like
def ravel(a, order="C"):
    """The entries as one row.  ∂L/∂x = reshape(∂L/∂out, x.shape)."""
    return np.ravel(a, order=order)


@_reshape_like
def expand_dims(a, axis):
    """Insert axes of length 1.  ∂L/∂x = reshape(∂L/∂out, x.shape)."""
    return np.expand_dims(a, axis)


@_reshape_like
def squeeze(a, axis=None):
    """Drop axes of length 1.  ∂L/∂x = reshape(∂L/∂out, x.shape)."""
    return np.squeeze(a, axis=axis)


def _memory_order(a, order: str, op: str) -> str:
    """'C' or 'F': NumPy's 'A' and 'K' follow the memory layout, which is fixed here once."""
    if order in ("C", "F"):
        return order
    value = a.value if type(a) is Tensor else np.asarray(a)
    fortran = value.flags.f_contiguous and not value.flags.c_contiguous
    if order == "A" or value.flags.c_contiguous or fortran:
        return "F" if fortran else "C"
    raise OperationError(
        f"{op}(order={order!r}) follows the memory layout, and this array (shape {value.shape}) is "
        "neither C- nor Fortran-contiguous.\n  pass order='C' or order='F' explicitly."
    )


def _reshape_target(shape: tuple[int, ...], target: Any) -> tuple[int, ...]:
    """``target`` with its -1 resolved; a ShapeError naming both shapes when they cannot match."""
    wanted = (int(target),) if np.ndim(target) == 0 else tuple(int(n) for n in target)
    size = math.prod(shape)
    known = math.prod(n for n in wanted if n != -1)
    unknown = wanted.count(-1)
    fits = all(n >= -1 for n in wanted) and unknown <= 1
    if fits and unknown:
        fits = known > 0 and size % known == 0
        wanted = tuple(size // known if n == -1 else n for n in wanted) if fits else wanted
    elif fits:
        fits = known == size
    if not fits:
        raise ShapeError(
            f"reshape: cannot reshape an array of shape {shape} ({size} elements) into shape "
            f"{tuple(wanted)}.\n  the number of elements must stay the same; at most one dimension "
            "may be -1 (inferred)."
        )
    return wanted


def _numpy_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """np.reshape on a Tensor (``newshape=`` is the spelling of NumPy before 2.4)."""
    target = shape if shape is not None else newshape
    if target is None:
        raise TypeError("reshape needs the new shape: np.reshape(t, (2, 3)).")
    return reshape(a, _reshape_target(np.shape(a), target), order=_memory_order(a, order, "reshape"))


def _numpy_ravel(a, order="C"):
    return ravel(a, order=_memory_order(a, order, "ravel"))


implements(np.reshape, _numpy_reshape)
implements(np.ravel, _numpy_ravel)
implements(np.expand_dims, expand_dims)
implements(np.squeeze, squeeze)


def _at_least(numpy_function):
    """np.atleast_1d/2d/3d: a reshape of each Tensor that has too few dimensions."""

    def at_least(*arys):
        out = []
        for a in arys:
            if type(a) is Tensor:
                shape = np.shape(numpy_function(a.value))
                out.append(a if shape == a.shape else reshape(a, shape))
            else:
                out.append(numpy_function(a))
        return out[0] if len(out) == 1 else tuple(out)

    return at_least


atleast_1d = _at_least(np.atleast_1d)
atleast_2d = _at_least(np.atleast_2d)
atleast_3d = _at_least(np.atleast_3d)
implements(np.atleast_1d, atleast_1d)
implements(np.atleast_2d, atleast_2d)
implements(np.atleast_3d, atleast_3d)


# ---- axis permutations: transpose, swapaxes, moveaxis ---------------------------------------------
def _permutation(ndim: int, axes) -> tuple[int, ...]:
    return tuple(range(ndim))[::-1] if axes is None else tuple(int(a) % ndim for a in axes)


@primitive(formula=Formula("∂L/∂x = transpose(g, p⁻¹)"))
def transpose(a, axes=None):
    """Permute the axes: out[i_p0, i_p1, ...] = x[i_0, i_1, ...].  ∂L/∂x = transpose(g, p⁻¹)."""
    return np.transpose(a, axes)


transpose.defvjp(lambda g, ans, a, axes=None:
                 np.transpose(g, np.argsort(_permutation(np.ndim(a), axes)).tolist()))
transpose.defjvp(lambda t, ans, a, axes=None:
                 np.transpose(t, (0,) + tuple(p + 1 for p in _permutation(np.ndim(a), axes))))
implements(np.transpose, transpose)  # np.permute_dims is the same function


def _numpy_swapaxes(a, axis1, axis2):
    """np.swapaxes as the transposition of two axes."""
    ndim = np.ndim(a)
    axes = list(range(ndim))
    i, j = int(axis1) % ndim, int(axis2) % ndim
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(a, tuple(axes))


def _numpy_moveaxis(a, source, destination):
    """np.moveaxis as a permutation (the same construction as NumPy's)."""
    ndim = np.ndim(a)
    source = [int(s) % ndim for s in np.atleast_1d(source)]
    destination = [int(d) % ndim for d in np.atleast_1d(destination)]
    if len(source) != len(destination) or len(set(source)) < len(source):
        raise ShapeError(
            f"moveaxis: source {source} and destination {destination} must be the same number of "
            f"distinct axes of an array with {ndim} dimensions."
        )
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return transpose(a, tuple(order))


implements(np.swapaxes, _numpy_swapaxes)
implements(np.moveaxis, _numpy_moveaxis)
implements(np.matrix_transpose, lambda x: _numpy_swapaxes(x, -1, -2))


# ---- broadcast_to ------------------------------------------------------------------------------
@primitive(broadcasts=True, formula=Formula("∂L/∂x = g summed over the repeated axes", partials=("1",)))
def broadcast_to(array, shape, subok=False):
    """Repeat x along new or length-1 axes.  ∂L/∂x = g summed over them (the engine's unbroadcast)."""
    return np.broadcast_to(array, shape)


broadcast_to.defvjp(lambda g, ans, array, shape, subok=False: g)
broadcast_to.defjvp(lambda t, ans, array, shape, subok=False: t)  # aligned, then broadcast by the engine
implements(np.broadcast_to, broadcast_to)


def _numpy_broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return tuple(np.broadcast_to(a, shape) for a in args)


implements(np.broadcast_arrays, _numpy_broadcast_arrays)


# ---- flip and tile ------------------------------------------------------------------------------
@primitive(formula=Formula("∂L/∂x = flip(g, axis)"))
def flip(m, axis=None):
    """Reverse the order of entries along ``axis``.  ∂L/∂x = flip(g, axis)."""
    return np.flip(m, axis)


flip.defvjp(lambda g, ans, m, axis=None: np.flip(g, axis))
flip.defjvp(lambda t, ans, m, axis=None: np.flip(t, negative_axes(axis, np.ndim(m))))
implements(np.flip, flip)
implements(np.fliplr, lambda m: flip(m, 1))
implements(np.flipud, lambda m: flip(m, 0))


def tile_layout(shape: tuple[int, ...], reps) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """x's shape and reps padded with leading 1s to a common length, as np.tile aligns them."""
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    ndim = max(len(shape), len(reps))
    return (1,) * (ndim - len(shape)) + tuple(shape), (1,) * (ndim - len(reps)) + reps


@primitive(formula=Formula("∂L/∂x = Σ over the copies of g"))
def tile(A, reps):
    """Repeat the whole array ``reps`` times along each axis.  ∂L/∂x = Σ over the copies of g."""
    return np.tile(A, reps)


def _tile_vjp(g, ans, A, reps):
    """View g as (r₀, s₀, r₁, s₁, ...) — copy index, then position in the copy — and sum the copies."""
    shape, reps = tile_layout(np.shape(A), reps)
    interleaved = tuple(n for pair in zip(reps, shape, strict=True) for n in pair)
    summed = np.sum(np.reshape(g, interleaved), axis=tuple(range(0, 2 * len(shape), 2)))
    return np.reshape(summed, np.shape(A))


def _tile_jvp(t, ans, A, reps):
    shape, reps = tile_layout(np.shape(A), reps)
    return np.tile(np.reshape(t, t.shape[:1] + shape), (1,) + reps)


tile.defvjp(_tile_vjp)
tile.defjvp(_tile_jvp)
implements(np.tile, tile)


# ---- astype and copy ----------------------------------------------------------------------------
@primitive(formula=Formula("∂L/∂x = g cast back to x's dtype", partials=("1",)))
def astype(x, dtype, copy=True):
    """Cast to another floating dtype.  ∂L/∂x = g cast back to x's dtype (float32 stays float32)."""
    return x.astype(dtype, copy=copy)


astype.defvjp(lambda g, ans, x, dtype, copy=True: np.astype(g, x.dtype))
astype.defjvp(lambda t, ans, x, dtype, copy=True: t.astype(ans.dtype))


def _numpy_astype(x, dtype, /, *, copy=True, device=None):
    """np.astype on a Tensor. A cast to an integer or bool dtype is piecewise constant: its derivative
    is 0 wherever it exists, so the result is a plain array and the graph stops there."""
    if not np.issubdtype(np.dtype(dtype), np.inexact):
        return np.astype(x.value, dtype, copy=copy)
    return astype(x, dtype, copy=copy)


implements(np.astype, _numpy_astype)


@primitive(formula=Formula("d/dx copy(x) = 1", partials=("1",)))
def copy(a, order="K", subok=False):
    """A copy of the array.  ∂L/∂x = g."""
    return np.copy(a, order=order)


copy.defvjp(lambda g, ans, a, order="K", subok=False: g)
copy.defjvp(lambda t, ans, a, order="K", subok=False: t)
implements(np.copy, copy)


# ---- diagonals, through indexing ----------------------------------------------------------------
def _diagonal_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``offset``-th diagonal of a rows × cols matrix."""
    first_row, first_col = max(0, -offset), max(0, offset)
    steps = np.arange(max(0, min(rows - first_row, cols - first_col)))
    return steps + first_row, steps + first_col


def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """np.diagonal: the two axes moved last, then picked by index; the diagonal is the last axis.

    Its gradient is that of indexing: g scattered back onto the diagonal, zeros elsewhere.
    """
    shape = np.shape(a)
    if len(shape) < 2:
        raise ShapeError(f"diagonal needs an array with at least 2 dimensions, got shape {shape}.")
    axis1, axis2 = int(axis1) % len(shape), int(axis2) % len(shape)
    if axis1 == axis2:
        raise ShapeError(f"diagonal: axis1 and axis2 must differ (both are {axis1}).")
    rows, cols = _diagonal_positions(shape[axis1], shape[axis2], int(offset))
    return np.moveaxis(a, (axis1, axis2), (-2, -1))[..., rows, cols]


def diag(v, k: int = 0) -> Any:
    """np.diag: a 1-d v becomes a square matrix with v on its k-th diagonal (a scatter into zeros,
    whose VJP picks the diagonal back out); a 2-d v gives its k-th diagonal."""
    shape = np.shape(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ShapeError(f"diag takes a 1-d array (to build a matrix) or a 2-d one (to read its "
                         f"diagonal); got shape {shape}.")
    n = shape[0] + abs(int(k))
    return scatter_add(v, _diagonal_positions(n, n, int(k)), (n, n))


implements(np.diagonal, diagonal)
implements(np.diag, diag)


# ---- roll, rot90, tril/triu: gathers, flips and masks of the entries ------------------------------
def roll(a, shift, axis=None):
    """np.roll as a gather: out_i = x_{(i − s) mod n} along each rolled axis, so ∂L/∂x = roll(g, −s)."""
    if axis is None:
        return np.reshape(roll(np.ravel(a), shift, 0), np.shape(a))
    shape = np.shape(a)
    totals: dict[int, int] = {}
    for s, ax in zip(*np.broadcast_arrays(np.atleast_1d(shift), np.atleast_1d(axis)), strict=True):
        ax = int(ax) % len(shape)
        totals[ax] = totals.get(ax, 0) + int(s)
    for ax, s in totals.items():
        a = a[(slice(None),) * ax + ((np.arange(shape[ax]) - s) % max(shape[ax], 1),)]
    return a


def rot90(m, k=1, axes=(0, 1)):
    """np.rot90: a quarter turn in the plane of ``axes`` is a flip of one axis and a swap of the two
    (the same construction as NumPy's), so its gradient turns back."""
    ndim = np.ndim(m)
    first, second = (int(ax) % ndim for ax in axes)
    if len(axes) != 2 or first == second:
        raise ShapeError(f"rot90: axes must be two different axes of the array, got {axes!r}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return np.flip(np.flip(m, first), second)
    order = list(range(ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return np.transpose(np.flip(m, second), order)
    return np.flip(np.transpose(m, order), second)


def tril(m, k=0):
    """np.tril: the entries on and below the k-th diagonal, 0 above.  ∂L/∂x = tril(g)."""
    return np.where(np.tri(*np.shape(m)[-2:], k=k, dtype=bool), m, 0.0)


def triu(m, k=0):
    """np.triu: the entries on and above the k-th diagonal, 0 below.  ∂L/∂x = triu(g)."""
    return np.where(np.tri(*np.shape(m)[-2:], k=k - 1, dtype=bool), 0.0, m)


implements(np.roll, roll)
implements(np.rot90, rot90)
implements(np.tril, tril)
implements(np.triu, triu)
