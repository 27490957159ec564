"""Indexing: ``x[index]`` for every kind of NumPy index, and its transpose, the scatter-add.

getitem picks entries; each picked entry passes its gradient back to where it came from, and an
entry picked twice receives both:  ∂L/∂x = scatter_add(g) with np.add.at semantics. The scatter-add
is a primitive of its own whose VJP is getitem again, so the two form a transpose pair and gradients
of gradients flow through indexing to any order.

np.take, np.take_along_axis and np.repeat are written as getitem with integer-array indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.autodiff.dispatch import implements, plain
from calcml.autodiff.errors import OperationError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import apply, primitive
from calcml.autodiff.tensor import Tensor


# ---- index bookkeeping --------------------------------------------------------------------------
def _index_part(part: Any) -> Any:
    """One entry of an index, as NumPy reads it: Tensors unwrapped (indices are not differentiable),
    lists and nested tuples turned into arrays."""
    if type(part) is Tensor:
        return plain(part)
    if isinstance(part, (list, tuple)):
        array = np.asarray(_plain_indices(part))
        return array.astype(np.intp) if array.size == 0 else array
    return part


def _plain_indices(parts: Any) -> Any:
    """Replace Tensors by their values inside (nested) lists of indices."""
    if type(parts) is Tensor:
        return plain(parts)
    if isinstance(parts, (list, tuple)):
        return [_plain_indices(p) for p in parts]
    return parts


def _dimensions_used(part: Any) -> int:
    """How many axes of x an index entry consumes: none for None and bool scalars, a mask's ndim."""
    if part is None or isinstance(part, (bool, np.bool_)):
        return 0
    if isinstance(part, np.ndarray) and part.dtype == bool:
        return part.ndim
    return 1


def normalize_index(index: Any, ndim: int) -> tuple:
    """``index`` as a tuple NumPy reads the same way, with the Ellipsis written out as slices.

    With no Ellipsis left, an index applied to an array with one more axis at the END leaves that
    axis alone, whatever the index does (even when NumPy moves advanced-index axes to the front).
    """
    parts = [_index_part(p) for p in (index if isinstance(index, tuple) else (index,))]
    ellipses = [i for i, p in enumerate(parts) if p is Ellipsis]
    if len(ellipses) == 1:  # several are NumPy's error, raised in the forward pass
        used = sum(_dimensions_used(p) for p in parts if p is not Ellipsis)
        parts[ellipses[0]:ellipses[0] + 1] = [slice(None)] * max(ndim - used, 0)
    return tuple(parts)


def _positions_are_distinct(index: tuple) -> bool:
    """True without integer arrays: ints, slices, None and boolean masks never pick an entry twice."""
    return not any(isinstance(p, np.ndarray) and p.dtype != bool and p.ndim > 0 for p in index)


def _batch_last(t: np.ndarray) -> np.ndarray:
    return np.moveaxis(t, 0, -1)


def _batch_first(t: np.ndarray) -> np.ndarray:
    return np.moveaxis(t, -1, 0)


# ---- the transpose pair: getitem and scatter_add ------------------------------------------------
@primitive(formula=Formula("∂L/∂x = scatter_add(g, index, x.shape): g added at the picked positions"))
def getitem(x, index):
    """x[index] (``index`` normalized by ``normalize_index``).  ∂L/∂x = scatter_add(g, index, x.shape):
    zeros, with g added at the picked positions (repeated positions accumulate)."""
    return x[index]


@primitive(formula=Formula("∂L/∂values = g[index]"))
def scatter_add(values, index, shape):
    """zeros(shape) with ``values`` added at ``index`` (np.add.at: repeated positions accumulate).

    ∂L/∂values = g[index]. ``index`` has no Ellipsis (as ``normalize_index`` writes it), so the JVP
    can put the batch axis last.
    """
    out = np.zeros(shape, dtype=np.result_type(values, np.float32))
    index = tuple(p.value if type(p) is Tensor else p for p in index)  # cm.vmap's per-example indices (recorded)
    if _positions_are_distinct(index):
        out[index] = values  # nothing is picked twice: plain assignment, much faster than np.add.at
    else:
        np.add.at(out, index, values)
    return out


def _scatter(g, index, shape):
    """scatter_add on a plain gradient (fast path) or a traced one (higher derivatives)."""
    if type(g) is Tensor:
        return apply(scatter_add, (g, index, shape), {})
    return scatter_add.forward(g, index, shape)


getitem.defvjp(lambda g, ans, x, index: _scatter(g, index, np.shape(x)))
# With the batch axis last, the index acts on x's axes only and the batch axis stays last.
getitem.defjvp(lambda t, ans, x, index: _batch_first(_batch_last(t)[index]))

scatter_add.defvjp(lambda g, ans, values, index, shape: g[index])
scatter_add.defjvp(lambda t, ans, values, index, shape:
                   _batch_first(scatter_add.forward(_batch_last(t), index, tuple(shape) + t.shape[:1])))


def _tensor_getitem(self: Tensor, index: Any) -> Tensor:
    """``t[index]``: every NumPy index (ints, slices, ..., None, integer arrays, boolean masks)."""
    normalized = normalize_index(index, self.value.ndim)
    out = getitem(self, normalized)
    moved = _block_moved_to_front(index, normalized, self.value.ndim, np.ndim(out))
    if moved is None:
        return out
    start, size = moved
    return np.moveaxis(out, list(range(start, start + size)), list(range(size)))


def _is_advanced(part: Any) -> bool:
    return isinstance(part, (np.ndarray, list)) and np.ndim(part) > 0


def _advanced_positions(parts: tuple) -> list[int]:
    """Where NumPy's advanced indices are (integers count too once an array is present)."""
    if not any(_is_advanced(p) for p in parts):
        return []
    return [i for i, p in enumerate(parts) if _is_advanced(p) or isinstance(p, (int, np.integer))
            and not isinstance(p, (bool, np.bool_))]


def _block_moved_to_front(index: Any, normalized: tuple, ndim: int, out_ndim: int) -> tuple[int, int] | None:
    """NumPy puts the advanced-index dimensions first when the advanced indices are not next to each other.
    Writing an Ellipsis out as zero slices can bring them together (x[:, 0, ..., 0, [1]] on a 4-d x): then
    the block sits where the first advanced index was, and must move to the front. Returns (where it sits,
    how many dimensions) in that case, else None."""
    original = index if isinstance(index, tuple) else (index,)
    before, after = _advanced_positions(original), _advanced_positions(normalized)
    separated = bool(before) and before != list(range(before[0], before[-1] + 1))
    if not separated or after != list(range(after[0], after[-1] + 1)):
        return None
    start = sum(1 for p in normalized[:after[0]] if p is None or isinstance(p, slice))
    consumed = sum(_dimensions_used(p) for p in normalized)
    plain_dims = sum(1 for p in normalized if p is None or isinstance(p, slice)) + (ndim - consumed)
    return start, out_ndim - plain_dims


Tensor.__getitem__ = _tensor_getitem


# ---- take, take_along_axis, repeat: getitem with integer arrays ---------------------------------
def index_along(axis: int, ndim: int, indices: Any) -> tuple:
    """The index that applies ``indices`` to one axis and leaves the others whole."""
    return (slice(None),) * (axis % ndim) + (indices,)


def _as_index_array(indices: Any) -> np.ndarray:
    """Integer indices as an array; an array is used as it is: cm.vmap recognizes its own per-example one."""
    indices = _plain_indices(indices)
    return indices if isinstance(indices, np.ndarray) else np.asarray(indices)


def take(a, indices, axis=None, out=None, mode="raise"):
    """np.take: entries at ``indices`` along ``axis`` (of the flattened array when axis is None)."""
    if axis is None:
        a, axis = np.ravel(a), 0
    indices = _as_index_array(indices)
    length = np.shape(a)[axis]
    if mode == "wrap":
        indices = np.mod(indices, length)
    elif mode == "clip":
        indices = np.clip(indices, 0, length - 1)
    elif mode != "raise":
        raise OperationError(f"take: mode must be 'raise', 'wrap' or 'clip', not {mode!r}.")
    return getitem(a, index_along(axis, np.ndim(a), indices))


def take_along_axis(arr, indices, axis=-1):
    """np.take_along_axis (PyTorch's gather): out[..., i, ...] = arr[..., indices[..., i, ...], ...]."""
    indices = _as_index_array(indices)
    if axis is None:
        arr, axis = np.ravel(arr), 0
    shape = np.shape(arr)
    if indices.ndim != len(shape):
        raise OperationError(
            f"take_along_axis: indices (shape {indices.shape}) must have as many dimensions as the "
            f"array (shape {shape})."
        )
    axis = int(axis) % len(shape)
    index = tuple(
        indices if d == axis else np.arange(n).reshape((1,) * d + (n,) + (1,) * (len(shape) - d - 1))
        for d, n in enumerate(shape)
    )
    return getitem(arr, index)


def repeat(a, repeats, axis=None):
    """np.repeat: each entry repeated; the gradient of an entry is the sum over its copies."""
    if axis is None:
        a, axis = np.ravel(a), 0
    positions = np.repeat(np.arange(np.shape(a)[axis]), _plain_indices(repeats))
    return getitem(a, index_along(axis, np.ndim(a), positions))


implements(np.take, take)
implements(np.take_along_axis, take_along_axis)
implements(np.repeat, repeat)
