"""Order statistics: sort, partition, unique and the quantile family (median, quantile, percentile and
their nan versions) — gathers through argsort, against PyTorch and finite differences."""

from __future__ import annotations

import warnings

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


def distinct(shape, seed=0):
    """Values at least 0.3 apart in random order: no ties, and no finite-difference step reorders them."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.4 - 0.2 * n + rng.uniform(-0.05, 0.05, size=n)).reshape(shape)


def axis_and_torch_dim(data, ndim):
    axis = data.draw(st.sampled_from([None] + list(range(-ndim, ndim))))
    return axis


# ---- sort and partition -------------------------------------------------------------------------
def test_sort_is_no_longer_a_silent_zero():
    """Regression: np.sort was classed piecewise constant, so its gradient was 0."""
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(cm.grad(lambda v: np.sum(np.sort(v) * np.array([1.0, 2.0, 3.0])))(x),
                                  [2.0, 1.0, 3.0])


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_sort_matches_torch_on_any_axis(shape, data):
    x = distinct(shape, seed=1)
    axis = axis_and_torch_dim(data, len(shape))
    f = lambda v: np.sort(v, axis=axis)  # noqa: E731
    f_torch = (lambda v: torch.sort(v.reshape(-1)).values) if axis is None else (lambda v: torch.sort(v, axis).values)
    assert_matches_torch(f, f_torch, x)
    assert_jvp_agrees_with_vjp(f, x)
    assert_grad_matches_finite_differences(as_scalar(f), x)


def test_sort_second_derivatives_and_ties():
    x = distinct((3, 4), seed=2)
    assert_second_derivatives(lambda v: np.sum(np.sin(np.sort(v, axis=0)) * np.arange(12.0).reshape(3, 4)), x)
    # tied values: each sorted position takes its gradient from one of the copies, so the total is kept
    tied = np.array([1.0, 3.0, 1.0, 2.0])
    weights = np.array([10.0, 20.0, 30.0, 40.0])
    gradient = cm.grad(lambda v: np.sum(np.sort(v) * weights))(tied)
    assert sorted(gradient[[0, 2]]) == [10.0, 20.0]
    np.testing.assert_array_equal(gradient[[1, 3]], [40.0, 30.0])


def test_sort_refuses_structured_order():
    with pytest.raises(cm.OperationError, match="sort by one column with np.argsort"):
        np.sort(cm.Tensor(np.ones(3)), order="x")


@settings(max_examples=20, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=2, max_side=5), data=st.data())
def test_partition_puts_the_kth_order_statistic_in_place(shape, data):
    x = distinct(shape, seed=3)
    kth = data.draw(st.integers(0, shape[-1] - 1))
    f = lambda v: np.partition(v, kth)[..., kth]  # noqa: E731
    assert_matches_torch(f, lambda v: torch.sort(v).values[..., kth], x)
    assert_jvp_agrees_with_vjp(lambda v: np.partition(v, kth), x)


# ---- unique -------------------------------------------------------------------------------------
def test_unique_of_distinct_values_is_sort():
    x = distinct((3, 2), seed=4)
    assert_matches_torch(np.unique, lambda v: torch.sort(v.reshape(-1)).values, x)
    assert_jvp_agrees_with_vjp(np.unique, x)
    assert_second_derivatives(lambda v: np.sum(np.unique(v) ** 3), x)


def test_unique_splits_the_gradient_of_a_repeated_value_evenly():
    """u_k is the mean of its c_k copies: each gets 1/c_k. Moving all copies together by ε moves u_k by
    ε, which is the one derivative every convention must agree on (sum-to-all-copies would give c_k·ε)."""
    x = np.array([2.0, 1.0, 2.0, 3.0, 2.0, 1.0])
    weights = np.array([10.0, 20.0, 30.0])  # for the unique values 1, 2, 3
    f = lambda v: np.sum(np.unique(v) * weights)  # noqa: E731
    gradient = cm.grad(f)(x)
    np.testing.assert_allclose(gradient, [20 / 3, 5, 20 / 3, 30, 20 / 3, 5])
    for value, weight in zip([1.0, 2.0, 3.0], weights):
        copies = (x == value).astype(float)
        h = 1e-6
        numeric = (f(x + h * copies) - f(x - h * copies)) / (2 * h)
        np.testing.assert_allclose(numeric, weight, rtol=1e-8)
        np.testing.assert_allclose(gradient @ copies, weight)
    _, tangent = cm.jvp(lambda v: np.unique(v), (x,), (np.arange(6.0),))
    np.testing.assert_allclose(tangent, [(1 + 5) / 2, (0 + 2 + 4) / 3, 3])


def test_unique_returns_numpys_indices_inverse_and_counts():
    x = np.array([[2.0, 1.0], [2.0, 3.0]])
    values, index, inverse, counts = np.unique(cm.Tensor(x, requires_grad=True), return_index=True,
                                               return_inverse=True, return_counts=True)
    expected = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.value, expected[0])
    for ours, theirs in zip((index, inverse, counts), expected[1:]):
        assert isinstance(ours, np.ndarray)
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", ["unique_all", "unique_counts", "unique_inverse", "unique_values"])
def test_numpy_2_unique_functions(name):
    function = getattr(np, name)
    x = np.array([[2.0, 1.0, 2.0], [3.0, 2.0, 1.0]])
    ours, theirs = function(cm.Tensor(x, requires_grad=True)), function(x)
    values = ours if name == "unique_values" else ours.values
    np.testing.assert_array_equal(values.value, theirs if name == "unique_values" else theirs.values)
    if name != "unique_values":
        assert type(ours) is type(theirs)
        for field in theirs._fields[1:]:
            np.testing.assert_array_equal(getattr(ours, field), getattr(theirs, field))
    pick = (lambda r: r) if name == "unique_values" else (lambda r: r.values)
    gradient = cm.grad(lambda v: np.sum(pick(function(v)) * np.array([1.0, 2.0, 3.0])))(x)
    np.testing.assert_allclose(gradient, [[2 / 3, 1 / 2, 2 / 3], [3, 2 / 3, 1 / 2]])


def test_unique_rows_along_an_axis():
    x = np.array([[1.0, 2.0], [0.5, 4.0], [1.0, 2.0]])
    f = lambda v: np.unique(v, axis=0)  # noqa: E731
    np.testing.assert_array_equal(f(cm.Tensor(x)).value, f(x))
    gradient = cm.grad(lambda v: np.sum(f(v) * np.array([[1.0, 2.0], [3.0, 4.0]])))(x)
    np.testing.assert_allclose(gradient, [[1.5, 2.0], [1.0, 2.0], [1.5, 2.0]])
    assert_jvp_agrees_with_vjp(f, x)


# ---- quantiles ----------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_quantile_matches_torch(shape, data):
    x = distinct(shape, seed=5)
    axis = data.draw(st.sampled_from([None] + list(range(len(shape)))))
    keepdims = data.draw(st.booleans())
    method = data.draw(st.sampled_from(["linear", "lower", "higher", "nearest", "midpoint"]))
    q = np.array(data.draw(st.lists(st.floats(0, 1), min_size=1, max_size=3)))
    q = q[0] if data.draw(st.booleans()) else q
    f = lambda v: np.quantile(v, q, axis=axis, method=method, keepdims=keepdims)  # noqa: E731

    def f_torch(v):
        flat = v.reshape(-1) if axis is None else v
        out = torch.quantile(flat, torch.tensor(q, dtype=torch.float64), dim=axis, keepdim=keepdims,
                             interpolation=method)
        return out.reshape(np.shape(f(x))) if axis is None else out

    assert_matches_torch(f, f_torch, x)
    assert_jvp_agrees_with_vjp(f, x)


def test_median_averages_the_two_middle_values():
    x = np.array([4.0, 1.0, 3.0, 2.0])
    np.testing.assert_allclose(cm.grad(np.median)(x), [0.0, 0.0, 0.5, 0.5])
    x = distinct((4, 5), seed=6)
    for axis in (None, 0, (0, 1), -1):
        assert_grad_matches_finite_differences(as_scalar(lambda v, axis=axis: np.median(v, axis=axis)), x)
        assert_second_derivatives(lambda v, axis=axis: np.sum(np.median(v, axis=axis) ** 3), x)


def test_quantile_and_percentile_are_differentiable_in_q():
    """∂/∂q of the linear quantile is (n − 1)(s_hi − s_lo): the slope of the sorted data at q(n − 1)."""
    x = distinct((7,), seed=7)
    s = np.sort(x)
    for q in (0.1, 0.5, 0.93):  # 0.5 · 6 = 3 is a knot: the slope to the right
        lo = int(np.floor(q * 6))
        np.testing.assert_allclose(cm.grad(lambda p: np.quantile(x, p))(q), 6 * (s[lo + 1] - s[lo]))
        np.testing.assert_allclose(cm.grad(lambda p: np.percentile(x, p))(100 * q), 6 * (s[lo + 1] - s[lo]) / 100)
    assert_jvp_agrees_with_vjp(lambda p: np.quantile(x, p), np.array([0.2, 0.7]))


def test_quantile_keeps_numpys_dtype():
    x = distinct((5,), seed=8).astype(np.float32)
    for q in (0.3, np.float32(0.3), [0.3]):
        expected = np.quantile(x, q).dtype
        assert np.quantile(cm.Tensor(x, requires_grad=True), q).dtype == expected


def with_nans(shape, seed):
    x = distinct(shape, seed)
    holes = np.random.default_rng(seed).uniform(size=shape) < 0.3
    holes[..., 0] = False
    return np.where(holes, np.nan, x)


@pytest.mark.parametrize("name", ["nanmedian", "nanquantile", "nanpercentile"])
def test_nan_quantiles_skip_nans_and_give_them_zero_gradient(name):
    x = with_nans((4, 6), seed=9)
    f = {"nanmedian": lambda v: np.nanmedian(v, axis=1),
         "nanquantile": lambda v: np.nanquantile(v, [0.25, 0.8], axis=1),
         "nanpercentile": lambda v: np.nanpercentile(v, [25, 80], axis=1)}[name]
    q = torch.tensor(0.5 if name == "nanmedian" else [0.25, 0.8], dtype=torch.float64)
    assert_matches_torch(f, lambda v: torch.nanquantile(v, q, dim=1), x)
    gradient = cm.grad(as_scalar(f))(x)
    assert np.all(gradient[np.isnan(x)] == 0)
    assert_jvp_agrees_with_vjp(f, x)


def test_quantiles_of_slices_with_nans_are_nan_with_zero_gradient():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 5.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(np.nanmedian(cm.Tensor(x), axis=1).value, np.nanmedian(x, axis=1))
        np.testing.assert_array_equal(np.median(cm.Tensor(x), axis=1).value, np.median(x, axis=1))
        gradient = cm.grad(lambda v: np.nansum(np.nanmedian(v, axis=1)))(x)
    np.testing.assert_array_equal(gradient, [[0.5, 0, 0.5], [0, 0, 0], [0, 0, 1]])
    gradient = cm.grad(lambda v: np.nansum(np.median(v, axis=1)))(x)
    np.testing.assert_array_equal(gradient, [[0, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_quantile_refuses_what_it_cannot_differentiate():
    t = cm.Tensor(np.arange(4.0), requires_grad=True)
    with pytest.raises(cm.OperationError, match="quantiles must lie in"):
        np.quantile(t, 1.5)
    with pytest.raises(cm.OperationError, match=r"quantile\(method='inverted_cdf'\) is not differentiable"):
        np.quantile(t, 0.5, method="inverted_cdf")
    with pytest.raises(cm.OperationError, match="weights="):
        np.quantile(t, 0.5, weights=np.ones(4))
