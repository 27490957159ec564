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
