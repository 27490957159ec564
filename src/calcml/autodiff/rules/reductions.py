"""Reductions: sum, mean, prod, max, min, var, std, cumsum, and the stable logsumexp and softmax.

A reduction's VJP spreads g back over the reduced axes (every input fed the output); its JVP reduces
the tangent the same way. Tangent axes are counted from the end, so the batch axis in front is untouched.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.dispatch import implements
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.axes import count_reduced, negative_axes, restore_reduced


@primitive(name="sum")
def sum_(x, axis=None, dtype=None, out=None, keepdims=False):
    """Σ over ``axis``.  ∂(Σ_j x_j)/∂x_i = 1, so every input receives the output's gradient."""
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


sum_.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False:
            restore_reduced(g, x.shape, axis, keepdims))
sum_.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, keepdims=False:
            np.sum(t, axis=negative_axes(axis, x.ndim), keepdims=keepdims))
implements(np.sum, sum_)


@primitive(name="mean")
def mean(x, axis=None, dtype=None, out=None, keepdims=False):
    """Average over ``axis``.  ∂ mean(x)/∂x_i = 1/n."""
    total = np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)
    return total / count_reduced(x.shape, axis)


mean.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False:
            restore_reduced(g, x.shape, axis, keepdims) / count_reduced(x.shape, axis))
mean.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, keepdims=False:
            np.mean(t, axis=negative_axes(axis, x.ndim), keepdims=keepdims))
implements(np.mean, mean)


def _product_of_others(x, axis):
    """∏_{j≠i} x_j along ``axis`` for every i, exact even when some x_j are 0 (no division)."""
    moved = np.moveaxis(x, axis, -1)
    n = moved.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1.0, moved[..., None, :])  # row i: x with x_i replaced by 1
    return np.moveaxis(np.prod(others, axis=-1), -1, axis)


def _prod_partial(ans, x, axis=None, keepdims=False):
    """∂(∏ x)/∂x_i = ∏_{j≠i} x_j  (= ans / x_i when no x_j is zero)."""
    full = restore_reduced(ans, x.shape, axis, keepdims)
    if not np.any(np.asarray(x == 0)):
        return full / x
    if axis is None:
        flat = _product_of_others(np.reshape(x, (-1,)), 0)
        return np.reshape(flat, x.shape)
    return _product_of_others(x, int(axis))


@primitive(name="prod")
def prod(x, axis=None, dtype=None, out=None, keepdims=False):
    """∏ over ``axis``.  ∂(∏_j x_j)/∂x_i = ∏_{j≠i} x_j."""
    return np.prod(x, axis=axis, dtype=dtype, keepdims=keepdims)


prod.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False:
            restore_reduced(g, x.shape, axis, keepdims) * _prod_partial(ans, x, axis, keepdims))
prod.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, keepdims=False:
            np.sum(t * _prod_partial(ans, x, axis, keepdims), axis=negative_axes(axis, x.ndim),
                   keepdims=keepdims))
implements(np.prod, prod)


def _winners(ans, x, axis, keepdims):
    """Where x attains its max (or min), weighted 1/k when k elements tie (PyTorch's amax convention)."""
    hits = x == restore_reduced(ans, x.shape, axis, keepdims)
    counts = np.sum(hits, axis=axis, keepdims=True)
    return (hits / counts).astype(x.dtype)  # a plain array: comparisons are not traced


def _extremum(name, numpy_function, description):
    @primitive(name=name)
    def extremum(x, axis=None, out=None, keepdims=False):
        return numpy_function(x, axis=axis, keepdims=keepdims)

    extremum.__doc__ = extremum.derivative = description
    extremum.defvjp(lambda g, ans, x, axis=None, out=None, keepdims=False:
                    restore_reduced(g, x.shape, axis, keepdims) * _winners(ans, x, axis, keepdims))
    extremum.defjvp(lambda t, ans, x, axis=None, out=None, keepdims=False:
                    np.sum(t * _winners(ans, x, axis, keepdims), axis=negative_axes(axis, x.ndim),
                           keepdims=keepdims))
    implements(numpy_function, extremum)
    return extremum


max_ = _extremum("max", np.max, "∂ max(x)/∂x_i = 1 at the maximum, shared 1/k among k ties")
min_ = _extremum("min", np.min, "∂ min(x)/∂x_i = 1 at the minimum, shared 1/k among k ties")
implements(np.amax, max_)
implements(np.amin, min_)


def _centered_scaled(x, axis, ddof):
    """(x − mean)/(n − ddof): ½ ∂var/∂x."""
    n = count_reduced(x.shape, axis)
    return (x - np.mean(x, axis=axis, keepdims=True)) / (n - ddof)


@primitive(name="var")
def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance Σ(x − x̄)²/(n − ddof).  ∂var/∂x_i = 2(x_i − x̄)/(n − ddof)."""
    return np.var(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)


var.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           2 * restore_reduced(g, x.shape, axis, keepdims) * _centered_scaled(x, axis, ddof))
var.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           np.sum(2 * t * _centered_scaled(x, axis, ddof), axis=negative_axes(axis, x.ndim),
                  keepdims=keepdims))
implements(np.var, var)


@primitive(name="std")
def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Standard deviation √var.  ∂std/∂x_i = (x_i − x̄)/((n − ddof)·std)."""
    return np.std(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)


std.defvjp(lambda g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           restore_reduced(g / ans, x.shape, axis, keepdims) * _centered_scaled(x, axis, ddof))
std.defjvp(lambda t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
           np.sum(t * _centered_scaled(x, axis, ddof), axis=negative_axes(axis, x.ndim),
                  keepdims=keepdims) / ans)
implements(np.std, std)


def _reverse_cumsum(g, axis):
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


@primitive(name="cumsum")
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


def _finite_or_zero(m):
    return np.where(np.isfinite(m), m, 0.0)


@primitive
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
                 np.sum(t * _softmax_of_logsumexp(ans, x, axis, keepdims),
                        axis=negative_axes(axis, x.ndim), keepdims=keepdims))


@primitive
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
               ans * (t - np.sum(t * ans, axis=negative_axes(axis, x.ndim), keepdims=True)))
