"""Convolution as a discrete integral, and filter gradients derived by hand against the engine."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

import calcml as cm
from calcml.apps import convolution as conv
from calcml.nn import convolve2d

RNG = np.random.default_rng(7)


# ---- the sums are convolutions ------------------------------------------------------------------
def test_convolve1d_is_numpys_convolution():
    f, g = RNG.standard_normal(17), RNG.standard_normal(5)
    np.testing.assert_allclose(conv.convolve1d(f, g), np.convolve(f, g), rtol=0, atol=1e-13)


def test_convolve2d_full_is_scipys_convolution_and_the_engines_with_a_flipped_kernel():
    f, g = RNG.standard_normal((9, 11)), RNG.standard_normal((3, 4))
    full = conv.convolve2d_full(f, g)
    np.testing.assert_allclose(full, scipy.signal.convolve2d(f, g, mode="full"), atol=1e-13)
    # deep learning's conv2d is a correlation: a true convolution is a correlation with the flipped kernel
    flipped = g[::-1, ::-1][None, None]
    engine = np.asarray(convolve2d(f[None, None], flipped, padding=(2, 3)))[0, 0]
    np.testing.assert_allclose(full, engine, atol=1e-13)


# ---- ... and quadrature rules of the continuous integral ----------------------------------------
def test_closed_form_of_gaussian_box_matches_a_fine_quadrature():
    tau = np.linspace(-1.0, 1.0, 20001)  # ∫_{t−a}^{t+a} N(τ) dτ by the trapezoidal rule, t = 0.3
    values = conv.gaussian(0.3 - tau, 0.5)
    trapezoid = float(np.sum((values[1:] + values[:-1]) / 2) * (tau[1] - tau[0]))
    assert conv.gaussian_box_exact(np.array([0.3]), 0.5, 1.0)[0] == pytest.approx(trapezoid, abs=1e-9)


@pytest.mark.parametrize("dims, hs", [(1, (0.2, 0.1, 0.05, 0.025, 0.0125)), (2, (0.2, 0.1, 0.05))])
def test_discrete_convolution_converges_to_the_integral_at_the_rule_order(dims, hs):
    study = conv.convergence_study(hs=hs, dims=dims)
    np.testing.assert_allclose(study.orders("trapezoid"), 2.0, atol=0.05)
    np.testing.assert_allclose(study.orders("riemann"), 1.0, atol=0.05)
    # within the grid's error: the trapezoid error is (h²/12)·|f'(t+a) − f'(t−a)| ≤ h²/6 · max|f'|
    max_slope = conv.gaussian(0.5, 0.5) / 0.5  # max |N'(t)| = N(σ)/σ
    assert np.all(study.errors["trapezoid"] <= study.h ** 2 / 6 * max_slope * dims)


def test_riemann_error_is_the_two_extra_half_edges():
    # Riemann − trapezoid = (h/2)·(f(t − a) + f(t + a)) exactly: the first-order term has a known constant
    h, sigma, a = 0.05, 0.5, 1.0
    trap, riem = conv.gaussian_box_1d(h, sigma, a), conv.gaussian_box_1d(h, sigma, a, edges="riemann")
    expected = h / 2 * (conv.gaussian(trap.t - a, sigma) + conv.gaussian(trap.t + a, sigma))
    np.testing.assert_allclose(riem.discrete - trap.discrete, expected, atol=1e-14)


def test_box_needs_a_half_width_on_the_grid():
    with pytest.raises(ValueError, match="multiple of h"):
        conv.box_samples(0.3, 1.0)


# ---- filter gradients by hand == the engine -----------------------------------------------------
@pytest.mark.parametrize("length, size, stride, padding", [(12, 3, 1, 0), (13, 4, 2, 1), (10, 5, 3, 2), (7, 7, 1, 3)])
def test_hand_derived_1d_gradients_equal_the_engines(length, size, stride, padding):
    x, w = RNG.standard_normal(length), RNG.standard_normal(size)
    count = (length + 2 * padding - size) // stride + 1
    g = RNG.standard_normal(count)  # L = Σ g ⊙ y, so ∂L/∂y = g

    def loss(x, w):
        return np.sum(g * conv.correlate1d(x, w, stride, padding))

    dx, dw = cm.grad(loss, argnums=(0, 1))(x, w)
    np.testing.assert_allclose(conv.filter_grad1d(x, g, size, stride, padding), dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.input_grad1d(g, w, length, stride, padding), dx, rtol=1e-12, atol=1e-12)


def test_1d_correlation_is_the_engines_conv2d_on_a_one_row_image():
    x, w = RNG.standard_normal(15), RNG.standard_normal(4)
    engine = np.asarray(convolve2d(x[None, None, None], w[None, None, None], stride=(1, 2), padding=(0, 1)))
    np.testing.assert_allclose(conv.correlate1d(x, w, stride=2, padding=1), engine.ravel(), atol=1e-14)


def test_1d_input_gradient_is_a_true_convolution_with_the_filter():
    g, w = RNG.standard_normal(9), RNG.standard_normal(4)
    np.testing.assert_allclose(conv.input_grad1d(g, w, 12), np.convolve(g, w), atol=1e-14)


@pytest.mark.parametrize("stride, padding, kernel", [(1, 0, (3, 3)), (2, 1, (3, 3)), ((2, 1), (0, 2), (2, 4)),
                                                     (3, 2, (5, 5))])
def test_hand_derived_2d_gradients_equal_the_engines(stride, padding, kernel):
    x = RNG.standard_normal((2, 3, 11, 10))
    w = RNG.standard_normal((4, 3, *kernel))
    b = RNG.standard_normal(4)
    out = np.asarray(convolve2d(x, w, b, stride, padding))
    g = RNG.standard_normal(out.shape)

    def loss(x, w, b):
        return np.sum(g * convolve2d(x, w, b, stride, padding))

    dx, dw, db = cm.grad(loss, argnums=(0, 1, 2))(x, w, b)
    np.testing.assert_allclose(conv.filter_grad2d(x, g, kernel, stride, padding), dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.input_grad2d(g, w, x.shape[2:], stride, padding), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g.sum(axis=(0, 2, 3)), db, rtol=1e-12)


def test_hand_derived_filter_gradient_is_not_the_flipped_one():
    # the comparison above tells a correlation (the right answer) from a convolution (flipped taps) only if
    # the filter gradient is not symmetric under the flip: it is not
    x = RNG.standard_normal((1, 1, 6, 6))
    g = RNG.standard_normal((1, 1, 4, 4))
    hand = conv.filter_grad2d(x, g, (3, 3))
    assert np.max(np.abs(hand - hand[..., ::-1, ::-1])) > 0.1


def test_correlate1d_rejects_a_filter_longer_than_the_signal():
    with pytest.raises(cm.ShapeError, match="does not fit"):
        conv.correlate1d(np.ones(3), np.ones(5))


def test_picture_is_written_and_reproducible(tmp_path):
    study = conv.convergence_study(hs=(0.2, 0.1, 0.05))
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    fig = cm.viz.convolution_as_integral(first, study=study)
    cm.viz.convolution_as_integral(second, study=study)
    assert len(fig.axes) == 4  # three panels and a colorbar
    assert first.read_bytes() == second.read_bytes()
