"""Order statistics: sort, partition, unique, and the quantile family (median, quantile, percentile and
their nan-ignoring versions).

Sorting is a permutation chosen by the values: locally (where no two values tie) the permutation is
fixed, so sort(x) = x[σ] with σ = argsort(x) held constant, and ∂L/∂x = g scattered back through σ.
Every function here is written that way — the order is np.argsort of the Tensor itself, then the
entries are gathered with the engine's differentiable indexing — so reverse mode, forward mode and
higher orders all come from getitem's rules. Under cm.vmap the order is recorded per example (a
piecewise-constant result) and the gather takes it back, so the replay sorts every example by its own
values. A quantile is a linear interpolation between two gathered order statistics, so its gradient
reaches exactly those two elements.

np.unique's number of entries depends on the values: under cm.vmap it runs example by example.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.autodiff.dispatch import implements, plain, unwrapped
from calcml.autodiff.errors import OperationError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.axes import kept_shape, normalize_axes
from calcml.autodiff.rules.branching import plainly_none
from calcml.autodiff.rules.indexing import take_along_axis
from calcml.autodiff.rules.refusals import refused_where
from calcml.autodiff.tensor import Tensor


def _structured_order_error(op: str) -> OperationError:
    return OperationError(f"{op}(order=...) sorts structured arrays by field; calcml differentiates "
                          "plain float arrays: sort by one column with np.argsort and np.take_along_axis.")


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """np.sort as a gather:  sort(x) = x[σ], σ = argsort(x).  ∂L/∂x_σ(k) = g_k.

    Equal values keep their order (a stable sort), so of tied entries each gets the gradient of the
    position it was sorted to.
    """
    if order is not None:
        raise _structured_order_error("sort")
    if axis is None:
        a, axis = np.ravel(a), -1
    return take_along_axis(a, np.argsort(a, axis=axis, kind="stable"), axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition as a gather through np.argpartition (the k-th entries are those of np.sort)."""
    if order is not None:
        raise _structured_order_error("partition")
    if axis is None:
        a, axis = np.ravel(a), -1
    return take_along_axis(a, np.argpartition(a, kth, axis=axis), axis)


@primitive(formula=Formula("∂u_k/∂x_i = 1/c_k for each of the c_k copies i of u_k"))
def unique_values(x, first, groups, counts):
    """The distinct values of x along axis 0, read at their first occurrences: u_k = x[first_k].

    A value that occurs c_k times in x is the mean of its copies, and calcml differentiates it so:
    ∂u_k/∂x_i = 1/c_k for each copy i (groups_i = k). Moving all copies together by ε moves u_k by ε,
    as the derivative says; this is the even split PyTorch uses for the ties of amax. Where the
    values are distinct it is the plain gather.
    """
    return x[first]


def _spread_counts(counts, ndim):
    return np.reshape(counts, (-1,) + (1,) * (ndim - 1))


def _unique_values_jvp(t, ans, x, first, groups, counts):
    """u̇_k = mean of ẋ over the copies of u_k."""
    total = np.zeros((t.shape[0], len(counts)) + t.shape[2:], dtype=t.dtype)
    np.add.at(total, (slice(None), groups), t)
    return total / _spread_counts(counts, t.ndim - 1)


unique_values.defvjp(lambda g, ans, x, first, groups, counts:
                     g[groups] / _spread_counts(counts[groups], np.ndim(x)))
unique_values.defjvp(_unique_values_jvp)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):
    """np.unique on a Tensor: the values are differentiable (each copy of a repeated value receives
    1/count of its gradient, see ``unique_values``); index, inverse and counts are plain integers."""
    _, first, inverse, counts = np.unique(plain(ar), return_index=True, return_inverse=True,
                                          return_counts=True, axis=axis, equal_nan=equal_nan,
                                          sorted=sorted)
    along = np.ravel(ar) if axis is None else np.moveaxis(ar, axis, 0)
    values = unique_values(along, first, np.ravel(inverse), counts)
    if axis is not None:
        values = np.moveaxis(values, 0, axis)
    extras = [part for part, wanted in ((first, return_index), (inverse, return_inverse),
                                        (counts, return_counts)) if wanted]
    return (values, *extras) if extras else values


def _array_api_unique(numpy_function, fields):
    """np.unique_all / unique_counts / unique_inverse / unique_values (NumPy 2): NumPy's own result on
    the plain values, with the values replaced by the differentiable ``unique_values``."""

    def unique_function(x):
        found = np.unique_all(plain(x))
        values = unique_values(np.ravel(x), found.indices, np.ravel(found.inverse_indices), found.counts)
        if not fields:
            return values
        result = numpy_function(plain(x))
        return type(result)(values, *(getattr(found, field) for field in fields))

    return unique_function


implements(np.sort, sort)
implements(np.partition, partition)
implements(np.unique, unique)
implements(np.unique_all, _array_api_unique(np.unique_all, ("indices", "inverse_indices", "counts")))
implements(np.unique_counts, _array_api_unique(np.unique_counts, ("counts",)))
implements(np.unique_inverse, _array_api_unique(np.unique_inverse, ("inverse_indices",)))
implements(np.unique_values, _array_api_unique(np.unique_values, ()))


# ---- quantiles -----------------------------------------------------------------------------------
METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _bracket(position: Any, count: Any, n: int, method: str) -> tuple[Any, Any, Any]:
    """Sorted ranks lo ≤ hi around the virtual index ``position`` and the weight of hi (numpy's methods), among
    ``count`` (≤ n) entries. Integers made without casting a value, ⌊position⌋ by a search and the rest by
    comparisons, so that under cm.vmap a per-example position gives ranks recorded per example."""
    last = np.maximum(count - 1, 0)
    floor = np.searchsorted(np.arange(1, n), position, side="right")  # ⌊position⌋, clipped to [0, n − 1]
    lo = np.minimum(floor, last)
    hi = np.minimum(floor + (position > floor), last)  # ⌈position⌉
    if method == "lower":
        return lo, lo, 0.0
    if method == "higher":
        return hi, hi, 0.0
    if method == "nearest":  # round half to even, as NumPy does
        near = np.minimum(floor + (np.around(position) > floor), last)
        return near, near, 0.0
    if method == "midpoint":
        return lo, hi, 0.5
    # linear: hi = lo + 1 even at an integer position (weight 0 there), so that ∂/∂q is the slope of
    # the segment to the right (one-sided, as interp's at a knot) rather than 0; the weight is
    # position − lo, computed traced in the caller
    lo = np.minimum(floor, np.maximum(last - 1, 0))
    return lo, np.minimum(lo + 1, last), None


def _quantile(a, q, axis, keepdims, method, ignore_nan, op, percent=False):
    """Quantiles of ``a`` over ``axis``: result[q, ...] = s_lo + w·(s_hi − s_lo), where s is a sorted
    with NaNs last, lo/hi bracket the virtual index q·(n − 1), w is its distance from lo, and n counts the
    (non-NaN) entries.

    ∂result/∂s_lo = 1 − w, ∂result/∂s_hi = w, and for method='linear' ∂result/∂q = (n − 1)(s_hi − s_lo).
    ``percent``: q is given in percent. The result has NumPy's dtype, that of a and q together.
    """
    q_given = unwrapped(q)  # its dtype only: no value is read, so a traced q stays batched under cm.vmap
    dtype = np.result_type(unwrapped(a), q_given if isinstance(q_given, (int, float)) else np.asarray(q_given))
    if percent:
        q = np.divide(q, 100)
    if method not in METHODS:
        raise OperationError(f"{op}(method={method!r}) is not differentiable in calcml; use one of "
                             f"{', '.join(METHODS)} (the continuous, interpolating ones).")
    q = _checked_levels(q, op)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    rest = [d for d in range(len(shape)) if d not in axes]
    flat = np.reshape(np.transpose(a, rest + list(axes)), [shape[d] for d in rest] + [-1])
    missing = np.isnan(flat)
    n = np.shape(flat)[-1]
    count = np.sum(~missing, axis=-1, keepdims=True) if ignore_nan else np.full(np.shape(flat)[:-1] + (1,), n)
    order = np.argsort(flat, axis=-1, kind="stable")  # NaNs last
    q_flat = np.reshape(q, (-1,))
    position = q_flat * (np.astype(count, dtype) - 1)
    lo, hi, weight = _bracket(position, count, n, method)
    weight = position - lo.astype(dtype) if weight is None else weight
    if type(weight) is not Tensor:  # a constant (q is not traced): in NumPy's dtype, so float32 stays float32
        weight = np.asarray(weight, dtype)
    source = flat if plainly_none(missing) else np.where(missing, 0.0, flat)  # no NaN may meet a zero weight
    low = take_along_axis(source, np.take_along_axis(order, lo, -1), -1)
    high = take_along_axis(source, np.take_along_axis(order, hi, -1), -1)
    step = high - low
    result = np.where(weight >= 0.5, high - step * (1 - weight), low + step * weight)  # NumPy's lerp, exact at 1
    undefined = count == 0 if ignore_nan else np.any(missing, axis=-1, keepdims=True)
    if not plainly_none(undefined):  # NumPy's answer there is NaN, with no gradient
        result = np.where(undefined, np.nan, result)
    out_shape = kept_shape(shape, axis) if keepdims else tuple(shape[d] for d in rest)
    return np.reshape(np.moveaxis(result, -1, 0), np.shape(q) + out_shape)


def _checked_levels(q: Any, op: str) -> Any:
    """q, refused (OperationError naming ``op``) unless every level lies in [0, 1]. A level cm.vmap records per
    example is refused in the replay, for every example; vmap then runs the bad one alone, with this message."""
    levels = q if type(q) is Tensor else np.asarray(q, dtype=np.float64)
    bad = (levels < 0) | (levels > 1) | np.isnan(levels)
    if type(bad) is Tensor:
        return refused_where(q, bad, f"{op}: quantiles must lie in [0, 1] (percentiles in [0, 100]).")
    if bad.any():
        raise OperationError(f"{op}: quantiles must lie in [0, 1] (percentiles in [0, 100]); got "
                             f"{np.asarray(plain(q), dtype=np.float64)}.")
    return q


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             weights=None, interpolation=None):
    """np.quantile: differentiable in ``a`` (through the two order statistics it interpolates) and,
    for method='linear', in ``q``."""
    _no_weights("quantile", weights, interpolation)
    return _quantile(a, q, axis, keepdims, method, False, "quantile")


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                weights=None, interpolation=None):
    """np.nanquantile: NaNs are left out (their gradient is 0); an all-NaN slice gives NaN."""
    _no_weights("nanquantile", weights, interpolation)
    return _quantile(a, q, axis, keepdims, method, True, "nanquantile")


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None, interpolation=None):
    """np.percentile = np.quantile at q/100."""
    _no_weights("percentile", weights, interpolation)
    return _quantile(a, q, axis, keepdims, method, False, "percentile", percent=True)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                  weights=None, interpolation=None):
    """np.nanpercentile = np.nanquantile at q/100."""
    _no_weights("nanpercentile", weights, interpolation)
    return _quantile(a, q, axis, keepdims, method, True, "nanpercentile", percent=True)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """np.median: the 0.5 quantile, the mean of the two middle values when n is even (unlike
    torch.median, which returns the lower one)."""
    return _quantile(a, 0.5, axis, keepdims, "linear", False, "median")


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """np.nanmedian: the median of the non-NaN entries."""
    return _quantile(a, 0.5, axis, keepdims, "linear", True, "nanmedian")


def _no_weights(op: str, weights, interpolation) -> None:
    if weights is not None or interpolation is not None:
        raise OperationError(f"{op}: weights= (and the old interpolation=) are not differentiable in "
                             "calcml; pass method= and unweighted data.")


implements(np.quantile, quantile)
implements(np.nanquantile, nanquantile)
implements(np.percentile, percentile)
implements(np.nanpercentile, nanpercentile)
implements(np.median, median)
implements(np.nanmedian, nanmedian)
