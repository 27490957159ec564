"""Densities by quadrature against closed forms: normalisers, moments, CDF, KL, entropy, softmax."""

from __future__ import annotations

import math

import numpy as np
import pytest

import calcml as cm
from calcml.prob import cdf, entropy, expectation, kl_divergence, normalize, softmax, variance

SQRT2PI = math.sqrt(2 * math.pi)
phi = lambda x: np.exp(-x * x / 2) / SQRT2PI
normal = lambda m, s: (lambda x: np.exp(-((x - m) / s) ** 2 / 2) / (s * SQRT2PI))


def test_beta_half_half_normaliser_is_pi():
    p, Z, error = normalize(lambda x: x ** -0.5 * (1 - x) ** -0.5, (0, 1))
    assert abs(float(Z) - math.pi) <= 1e-10 * math.pi and abs(float(Z) - math.pi) <= error
    assert float(cm.integrate.quad(p, 0, 1)) == pytest.approx(1.0, rel=1e-10)


@pytest.mark.parametrize("pdf", [phi, lambda x: 0.3 * normal(-2, 0.5)(x) + 0.7 * normal(1.5, 1.2)(x)],
                         ids=["gaussian", "mixture"])
def test_gaussian_and_mixture_masses_are_one(pdf):
    assert abs(float(normalize(pdf).constant) - 1.0) <= 1e-10


def test_unnormalized_gaussian_constant_and_moments():
    p, Z, _ = normalize(lambda x: np.exp(-((x - 1.0) ** 2) / 8))  # N(1, 4) without 1/(2√(2π))
    assert float(Z) == pytest.approx(2 * SQRT2PI, rel=1e-12)
    assert float(expectation(lambda x: x, p)) == pytest.approx(1.0, rel=1e-12)
    assert float(variance(p)) == pytest.approx(4.0, rel=1e-11)
    assert float(expectation(lambda x: x, lambda x: np.exp(-((x - 1.0) ** 2) / 8), normalized=False)) == \
        pytest.approx(1.0, rel=1e-12)


def test_phi_196_and_cdf_of_an_array():
    assert abs(float(cdf(phi, 1.96)) - 0.9750021048517795) <= 1e-15
    np.testing.assert_allclose(cdf(phi, np.array([0.0, -1.0, 1.0])),
                               [0.5, 0.15865525393145707, 0.8413447460685429], rtol=1e-13)


def test_derivative_of_the_cdf_is_the_density():
    assert cm.grad(lambda x: cdf(phi, x))(0.3) == pytest.approx(phi(0.3), rel=1e-14)
    exponential = lambda x: 2.0 * np.exp(-2.0 * x)
    assert cm.grad(lambda x: cdf(exponential, x, (0, np.inf)))(0.5) == pytest.approx(2 * math.exp(-1), rel=1e-14)


def test_kl_between_gaussians_matches_the_closed_form_and_its_gradient():
    # KL(N(m1,s1²) ‖ N(m2,s2²)) = log(s2/s1) + (s1² + (m1−m2)²)/(2 s2²) − ½
    closed = lambda m1, s1, m2, s2: math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    assert float(kl_divergence(normal(0.3, 1.0), normal(-1.0, 2.0))) == pytest.approx(
        closed(0.3, 1.0, -1.0, 2.0), rel=1e-10)
    assert abs(float(kl_divergence(phi, phi))) < 1e-14
    g = cm.grad(lambda m: kl_divergence(normal(m, 1.0), normal(-1.0, 2.0)))(0.3)
    assert g == pytest.approx((0.3 + 1.0) / 4.0, rel=1e-9)


def test_kl_with_disjoint_tails_uses_zero_log_zero():
    uniform = lambda x: np.where((x > 0) & (x < 1), 1.0, 0.0) + 0 * x
    assert float(kl_divergence(uniform, lambda x: np.exp(-x), (0, 1))) == pytest.approx(0.5, rel=1e-9)


def test_differential_entropy_of_normal_and_exponential():
    assert float(entropy(normal(0.0, 2.0))) == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 4), rel=1e-11)
    assert float(entropy(lambda x: 3.0 * np.exp(-3.0 * x), (0, np.inf))) == pytest.approx(1 - math.log(3), rel=1e-10)
    assert cm.grad(lambda s: entropy(normal(0.0, s)))(2.0) == pytest.approx(0.5, rel=1e-9)  # dH/dσ = 1/σ


def test_softmax_is_the_discrete_normalization_with_temperature():
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z), np.exp(z) / np.exp(z).sum(), rtol=1e-15)
    np.testing.assert_allclose(softmax(z, 0.5), np.exp(2 * z) / np.exp(2 * z).sum(), rtol=1e-15)
    assert softmax(z, 1e-3)[2] == pytest.approx(1.0) and np.allclose(softmax(z, 1e6), 1 / 3, atol=1e-6)
    report = cm.check_grad(lambda z: softmax(z, 0.7)[0] * 2.0, z)
    assert report.passed
    with pytest.raises(ValueError, match="positive"):
        softmax(z, 0.0)
