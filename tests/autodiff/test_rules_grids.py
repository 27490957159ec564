"""Grids with traced ends (linspace, logspace, meshgrid), trapezoid and interp."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
)


@settings(max_examples=25, deadline=None)
@given(num=st.integers(0, 6), endpoint=st.booleans(), vector=st.booleans(), axis=st.sampled_from([0, -1]))
def test_linspace_values_and_derivatives_in_its_ends(num, endpoint, vector, axis):
    """x_k = start + k·(stop − start)/div:  ∂x_k/∂start = 1 − k/div, ∂x_k/∂stop = k/div."""
    rng = np.random.default_rng(num)
    start, stop = (rng.uniform(-2, 2, size=(2,) if vector else ()) for _ in range(2))
    f = lambda a, b: np.linspace(a, b, num, endpoint=endpoint, axis=axis)  # noqa: E731
    np.testing.assert_array_equal(f(cm.Tensor(start), cm.Tensor(stop)).value, f(start, stop))
    if num == 0:
        return
    div = num - 1 if endpoint else num
    k = np.arange(num) / max(div, 1)
    ones = np.ones(np.shape(start))
    _, d_start = cm.jvp(lambda a: f(a, stop), (start,), (ones,))
    _, d_stop = cm.jvp(lambda b: f(start, b), (stop,), (ones,))
    expected_start, expected_stop = (1 - k, k) if div > 0 else (np.ones(num), np.zeros(num))
    if vector:
        expected_start, expected_stop = (np.moveaxis(np.stack([e, e], axis=-1), 0, axis)
                                         for e in (expected_start, expected_stop))
    np.testing.assert_allclose(d_start, expected_start, atol=1e-15)
    np.testing.assert_allclose(d_stop, expected_stop, atol=1e-15)
    assert_jvp_agrees_with_vjp(f, start, stop)


def test_linspace_retstep_logspace_and_dtype():
    samples, step = np.linspace(cm.Tensor(1.0, requires_grad=True), 3.0, 5, retstep=True)
    np.testing.assert_allclose(step.value, 0.5)
    assert cm.grad(lambda b: np.linspace(0.0, b, 5, retstep=True)[1])(2.0) == 0.25
    assert_grad_matches_finite_differences(as_scalar(lambda a: np.logspace(a[0], a[1], 4, base=3.0)),
                                           np.array([0.2, 1.1]))
    assert np.linspace(cm.Tensor(np.float32(0)), np.float32(1), 4).dtype == np.float32
    with pytest.raises(cm.OperationError, match="non-negative"):
        np.linspace(cm.Tensor(0.0), 1.0, -1)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid_matches_torch(indexing, sparse):
    x, y = np.array([0.5, -1.0, 2.0]), np.array([0.3, 1.7])

    def f(a, b):
        grids = np.meshgrid(a, b, indexing=indexing, sparse=sparse)
        return np.stack(np.broadcast_arrays(*grids)) * np.stack(np.broadcast_arrays(*grids))[::-1]

    def f_torch(a, b):
        grids = torch.meshgrid(a, b, indexing=indexing)
        return torch.stack(grids) * torch.stack(grids).flip(0)

    assert_matches_torch(f, f_torch, x, y)
    assert_jvp_agrees_with_vjp(f, x, y)
    for plain, traced in zip(np.meshgrid(x, y, indexing=indexing, sparse=sparse),
                             np.meshgrid(cm.Tensor(x), y, indexing=indexing, sparse=sparse)):
        np.testing.assert_array_equal(traced.value if isinstance(traced, cm.Tensor) else traced, plain)


def test_meshgrid_of_three_vectors_is_a_surface_integral():
    """∫∫∫ over a traced box of f = x·y·z by the trapezoid rule: exact for this trilinear f."""
    def volume_integral(ends):
        x, y, z = (np.linspace(0.0, e, 4) for e in ends)
        X, Y, Z = np.meshgrid(x, y, z, indexing="ij")
        return np.trapezoid(np.trapezoid(np.trapezoid(X * Y * Z, x, axis=0), y, axis=0), z, axis=0)

    ends = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(volume_integral(ends), np.prod(ends ** 2) / 8)
    np.testing.assert_allclose(cm.grad(volume_integral)(ends), np.prod(ends ** 2) / 8 * 2 / ends)
    assert_second_derivatives(volume_integral, ends)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_trapezoid_matches_torch(shape, data):
    rng = np.random.default_rng(len(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    y = rng.uniform(-2, 2, size=shape)
    x = np.cumsum(rng.uniform(0.2, 1.0, size=shape[axis]))
    assert_matches_torch(lambda v: np.trapezoid(v, axis=axis), lambda v: torch.trapezoid(v, dim=axis), y)
    assert_matches_torch(lambda v: np.trapezoid(v, dx=0.3, axis=axis),
                         lambda v: torch.trapezoid(v, dx=0.3, dim=axis), y)
    assert_matches_torch(lambda v, p: np.trapezoid(v, p, axis=axis), lambda v, p: torch.trapezoid(v, p, dim=axis),
                         y, x)
    assert_jvp_agrees_with_vjp(lambda v, p: np.trapezoid(v, p, axis=axis), y, x)


def test_trapezoid_of_a_traced_grid_differentiates_the_integration_limit():
    """d/db ∫₀^b sin(t) dt ≈ sin(b) when the grid's end is traced."""
    integral = lambda b: np.trapezoid(np.sin(np.linspace(0.0, b, 2001)), np.linspace(0.0, b, 2001))  # noqa: E731
    np.testing.assert_allclose(cm.grad(integral)(1.3), np.sin(1.3), rtol=1e-6)


XP = np.array([-2.0, -0.5, 0.25, 1.0, 3.0])
FP = np.array([1.0, -1.0, 2.0, 0.5, 0.0])


def test_interp_value_and_slopes():
    x = np.array([-3.0, -1.2, -0.5, 0.1, 0.6, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(np.interp(cm.Tensor(x), XP, FP).value, np.interp(x, XP, FP))
    slopes = np.diff(FP) / np.diff(XP)
    expected = [0.0, slopes[0], slopes[1], slopes[1], slopes[2], slopes[3], 0.0, 0.0]  # right-hand at a knot
    _, tangent = cm.jvp(lambda v: np.interp(v, XP, FP), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(tangent, expected)
    np.testing.assert_allclose(cm.grad(lambda v: np.sum(np.interp(v, XP, FP)))(x), expected)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000))
def test_interp_is_differentiable_in_x_xp_and_fp(seed):
    rng = np.random.default_rng(seed)
    xp = np.cumsum(rng.uniform(0.5, 1.0, size=5)) - 2.0
    x = rng.uniform(xp[0] - 0.5, xp[-1] + 0.5, size=6)
    x = np.where(np.min(np.abs(x[:, None] - xp), axis=1) < 0.05, x + 0.1, x)  # away from the kinks
    fp = rng.uniform(-2, 2, size=5)
    f = lambda a, b, c: np.interp(a, b, c, left=-3.0, right=c[1])  # noqa: E731
    assert_grad_matches_finite_differences(as_scalar(f), x, xp, fp)
    assert_jvp_agrees_with_vjp(f, x, xp, fp)
    assert_second_derivatives(lambda v: np.sum(np.interp(v, xp, fp) ** 2), x)


def test_interp_refuses_period_and_bad_shapes():
    t = cm.Tensor(np.array([0.5]), requires_grad=True)
    with pytest.raises(cm.OperationError, match="period"):
        np.interp(t, XP, FP, period=2.0)
    with pytest.raises(cm.ShapeError, match="same nonzero length"):
        np.interp(t, XP, FP[:3])
