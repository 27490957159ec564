"""Reductions: sum, mean, prod, max, min, var, std (with NumPy 2's where=, initial=, correction=, mean=),
running sums and products, diff, average, ptp, the nan-skipping reductions, and the stable logsumexp
and softmax.

A reduction's VJP spreads g back over the reduced axes (every input fed the output); its JVP reduces
the tangent the same way. Tangent axes are counted from the end, so the batch axis in front is untouched.
Entries a reduction leaves out (``where=False``, NaNs of the nan-functions) get gradient exactly 0.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.dispatch import implements
from calcml.autodiff.errors import OperationError, ShapeError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.axes import (
    count_reduced,
    kept_shape,
    negative_axes,
    normalize_axes,
    reduce_tangent,
    restore_reduced,
    with_kept_axes,
)
from calcml.autodiff.rules.branching import plainly_none
from calcml.autodiff.rules.indexing import index_along
from calcml.autodiff.rules.refusals import refused_where


def _masked(grad, where):
    """The gradient kept only at the entries the reduction included (``where=``)."""
    return grad if where is True else np.where(where, grad, 0.0)


def _reduce_options(initial, where) -> dict:
    """NumPy's ``initial=``/``where=`` as keyword arguments, only when they were given (None/True)."""
    options = {} if initial is None else {"initial": initial}
    if where is not True:
        options["where"] = where
    return options


@primitive(name="sum", formula=Formula("∂(Σ_j x_j)/∂x_i = 1"))
def sum_(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """Σ over ``axis`` (of the entries ``where`` allows).  ∂(Σ_j x_j)/∂x_i = 1, so every included
    input receives the output's gradient; ``initial`` is a constant."""
    if initial is None and where is True:
        return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims, **_reduce_options(initial, where))


sum_.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True:
            _masked(restore_reduced(g, x.shape, axis, keepdims), where))
sum_.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True:
            reduce_tangent(_masked(t, where), axis, x.ndim, keepdims))
implements(np.sum, sum_)


def _included(shape, axis, keepdims, where, dtype):
    """How many entries each output of a reduction over ``axis`` combines (an array of ``dtype`` when
    ``where`` leaves some out, so that float32 stays float32)."""
    if where is True:
        return count_reduced(shape, axis)
    return np.sum(np.broadcast_to(where, shape), axis=axis, keepdims=keepdims).astype(dtype)


@primitive(name="mean", formula=Formula("∂ mean(x)/∂x_i = 1/n"))
def mean(x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """Average over ``axis`` (of the entries ``where`` allows).  ∂ mean(x)/∂x_i = 1/n."""
    if where is True:
        total = np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)
        return total / count_reduced(x.shape, axis)
    return np.mean(x, axis=axis, dtype=dtype, keepdims=keepdims, where=where)


def _mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """∂L/∂x_i = g/n for the n entries each mean combines (0 where ``where`` leaves x_i out)."""
    if where is True:
        return restore_reduced(g / count_reduced(x.shape, axis), x.shape, axis, keepdims)
    return _masked(restore_reduced(g / _included(x.shape, axis, keepdims, where, x.dtype), x.shape, axis, keepdims),
                   where)


mean.defvjp(_mean_vjp)
mean.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True:
            reduce_tangent(_masked(t, where), axis, x.ndim, keepdims)
            / _included(x.shape, axis, keepdims, where, x.dtype))
implements(np.mean, mean)


def _product_of_others(x, axis):
    """∏_{j≠i} x_j over ``axis`` (an int, a tuple or None) for every i, exact even when some x_j are 0
    (no division): the reduced axes are merged into one last axis of length n, and row i of an n × n
    table holds x with x_i replaced by 1."""
    shape = np.shape(x)
    reduced = normalize_axes(axis, len(shape))
    order = [d for d in range(len(shape)) if d not in reduced] + list(reduced)
    moved = np.reshape(np.transpose(x, order), [shape[d] for d in order[:len(order) - len(reduced)]] + [-1])
    n = moved.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1.0, moved[..., None, :])
    products = np.reshape(np.prod(others, axis=-1), [shape[d] for d in order])
    return np.transpose(products, np.argsort(order).tolist())


def _prod_partial(ans, x, axis=None, keepdims=False, initial=None, where=True):
    """∂(c·∏ x)/∂x_i = c·∏_{j≠i} x_j (= ans / x_i when no x_j is zero), 0 where ``where`` leaves x_i out."""
    if where is not True:
        x = np.where(where, x, 1.0)
    if plainly_none(x == 0):
        partial = restore_reduced(ans, x.shape, axis, keepdims) / x
    else:
        partial = _product_of_others(x, axis) * (1.0 if initial is None else initial)
    return _masked(partial, where)


@primitive(name="prod", formula=Formula("∂(∏_j x_j)/∂x_i = ∏_{j≠i} x_j"))
def prod(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """∏ over ``axis`` (of the entries ``where`` allows, times ``initial``).  ∂(∏_j x_j)/∂x_i = ∏_{j≠i} x_j."""
    return np.prod(x, axis=axis, dtype=dtype, keepdims=keepdims, **_reduce_options(initial, where))


prod.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True:
            restore_reduced(g, x.shape, axis, keepdims) * _prod_partial(ans, x, axis, keepdims, initial, where))
prod.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True:
            reduce_tangent(t * _prod_partial(ans, x, axis, keepdims, initial, where), axis, x.ndim, keepdims))
implements(np.prod, prod)


def _winners(ans, x, axis, keepdims, where):
    """Where x attains its max (or min), weighted 1/k when k elements tie (PyTorch's amax convention);
    all 0 when ``initial`` won or ``where`` left the whole slice out."""
    hits = x == with_kept_axes(ans, x.shape, axis, keepdims)
    if where is not True:
        hits = hits & where
    counts = np.add.reduce(hits, axis=axis, keepdims=True)
    if plainly_none(counts > 1):  # no ties (the usual case): 1 where the max is, else 0
        return hits.astype(x.dtype)
    return (hits / np.maximum(counts, 1)).astype(x.dtype)


def _extremum(name, reduce, description):
    @primitive(name=name, formula=Formula(description))
    def extremum(x, axis=None, out=None, keepdims=False, initial=None, where=True):
        if initial is None and where is True:
            return reduce(x, axis=axis, keepdims=keepdims)
        return reduce(x, axis=axis, keepdims=keepdims, **_reduce_options(initial, where))

    extremum.__doc__ = description
    extremum.defvjp(lambda g, ans, x, axis=None, out=None, keepdims=False, initial=None, where=True:
                    with_kept_axes(g, x.shape, axis, keepdims) * _winners(ans, x, axis, keepdims, where))
    extremum.defjvp(lambda t, ans, x, axis=None, out=None, keepdims=False, initial=None, where=True:
                    reduce_tangent(t * _winners(ans, x, axis, keepdims, where), axis, x.ndim, keepdims))
    return extremum


max_ = _extremum("max", np.maximum.reduce, "∂ max(x)/∂x_i = 1 at the maximum, shared 1/k among k ties")
min_ = _extremum("min", np.minimum.reduce, "∂ min(x)/∂x_i = 1 at the minimum, shared 1/k among k ties")
for _numpy_function, _prim in [(np.max, max_), (np.amax, max_), (np.min, min_), (np.amin, min_)]:
    implements(_numpy_function, _prim)


def _centered_scaled(x, axis, ddof):
    """(x − mean)/(n − ddof): ½ ∂var/∂x."""
    n = count_reduced(x.shape, axis)
    return (x - np.mean(x, axis=axis, keepdims=True)) / (n - ddof)


@primitive(name="var", formula=Formula("∂var/∂x_i = 2(x_i − x̄)/(n − ddof)"))
def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance Σ(x − x̄)²/(n − ddof).  ∂var/∂x_i = 2(x_i − x̄)/(n − ddof)."""
    return np.var(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)


var.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           2 * restore_reduced(g, x.shape, axis, keepdims) * _centered_scaled(x, axis, ddof))
var.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           reduce_tangent(2 * t * _centered_scaled(x, axis, ddof), axis, x.ndim, keepdims))
@primitive(name="std", formula=Formula("∂std/∂x_i = (x_i − x̄)/((n − ddof)·std)"))
def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Standard deviation √var.  ∂std/∂x_i = (x_i − x̄)/((n − ddof)·std)."""
    return np.std(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)


std.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           restore_reduced(g / ans, x.shape, axis, keepdims) * _centered_scaled(x, axis, ddof))
std.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           reduce_tangent(t * _centered_scaled(x, axis, ddof), axis, x.ndim, keepdims) / ans)


def _variance(a, axis, ddof, keepdims, where, mean):
    """Σ_{where} (x − m)² / (n − ddof), written with traced ops: m is ``mean`` when given (then it is
    differentiated too: ∂var/∂m = −2 Σ(x − m)/(n − ddof)), else the mean of the included entries."""
    shape = np.shape(a)
    center = np.mean(a, axis=axis, keepdims=True, where=where) if mean is None else mean
    deviation = a - center if where is True else np.where(where, a - center, 0.0)
    return np.sum(deviation * deviation, axis=axis, keepdims=keepdims) / (
        _included(shape, axis, keepdims, where, np.result_type(a)) - ddof)


def _degrees_of_freedom(op, ddof, correction):
    if correction is None:
        return ddof
    if ddof != 0:
        raise OperationError(f"{op}: give ddof= or correction= (the same number), not both.")
    return correction


def _numpy_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
               correction=None):
    """np.var with NumPy 2's ``correction=`` (ddof's other name), ``mean=`` and ``where=``."""
    ddof = _degrees_of_freedom("var", ddof, correction)
    if where is True and mean is None:
        return var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return _variance(a, axis, ddof, keepdims, where, mean)


def _numpy_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
               correction=None):
    """np.std: √ of np.var, with the same keyword arguments."""
    ddof = _degrees_of_freedom("std", ddof, correction)
    if where is True and mean is None:
        return std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return np.sqrt(_variance(a, axis, ddof, keepdims, where, mean))


implements(np.var, _numpy_var)
implements(np.std, _numpy_std)


def _reverse_cumsum(g, axis):
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


@primitive(name="cumsum", formula=Formula("∂L/∂x_i = Σ_{k≥i} ∂L/∂s_k (a reversed running sum)"))
def cumsum(x, axis=None, dtype=None, out=None):
    """Running sum s_k = Σ_{i≤k} x_i.  ∂L/∂x_i = Σ_{k≥i} ∂L/∂s_k (a reversed running sum)."""
    return np.cumsum(x, axis=axis, dtype=dtype)


def _cumsum_vjp(g, ans, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(_reverse_cumsum(g, 0), x.shape)
    return _reverse_cumsum(g, axis)


def _cumsum_jvp(t, ans, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.cumsum(np.reshape(t, (t.shape[0], -1)), axis=1)
    return np.cumsum(t, axis=negative_axes(axis, x.ndim)[0])


cumsum.defvjp(_cumsum_vjp)
cumsum.defjvp(_cumsum_jvp)
implements(np.cumsum, cumsum)


def _running_products_of_others(x):
    """C[..., i, k] = ∏_{j≤k, j≠i} x_j for k ≥ i, else 0 (x's running axis last); no division, so exact
    when some x_j are 0."""
    n = x.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1.0, x[..., None, :])
    return np.where(np.triu(np.ones((n, n), dtype=bool)), np.cumprod(others, axis=-1), 0.0)


def _cumprod_vjp(g, ans, x, axis=None, dtype=None, out=None):
    """∂L/∂x_i = Σ_{k≥i} g_k ∏_{j≤k, j≠i} x_j  (= Σ_{k≥i} g_k p_k / x_i when no x_j is 0)."""
    if axis is None:
        return np.reshape(_cumprod_vjp(g, ans, np.ravel(x), 0), np.shape(x))
    if plainly_none(x == 0):
        return _reverse_cumsum(g * ans, axis) / x
    others = _running_products_of_others(np.moveaxis(x, axis, -1))
    return np.moveaxis(np.sum(others * np.moveaxis(g, axis, -1)[..., None, :], axis=-1), -1, axis)


def _cumprod_jvp(t, ans, x, axis=None, dtype=None, out=None):
    """ṗ_k = Σ_{i≤k} ṫ_i ∏_{j≤k, j≠i} x_j  (= p_k Σ_{i≤k} ṫ_i / x_i when no x_j is 0)."""
    if axis is None:
        t, x, axis = np.reshape(t, (t.shape[0], -1)), np.ravel(x), 0
    axis = negative_axes(axis, x.ndim)[0]
    if plainly_none(x == 0):
        return np.reshape(ans, (1,) + x.shape) * np.cumsum(t / x, axis=axis)
    others = _running_products_of_others(np.moveaxis(x, axis, -1))
    return np.moveaxis(np.sum(np.moveaxis(t, axis, -1)[..., :, None] * others, axis=-2), -1, axis)


@primitive(name="cumprod", formula=Formula("∂p_k/∂x_i = ∏_{j≤k, j≠i} x_j for i ≤ k"))
def cumprod(x, axis=None, dtype=None, out=None):
    """Running product p_k = ∏_{i≤k} x_i.  ∂p_k/∂x_i = ∏_{j≤k, j≠i} x_j for i ≤ k (exact at zeros,
    as PyTorch's torch.cumprod)."""
    return np.cumprod(x, axis=axis, dtype=dtype)


cumprod.defvjp(_cumprod_vjp)
cumprod.defjvp(_cumprod_jvp)
implements(np.cumprod, cumprod)


def _cumulative(running, identity):
    """np.cumulative_sum / cumulative_prod (NumPy 2): cumsum/cumprod that may start with the identity."""

    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if axis is None:
            if np.ndim(x) > 1:
                raise ShapeError(f"{running.__name__}: axis is required for an array of shape {np.shape(x)}.")
            axis = 0
        result = running(x, axis=axis, dtype=dtype)
        if not include_initial:
            return result
        start = np.full(kept_shape(np.shape(x), axis), identity, dtype=np.result_type(result))
        return np.concatenate([start, result], axis=axis)

    return cumulative


implements(np.cumulative_sum, _cumulative(np.cumsum, 0.0))
implements(np.cumulative_prod, _cumulative(np.cumprod, 1.0))


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """np.diff: n-th differences a[1:] − a[:-1] along ``axis`` (after joining ``prepend``/``append``,
    which may be traced). Each difference is linear: ∂(x_{k+1} − x_k) = ẋ_{k+1} − ẋ_k."""
    ndim, n = np.ndim(a), int(n)
    if n < 0:
        raise OperationError(f"diff: the order n must be non-negative, got {n}.")
    if n == 0:  # NumPy returns the array itself, without prepend/append
        return a
    if ndim == 0:
        raise ShapeError("diff needs an array with at least one dimension, got a 0-d one.")
    axis = int(axis) % ndim
    edge_shape = kept_shape(np.shape(a), axis)
    parts = [np.broadcast_to(e, edge_shape) if np.ndim(e) == 0 else e for e in (prepend, a, append)
             if e is not None]
    if len(parts) > 1:
        a = np.concatenate(parts, axis=axis)
    for _ in range(n):
        length = np.shape(a)[axis]
        a = a[index_along(axis, ndim, slice(1, length))] - a[index_along(axis, ndim, slice(0, length - 1))]
    return a


implements(np.diff, diff)


def _finite_or_zero(m):
    return np.where(np.isfinite(m), m, 0.0)


@primitive(formula=Formula("∂/∂x_i logsumexp(x) = softmax(x)_i"))
def logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x), computed as m + log Σ exp(x − m) with m = max x, so it never overflows.

    ∂/∂x_i logsumexp(x) = softmax(x)_i. Where every x_i is −inf the result is −inf and the gradient 0.

    >>> cm.logsumexp(np.array([1000.0, 1000.0]))      # log(2 e¹⁰⁰⁰), no overflow
    1000.6931471805599
    """
    x = np.asarray(x)
    m = _finite_or_zero(np.max(x, axis=axis, keepdims=True))
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_of_logsumexp(ans, x, axis, keepdims):
    """exp(x − logsumexp(x)), with the −inf case mapped to 0."""
    full = restore_reduced(ans, x.shape, axis, keepdims)
    return np.exp(x - _finite_or_zero(full))


logsumexp.defvjp(lambda g, ans, x, axis=None, keepdims=False:
                 restore_reduced(g, x.shape, axis, keepdims) * _softmax_of_logsumexp(ans, x, axis, keepdims))
logsumexp.defjvp(lambda t, ans, x, axis=None, keepdims=False:
                 reduce_tangent(t * _softmax_of_logsumexp(ans, x, axis, keepdims), axis, x.ndim, keepdims))


@primitive(formula=Formula("∂s_i/∂x_j = s_i(δ_ij − s_j), so ∂L/∂x = s ⊙ (g − ⟨g, s⟩)"))
def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i)/Σ_j exp(x_j), shifted by max x so it never overflows.

    ∂s_i/∂x_j = s_i(δ_ij − s_j), so the VJP is s ⊙ (g − ⟨g, s⟩).

    >>> cm.softmax(np.array([1.0, 2.0, 3.0]))
    array([0.09003057, 0.24472847, 0.66524096])
    """
    x = np.asarray(x)
    shifted = np.exp(x - _finite_or_zero(np.max(x, axis=axis, keepdims=True)))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


softmax.defvjp(lambda g, ans, x, axis=-1: ans * (g - np.sum(g * ans, axis=axis, keepdims=True)))
softmax.defjvp(lambda t, ans, x, axis=-1:
               ans * (t - reduce_tangent(t * ans, axis, x.ndim, keepdims=True)))


# ---- reductions that skip NaNs: the NaN entries are replaced by the operation's identity through
# np.where, so their gradient is exactly 0 (never 0·NaN) -----------------------------------------
def _without_nan(a, fill):
    """``a`` with its NaNs replaced by ``fill`` (traced), and the plain mask of where they were."""
    missing = np.isnan(a)
    return (a if plainly_none(missing) else np.where(missing, fill, a)), missing


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """np.nansum: Σ of the non-NaN entries.  ∂/∂x_i = 1, and 0 at a NaN."""
    return sum_(_without_nan(a, 0.0)[0], axis, dtype, None, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """np.nanprod: ∏ of the non-NaN entries (a NaN counts as 1, with gradient 0)."""
    return prod(_without_nan(a, 1.0)[0], axis, dtype, None, keepdims, initial, where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """np.nanmean: the mean of the non-NaN entries (NaN where there are none)."""
    clean, missing = _without_nan(a, 0.0)
    included = ~missing if where is True else ~missing & where
    return sum_(clean, axis, dtype, None, keepdims, None, where) / _included(np.shape(a), axis, keepdims, included,
                                                                             np.result_type(a))


def _nan_extremum(extremum, fill):
    def nan_extremum(a, axis=None, out=None, keepdims=False, initial=None, where=True):
        """np.nanmax / np.nanmin: the extremum of the non-NaN entries (NaN where there are none)."""
        clean, missing = _without_nan(a, fill)
        result = extremum(clean, axis, None, keepdims, initial, where)
        empty = np.all(missing, axis=axis, keepdims=keepdims)
        if initial is not None or plainly_none(empty):
            return result
        return np.where(empty, np.nan, result)

    return nan_extremum


def _nan_variance(op, root):
    def nan_variance(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
                     correction=None):
        """np.nanvar / np.nanstd: the variance (or its root) of the non-NaN entries."""
        clean, missing = _without_nan(a, 0.0)
        included = ~missing if where is True else ~missing & where
        result = _variance(clean, axis, _degrees_of_freedom(op, ddof, correction), keepdims, included, mean)
        return np.sqrt(result) if root else result

    return nan_variance


implements(np.nansum, nansum)
implements(np.nanprod, nanprod)
implements(np.nanmean, nanmean)
implements(np.nanmax, _nan_extremum(max_, -np.inf))
implements(np.nanmin, _nan_extremum(min_, np.inf))
implements(np.nanvar, _nan_variance("nanvar", root=False))
implements(np.nanstd, _nan_variance("nanstd", root=True))
implements(np.nancumsum, lambda a, axis=None, dtype=None, out=None: np.cumsum(_without_nan(a, 0.0)[0], axis, dtype))
implements(np.nancumprod, lambda a, axis=None, dtype=None, out=None:
           np.cumprod(_without_nan(a, 1.0)[0], axis, dtype))


# ---- weighted average and range -----------------------------------------------------------------
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """np.average: Σ w·x / Σ w over ``axis``; x and w (which may be traced) both get gradients:
    ∂avg/∂x_i = w_i / Σw,  ∂avg/∂w_i = (x_i − avg) / Σw.  ``returned=True`` adds Σw."""
    shape = np.shape(a)
    if weights is None:
        result = np.mean(a, axis=axis, keepdims=keepdims)
        total = np.full(np.shape(result), count_reduced(shape, axis), dtype=np.result_type(result))
        return (result, total) if returned else result
    if np.shape(weights) != shape:
        if axis is None or np.ndim(axis) != 0 or np.ndim(weights) != 1 or np.size(weights) != shape[axis]:
            raise ShapeError(
                f"average: weights of shape {np.shape(weights)} do not fit a of shape {shape} with "
                f"axis={axis!r}; give weights of a's shape, or 1-d weights as long as a's axis."
            )
        weights = np.reshape(weights, kept_shape(shape, tuple(d for d in range(len(shape)) if d != axis % len(shape))))
    weights = np.broadcast_to(weights, shape)
    total = np.sum(weights, axis=axis, keepdims=keepdims)
    total = refused_where(total, total == 0, "average: the weights sum to zero along the averaged axis, so they "
                          "cannot be normalized; check the weights (or use np.sum for an unnormalized total).")
    result = np.sum(a * weights, axis=axis, keepdims=keepdims) / total
    return (result, np.broadcast_to(total, np.shape(result))) if returned else result


def ptp(a, axis=None, out=None, keepdims=False):
    """np.ptp: max − min (their ties shared as in np.max and np.min)."""
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


implements(np.average, average)
implements(np.ptp, ptp)
