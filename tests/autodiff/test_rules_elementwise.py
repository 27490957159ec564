"""Elementwise primitives: gradients vs finite differences and PyTorch, JVP vs VJP, second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import calcml as cm
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
    random_array,
)

# name: (calcml/NumPy function, PyTorch function or None, domain of the input)
UNARY = {
    "negative": (np.negative, torch.neg, (-2, 2)),
    "abs": (np.abs, torch.abs, (0.1, 2)),
    "exp": (np.exp, torch.exp, (-2, 2)),
    "exp2": (np.exp2, torch.exp2, (-2, 2)),
    "expm1": (np.expm1, torch.expm1, (-2, 2)),
    "log": (np.log, torch.log, (0.2, 3)),
    "log2": (np.log2, torch.log2, (0.2, 3)),
    "log10": (np.log10, torch.log10, (0.2, 3)),
    "log1p": (np.log1p, torch.log1p, (-0.5, 3)),
    "sqrt": (np.sqrt, torch.sqrt, (0.2, 3)),
    "cbrt": (np.cbrt, None, (0.2, 3)),
    "square": (np.square, torch.square, (-2, 2)),
    "reciprocal": (np.reciprocal, torch.reciprocal, (0.3, 3)),
    "sin": (np.sin, torch.sin, (-3, 3)),
    "cos": (np.cos, torch.cos, (-3, 3)),
    "tan": (np.tan, torch.tan, (-1.2, 1.2)),
    "arcsin": (np.arcsin, torch.asin, (-0.9, 0.9)),
    "arccos": (np.arccos, torch.acos, (-0.9, 0.9)),
    "arctan": (np.arctan, torch.atan, (-3, 3)),
    "sinh": (np.sinh, torch.sinh, (-2, 2)),
    "cosh": (np.cosh, torch.cosh, (-2, 2)),
    "tanh": (np.tanh, torch.tanh, (-2, 2)),
    "arcsinh": (np.arcsinh, torch.asinh, (-2, 2)),
    "arccosh": (np.arccosh, torch.acosh, (1.2, 3)),
    "arctanh": (np.arctanh, torch.atanh, (-0.9, 0.9)),
    "clip": (lambda x: np.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), (-2, 2)),
    "softmax": (cm.softmax, lambda x: torch.softmax(x, -1), (-3, 3)),
    "logsumexp-axis": (lambda x: cm.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, -1), (-3, 3)),
}

BINARY = {
    "add": (np.add, torch.add, (-2, 2), (-2, 2)),
    "subtract": (np.subtract, torch.sub, (-2, 2), (-2, 2)),
    "multiply": (np.multiply, torch.mul, (-2, 2), (-2, 2)),
    "divide": (np.divide, torch.div, (-2, 2), (0.5, 2)),
    "power": (np.power, torch.pow, (0.3, 2), (-2, 2)),
    "maximum": (np.maximum, torch.maximum, (-2, 2), (-2, 2)),
    "minimum": (np.minimum, torch.minimum, (-2, 2), (-2, 2)),
    "arctan2": (np.arctan2, torch.atan2, (-2, 2), (0.5, 2)),
    "hypot": (np.hypot, torch.hypot, (0.5, 2), (0.5, 2)),
    "logaddexp": (np.logaddexp, torch.logaddexp, (-2, 2), (-2, 2)),
}

# Points where a piecewise rule has its kink are avoided: finite differences are meaningless there.
SMOOTH_SAMPLE = {"clip"}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient_matches_finite_differences_and_jvp(name):
    f, _, (low, high) = UNARY[name]
    x = random_array(np.random.default_rng(len(name)), (3, 4), low, high)
    if name in SMOOTH_SAMPLE:
        x = np.where((np.abs(x + 0.5) < 0.05) | (np.abs(x - 0.7) < 0.05), 0.0, x)
    assert_grad_matches_finite_differences(as_scalar(f), x)
    assert_jvp_agrees_with_vjp(f, x)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if UNARY[n][1] is not None))
def test_unary_matches_torch(name):
    f, f_torch, (low, high) = UNARY[name]
    x = random_array(np.random.default_rng(1 + len(name)), (2, 5), low, high)
    assert_matches_torch(f, f_torch, x)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if n not in {"abs", "clip", "negative"}))
def test_unary_second_derivative(name):
    f, _, (low, high) = UNARY[name]
    x = random_array(np.random.default_rng(2), (4,), low, high)
    assert_second_derivatives(as_scalar(f), x)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=8, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=st.integers(0, 99))
def test_binary_broadcasting_gradients(name, shapes, seed):
    f, f_torch, (lx, hx), (ly, hy) = BINARY[name]
    rng = np.random.default_rng(seed)
    x = random_array(rng, shapes.input_shapes[0], lx, hx)
    y = random_array(rng, shapes.input_shapes[1], ly, hy)
    if name in {"maximum", "minimum"}:  # keep the two apart: the kink at x = y has no finite difference
        y = np.where(np.abs(x - y) < 0.1, y + 0.3, y)
    assert_grad_matches_finite_differences(as_scalar(f), x, y)
    assert_jvp_agrees_with_vjp(f, x, y)
    assert_matches_torch(f, f_torch, x, y)


@pytest.mark.parametrize("name", sorted(set(BINARY) - {"maximum", "minimum"}))
def test_binary_second_derivatives(name):
    f, _, (lx, hx), (ly, hy) = BINARY[name]
    rng = np.random.default_rng(3)
    x, y = random_array(rng, (3,), lx, hx), random_array(rng, (3,), ly, hy)
    assert_second_derivatives(lambda x: np.sum(np.sin(f(x, y))), x)
    assert_second_derivatives(lambda y: np.sum(np.sin(f(x, y))), y)


def test_power_partials_at_zero_and_negative_bases_match_torch():
    x = np.array([-2.0, 0.0, 3.0, 0.0, 0.0, 0.0])
    y = np.array([2.0, 2.0, 0.5, 0.0, 1.0, 0.5])
    gx, gy = cm.grad(lambda x, y: np.sum(x ** y), argnums=(0, 1))(x, y)
    tx, ty = (torch.tensor(a, requires_grad=True) for a in (x, y))
    (tx ** ty).sum().backward()
    np.testing.assert_array_equal(gx, tx.grad.numpy())  # [−4, 0, ·, 0, 1, ∞]
    np.testing.assert_array_equal(gy, ty.grad.numpy())  # NaN for the negative base, 0 at x = 0, y ≥ 0


def test_relu_and_abs_follow_the_ml_convention_at_zero():
    x = np.array([-1.0, 0.0, 2.0])
    relu_grad = [0.0, 0.0, 1.0]
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(np.maximum(0, x)))(x), relu_grad)
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(np.maximum(x, 0.0)))(x), relu_grad)
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(np.abs(x)))(x), [-1.0, 0.0, 1.0])
    # two traced values that tie share the gradient, as torch.maximum does
    np.testing.assert_array_equal(cm.grad(lambda x: np.maximum(x, x * 1.0))(1.5), 1.0)


def test_where_routes_gradients_to_the_chosen_branch():
    x = np.array([-1.0, 2.0, 3.0])
    f = lambda x: np.sum(np.where(x > 0, x ** 2, np.sin(x)))
    np.testing.assert_allclose(cm.grad(f)(x), np.where(x > 0, 2 * x, np.cos(x)))
    assert_jvp_agrees_with_vjp(lambda x: np.where(x > 0, x ** 2, np.sin(x)), x)


@pytest.mark.parametrize("name", ["tanh", "exp", "log", "sqrt", "softmax"])
def test_float32_in_gives_float32_out(name):
    f, _, (low, high) = UNARY[name]
    x = random_array(np.random.default_rng(0), (3,), low, high).astype(np.float32)
    g = cm.grad(as_scalar(f))(x)
    assert g.dtype == np.float32
    _, tangent = cm.jvp(f, (x,), (np.ones_like(x),))
    assert tangent.dtype == np.float32


def test_logsumexp_and_softmax_do_not_overflow():
    x = np.array([1000.0, 1000.0, -np.inf])
    assert cm.logsumexp(x).item() == pytest.approx(1000.0 + np.log(2.0))
    np.testing.assert_allclose(cm.grad(lambda x: cm.logsumexp(x))(x), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(cm.softmax(np.array([-1e4, 0.0, 1e4])), [0.0, 0.0, 1.0])
    assert np.all(cm.grad(lambda x: cm.logsumexp(x))(np.array([-np.inf, -np.inf])) == 0.0)


def test_select_routes_gradients_to_the_first_true_branch():
    x = np.linspace(-1, 1, 5)
    f = lambda x: np.select([x < 0, x < 0.5], [x ** 2, 3 * x], default=np.sin(x))
    expected = np.select([x < 0, x < 0.5], [2 * x, 3 * np.ones_like(x)], default=np.cos(x))
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(f(x)))(x), expected)
    assert_jvp_agrees_with_vjp(f, x)
    relu = cm.symbolic.lambdify("relu(x)", ["x"])  # SymPy's Piecewise becomes np.select
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(relu(x)))(x), [0, 0, 0, 1, 1])
