"""Reductions: sum, mean, prod, max, min, var, std, cumsum, logsumexp — every axis form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import calcml as cm
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
)


def torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


REDUCTIONS = {
    "sum": (lambda x, axis, keep: np.sum(x, axis=axis, keepdims=keep),
            lambda x, axis, keep: torch.sum(x, dim=torch_dims(axis, x.ndim), keepdim=keep)),
    "mean": (lambda x, axis, keep: np.mean(x, axis=axis, keepdims=keep),
             lambda x, axis, keep: torch.mean(x, dim=torch_dims(axis, x.ndim), keepdim=keep)),
    "max": (lambda x, axis, keep: np.max(x, axis=axis, keepdims=keep),
            lambda x, axis, keep: torch.amax(x, dim=torch_dims(axis, x.ndim), keepdim=keep)),
    "min": (lambda x, axis, keep: np.min(x, axis=axis, keepdims=keep),
            lambda x, axis, keep: torch.amin(x, dim=torch_dims(axis, x.ndim), keepdim=keep)),
    "var": (lambda x, axis, keep: np.var(x, axis=axis, keepdims=keep, ddof=1),
            lambda x, axis, keep: torch.var(x, dim=torch_dims(axis, x.ndim), keepdim=keep, correction=1)),
    "std": (lambda x, axis, keep: np.std(x, axis=axis, keepdims=keep),
            lambda x, axis, keep: torch.std(x, dim=torch_dims(axis, x.ndim), keepdim=keep, correction=0)),
    "logsumexp": (lambda x, axis, keep: cm.logsumexp(x, axis=axis, keepdims=keep),
                  lambda x, axis, keep: torch.logsumexp(x, dim=torch_dims(axis, x.ndim), keepdim=keep)),
}

AXES = [None, 0, 1, -1, (0, 2)]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_gradients(name, axis, keepdims):
    f, f_torch = REDUCTIONS[name]
    x = np.random.default_rng(5).uniform(-2, 2, size=(2, 3, 4))
    g = lambda x: f(x, axis, keepdims)
    assert_grad_matches_finite_differences(as_scalar(g), x)
    assert_jvp_agrees_with_vjp(g, x)
    assert_matches_torch(g, lambda x: f_torch(x, axis, keepdims), x)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp", "prod"])
def test_reduction_second_derivatives(name):
    f = REDUCTIONS[name][0] if name != "prod" else (lambda x, axis, keep: np.prod(x, axis=axis, keepdims=keep))
    x = np.random.default_rng(6).uniform(0.5, 2, size=(3, 4))
    assert_second_derivatives(lambda x: np.sum(np.sin(f(x, 1, False))), x)
    assert_second_derivatives(lambda x: np.sum(np.sin(f(x, None, False))), x)


@settings(max_examples=20, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_prod_gradient_is_exact_with_zeros(shape, data):
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=shape)
    flat_zero = data.draw(st.integers(0, x.size - 1))
    x.flat[flat_zero] = 0.0
    axis = data.draw(st.sampled_from([None] + list(range(len(shape)))))
    ours = cm.grad(as_scalar(lambda x: np.prod(x, axis=axis)))(x)
    xt = torch.tensor(x, requires_grad=True)
    out = torch.prod(xt) if axis is None else torch.prod(xt, dim=axis)
    weights = np.random.default_rng(7).standard_normal(tuple(out.shape))
    (out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_splits_ties_evenly_like_torch_amax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(np.max(x, axis=1)))(x), [[0, 0.5, 0.5], [1, 0, 0]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumsum(axis):
    x = np.random.default_rng(1).standard_normal((3, 4))
    f = lambda x: np.cumsum(x, axis=axis)
    assert_grad_matches_finite_differences(as_scalar(f), x)
    assert_jvp_agrees_with_vjp(f, x)
    torch_f = (lambda x: torch.cumsum(x.reshape(-1), 0)) if axis is None else (lambda x: torch.cumsum(x, axis))
    assert_matches_torch(f, torch_f, x)


def test_tensor_methods_reduce_like_ndarray():
    x = np.random.default_rng(2).standard_normal((3, 4))
    t = cm.Tensor(x, requires_grad=True)
    assert t.sum(axis=0).shape == (4,)
    np.testing.assert_allclose(t.mean().item(), x.mean())
    np.testing.assert_allclose(t.max(axis=1).value, x.max(axis=1))
    np.testing.assert_allclose(t.std().item(), x.std())
    np.testing.assert_allclose(t.exp().value, np.exp(x))
    assert t.value.shape == (3, 4)


# ---- NumPy 2 keyword arguments: where=, initial=, correction=, mean=, dtype= ----------------------
def torch_masked(x, mask, fill):
    return torch.where(torch.tensor(mask), x, fill)


def torch_prod(v, dims, keep):
    for d in sorted(dims, reverse=True):
        v = v.prod(d, keepdim=keep)
    return v


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_where_and_initial_match_torch(shape, data):
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 1.5, size=shape)
    mask = rng.uniform(size=shape) < 0.7
    axis = data.draw(st.sampled_from([None] + list(range(len(shape)))))
    keep = data.draw(st.booleans())
    dims = tuple(range(len(shape))) if axis is None else (axis,)
    f64 = torch.float64
    cases = [
        (lambda v: np.sum(v, axis=axis, keepdims=keep, where=mask, initial=0.25),
         lambda v: torch_masked(v, mask, 0.0).sum(dims, keepdim=keep) + 0.25),
        (lambda v: np.prod(v, axis=axis, keepdims=keep, where=mask, initial=2.0),
         lambda v: torch_prod(torch_masked(v, mask, 1.0), dims, keep) * 2.0),
        (lambda v: np.max(v, axis=axis, keepdims=keep, where=mask, initial=0.9),
         lambda v: torch.maximum(torch_masked(v, mask, 0.0).amax(dims, keepdim=keep), torch.tensor(0.9, dtype=f64))),
        (lambda v: np.min(v, axis=axis, keepdims=keep, initial=1.2),
         lambda v: torch.minimum(v.amin(dims, keepdim=keep), torch.tensor(1.2, dtype=f64))),
    ]
    for f, f_torch in cases:
        assert_matches_torch(f, f_torch, x)
        assert_jvp_agrees_with_vjp(f, x)
    if mask.reshape(-1, shape[-1]).any(axis=-1).all():  # no empty slice along the last axis
        f = lambda v: np.mean(v, axis=-1, where=mask, keepdims=keep)  # noqa: E731
        counts = torch.tensor(mask.sum(-1, keepdims=keep), dtype=f64)
        assert_matches_torch(f, lambda v: torch_masked(v, mask, 0.0).sum(-1, keepdim=keep) / counts, x)
        assert_jvp_agrees_with_vjp(f, x)
        assert_second_derivatives(lambda v: np.sum(np.sin(np.var(v, axis=-1, where=mask))), x)


def test_max_with_initial_that_wins_has_zero_gradient():
    x = np.array([[0.1, 0.3], [2.0, 0.5]])
    gradient = cm.grad(lambda v: np.sum(np.max(v, axis=1, initial=1.0)))(x)
    np.testing.assert_array_equal(gradient, [[0, 0], [1, 0]])


@pytest.mark.parametrize("correction", [0, 1, 2.5])
def test_var_and_std_correction_and_mean_keywords(correction):
    x = np.random.default_rng(4).uniform(-2, 2, size=(3, 5))
    assert_matches_torch(lambda v: np.var(v, axis=1, correction=correction),
                         lambda v: torch.var(v, dim=1, correction=correction), x)
    assert_matches_torch(lambda v: np.std(v, axis=0, correction=correction, keepdims=True),
                         lambda v: torch.std(v, dim=0, correction=correction, keepdim=True), x)
    # mean= given as a separate (traced) argument: ∂var/∂m = −2 Σ(x − m)/(n − ddof)
    f = lambda v, m: np.var(v, axis=1, mean=m, correction=correction)  # noqa: E731
    m = np.random.default_rng(5).uniform(-1, 1, size=(3, 1))
    assert_matches_torch(f, lambda v, m: ((v - m) ** 2).sum(1) / (5 - correction), x, m)
    assert_jvp_agrees_with_vjp(f, x, m)
    assert_second_derivatives(lambda v: np.sum(np.std(v, axis=1, mean=np.mean(v, axis=1, keepdims=True))), x)
    with pytest.raises(cm.OperationError, match="ddof= or correction="):
        np.var(cm.Tensor(x), ddof=1, correction=1)


def test_mean_dtype_keyword():
    x = np.random.default_rng(6).uniform(-2, 2, size=(3, 4)).astype(np.float32)
    out = np.mean(cm.Tensor(x, requires_grad=True), axis=0, dtype=np.float64)
    assert out.dtype == np.float64
    gradient = cm.grad(lambda v: np.sum(np.mean(v, axis=0, dtype=np.float64) ** 2))(x)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, np.broadcast_to(2 * x.astype(np.float64).mean(0) / 3, x.shape), rtol=1e-6)


# ---- cumprod, diff, cumulative_*, average, ptp ---------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_cumprod_is_exact_with_zeros_like_torch(shape, data):
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 1.5, size=shape)
    for flat in data.draw(st.lists(st.integers(0, x.size - 1), max_size=3)):
        x.flat[flat] = 0.0
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    f = lambda v: np.cumprod(v, axis=axis)  # noqa: E731
    f_torch = (lambda v: torch.cumprod(v.reshape(-1), 0)) if axis is None else (lambda v: torch.cumprod(v, axis))
    assert_matches_torch(f, f_torch, x)
    assert_jvp_agrees_with_vjp(f, x)


def test_cumprod_second_derivatives_with_and_without_zeros():
    x = np.array([[0.5, 1.5, -0.7, 1.1], [1.2, 0.0, 0.8, 0.0]])
    assert_second_derivatives(lambda v: np.sum(np.sin(np.cumprod(v, axis=1))), x)
    assert_second_derivatives(lambda v: np.sum(np.sin(np.cumprod(v))), x[:1])
    assert_grad_matches_finite_differences(as_scalar(lambda v: np.cumprod(v, axis=0)), x)


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), data=st.data())
def test_diff_matches_torch(shape, data):
    rng = np.random.default_rng(8)
    x = rng.uniform(-2, 2, size=shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = data.draw(st.integers(1, 3))
    edge_shape = tuple(1 if d == axis % len(shape) else side for d, side in enumerate(shape))
    edge = rng.uniform(-2, 2, size=edge_shape)
    f = lambda v, e: np.diff(v, n=n, axis=axis, prepend=e, append=0.5)  # noqa: E731
    def f_torch(v, e):
        return torch.diff(v, n=n, dim=axis, prepend=e, append=torch.full(edge_shape, 0.5, dtype=torch.float64))
    assert_matches_torch(f, f_torch, x, edge)
    assert_jvp_agrees_with_vjp(f, x, edge)


def test_diff_of_order_zero_is_the_array_and_negative_orders_are_refused():
    x = np.array([1.0, 4.0, 9.0])
    np.testing.assert_array_equal(np.diff(cm.Tensor(x), n=0, prepend=0.0).value, x)  # NumPy ignores prepend
    with pytest.raises(cm.OperationError, match="non-negative"):
        np.diff(cm.Tensor(x), n=-1)


def test_cumulative_sum_and_prod_with_include_initial():
    x = np.random.default_rng(9).uniform(0.5, 1.5, size=(2, 3))
    assert_matches_torch(lambda v: np.cumulative_sum(v, axis=1, include_initial=True),
                         lambda v: torch.cat([torch.zeros(2, 1, dtype=torch.float64), v.cumsum(1)], 1), x)
    assert_matches_torch(lambda v: np.cumulative_prod(v, axis=0, include_initial=True),
                         lambda v: torch.cat([torch.ones(1, 3, dtype=torch.float64), v.cumprod(0)], 0), x)
    assert_matches_torch(lambda v: np.cumulative_sum(v[0]), lambda v: v[0].cumsum(0), x)
    with pytest.raises(cm.ShapeError, match="axis is required"):
        np.cumulative_sum(cm.Tensor(x))


def test_average_with_traced_weights_and_returned():
    rng = np.random.default_rng(10)
    x, w = rng.uniform(-2, 2, size=(3, 4)), rng.uniform(0.5, 2, size=(3, 4))
    f = lambda v, u: np.average(v, axis=1, weights=u, keepdims=True)  # noqa: E731
    assert_matches_torch(f, lambda v, u: (v * u).sum(1, keepdim=True) / u.sum(1, keepdim=True), x, w)
    assert_jvp_agrees_with_vjp(f, x, w)
    assert_second_derivatives(lambda u: np.sum(np.sin(f(x, u))), w)
    w1 = rng.uniform(0.5, 2, size=3)
    avg, total = np.average(cm.Tensor(x, requires_grad=True), axis=0, weights=w1, returned=True)
    expected = np.average(x, axis=0, weights=w1, returned=True)
    np.testing.assert_allclose(avg.value, expected[0])
    np.testing.assert_allclose(np.asarray(total.value if isinstance(total, cm.Tensor) else total), expected[1])
    assert_grad_matches_finite_differences(lambda u: np.sum(np.average(x, axis=0, weights=u) ** 2), w1)
    plain_avg, count = np.average(cm.Tensor(x), axis=1, returned=True)
    np.testing.assert_array_equal(count, [4.0, 4.0, 4.0])
    with pytest.raises(cm.OperationError, match="weights sum to zero"):
        np.average(cm.Tensor(x), axis=1, weights=np.array([1.0, -1.0, 0.0, 0.0]))
    with pytest.raises(cm.ShapeError, match="do not fit"):
        np.average(cm.Tensor(x), weights=w1)


def test_ptp():
    x = np.random.default_rng(11).uniform(-2, 2, size=(3, 4))
    assert_matches_torch(lambda v: np.ptp(v, axis=1), lambda v: v.amax(1) - v.amin(1), x)


# ---- nan-reductions: NaNs are skipped and get gradient 0 ----------------------------------------
def with_nans(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=shape)
    holes = rng.uniform(size=shape) < 0.3
    holes[..., 0] = False
    return np.where(holes, np.nan, x)


def torch_clean(v, fill):
    return torch.where(torch.isnan(v), fill, v)


NAN_REDUCTIONS = {
    "nansum": (lambda v: np.nansum(v, axis=-1), lambda v: torch.nansum(v, -1)),
    "nanmean": (lambda v: np.nanmean(v, axis=-1, keepdims=True), lambda v: torch.nanmean(v, -1, keepdim=True)),
    "nanmax": (lambda v: np.nanmax(v, axis=-1), lambda v: torch_clean(v, -torch.inf).amax(-1)),
    "nanmin": (lambda v: np.nanmin(v, axis=0), lambda v: torch_clean(v, torch.inf).amin(0)),
    "nanprod": (lambda v: np.nanprod(v, axis=-1), lambda v: torch_clean(v, 1.0).prod(-1)),
    "nancumsum": (lambda v: np.nancumsum(v, axis=-1), lambda v: torch_clean(v, 0.0).cumsum(-1)),
    "nancumprod": (lambda v: np.nancumprod(v, axis=-1), lambda v: torch_clean(v, 1.0).cumprod(-1)),
    "nanvar": (lambda v: np.nanvar(v, axis=-1, ddof=1),
               lambda v: torch.stack([row[~torch.isnan(row)].var(correction=1) for row in v])),
    "nanstd": (lambda v: np.nanstd(v, axis=-1),
               lambda v: torch.stack([row[~torch.isnan(row)].std(correction=0) for row in v])),
}


@pytest.mark.parametrize("name", sorted(NAN_REDUCTIONS))
def test_nan_reductions_match_torch_with_zero_gradient_at_nans(name):
    f, f_torch = NAN_REDUCTIONS[name]
    x = with_nans((4, 5), seed=12)
    assert_matches_torch(f, f_torch, x)
    gradient = cm.grad(as_scalar(f))(x)
    assert np.all(gradient[np.isnan(x)] == 0) and np.all(np.isfinite(gradient))
    assert_jvp_agrees_with_vjp(f, x)
    _, tangent = cm.jvp(f, (x,), (np.where(np.isnan(x), 1.0, 0.0),))
    np.testing.assert_array_equal(tangent, 0.0)  # moving only the NaN entries changes nothing


def test_nan_reductions_of_all_nan_slices():
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    np.testing.assert_array_equal(np.nanmax(cm.Tensor(x), axis=1).value, [np.nan, 1.0])
    gradient = cm.grad(lambda v: np.nansum(np.nanmax(v, axis=1) + np.nansum(v, axis=1)))(x)
    np.testing.assert_array_equal(gradient, [[0, 0], [2, 0]])
