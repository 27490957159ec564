"""A density that is not one, a moment that does not exist, a bad parameter, an untrustworthy standard error:
refused or flagged, never a quiet number. And the ordinary cases next to each stay quiet and right."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import calcml as cm
from calcml.prob import DensityError, DensityWarning, EstimatorWarning
from calcml.prob.density_checks import check_expectation_exists

SQRT2PI = math.sqrt(2 * math.pi)
phi = lambda x: np.exp(-x * x / 2) / SQRT2PI
cauchy = lambda x: 1 / (np.pi * (1 + x ** 2))
student_t2 = lambda x: (1 + x ** 2 / 2) ** -1.5 / (2 * math.sqrt(2))
student_t3 = lambda x: 2 / (np.pi * math.sqrt(3)) * (1 + x ** 2 / 3) ** -2   # variance ν/(ν − 2) = 3


def normal(m, s):
    return lambda x: np.exp(-((x - m) / s) ** 2 / 2) / (s * SQRT2PI)


def silent(fn, *args, **kwargs):
    """fn's result, asserting that it warned about nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


# 10: E|g| = ∞ — the Cauchy law has no mean
def test_cauchy_mean_is_refused_not_zero():
    with pytest.raises(DensityError, match="does not exist"):
        cm.prob.expectation(lambda x: x, cauchy)
    with pytest.raises(DensityError, match="does not exist"):
        cm.prob.expectation(lambda x: x ** 2, cauchy)


def test_heavy_but_finite_moments_are_computed():
    assert abs(silent(cm.prob.expectation, lambda x: x, student_t2)) < 1e-10     # E|x| = √2 < ∞
    assert silent(cm.prob.variance, student_t3) == pytest.approx(3.0, rel=1e-8)
    with pytest.raises(DensityError, match="E\\[x²\\] does not exist"):
        cm.prob.variance(student_t2)                                              # ν = 2: no variance
    assert silent(cm.prob.expectation, lambda x: 1 / (1 + x * x), cauchy) == pytest.approx(0.5, rel=1e-9)
    check_expectation_exists(np.cos, cauchy, (-np.inf, np.inf), "test")   # oscillating, bounded: E|cos x| < ∞


# 12, 13: not densities
@pytest.mark.parametrize("f", [lambda x: x * np.exp(-x ** 2), lambda x: -np.exp(-x ** 2)], ids=["signed", "negative"])
def test_a_function_that_is_negative_somewhere_is_no_density(f):
    with pytest.raises(DensityError, match="not a density"):
        cm.prob.normalize(f)
    with pytest.raises(DensityError, match="not a density"):
        cm.prob.expectation(lambda x: x, f, normalized=False)


def test_a_negative_mass_is_refused():
    with pytest.raises(DensityError, match="0 < Z < ∞"):
        cm.prob.normalize(lambda x: x ** -1.5, (0, 1))     # ∫ = +∞, quadrature reports −2


def test_proper_unnormalized_densities_still_normalize():
    Z = silent(cm.prob.normalize, lambda x: np.exp(-x ** 2 / 2)).constant
    assert float(Z) == pytest.approx(SQRT2PI, rel=1e-12)
    two = silent(cm.prob.normalize, lambda x, y: x * y, [(0, 1), (0, 2)])
    assert float(two.constant) == pytest.approx(1.0, rel=1e-10)


# 14: the CDF outside the domain
def test_cdf_is_zero_below_and_one_above_the_domain():
    exponential = lambda x: np.exp(-x)
    assert cm.prob.cdf(exponential, -1.0, (0, np.inf)) == 0.0
    truncated = lambda x: np.exp(-x) / (1 - math.exp(-1))          # Exp(1) on (0, 1), normalized
    np.testing.assert_allclose(cm.prob.cdf(truncated, np.array([-2.0, 0.5, 1.0, 3.0]), (0, 1)),
                               [0.0, (1 - math.exp(-0.5)) / (1 - math.exp(-1)), 1.0, 1.0], rtol=1e-12, atol=0)
    assert cm.grad(lambda x: cm.prob.cdf(exponential, x, (0, np.inf)))(-1.0) == 0.0
    assert cm.grad(lambda x: cm.prob.cdf(truncated, x, (0, 1)))(2.0) == 0.0


# 15: normalized=True is checked
def test_unnormalized_density_with_normalized_true_is_refused():
    with pytest.raises(DensityError, match="normalized=False"):
        cm.prob.expectation(lambda x: x ** 2, lambda x: np.exp(-x ** 2 / 2))
    m2 = silent(cm.prob.expectation, lambda x: x ** 2, lambda x: np.exp(-x ** 2 / 2), normalized=False)
    assert m2 == pytest.approx(1.0, rel=1e-10)


def test_slightly_unnormalized_density_is_flagged_with_its_mass():
    with pytest.warns(DensityWarning, match="0.99999942"):                    # 2Φ(5) − 1
        value = cm.prob.expectation(lambda x: x ** 2, phi, (-5, 5))
    exact_truncated = 1 - 10 * phi(5.0) / (1 - 2 * 2.866515718791939e-07)
    assert float(value) == pytest.approx(exact_truncated * (1 - 2 * 2.866515718791939e-07), rel=1e-9)
    assert silent(cm.prob.variance, phi) == pytest.approx(1.0, rel=1e-10)


# 16: KL when q underflows in p's tails
def test_kl_of_a_wide_against_a_narrow_gaussian():
    kl = math.log(1 / 1.7) + (1.7 ** 2 + 1) / 2 - 0.5
    assert float(silent(cm.prob.kl_divergence, normal(0, 1.7), normal(1, 1))) == pytest.approx(kl, abs=1e-9)
    g = cm.grad(lambda s: cm.prob.kl_divergence(normal(0, s), normal(1, 1)))(1.7)
    assert g == pytest.approx(-1 / 1.7 + 1.7, rel=1e-7)                   # d/ds [−log s + (s² + 1)/2]


def test_kl_where_q_vanishes_on_real_mass_is_refused_and_log_densities_give_it():
    narrow = normal(0, 0.1)                            # 0 in float64 beyond |x| ≈ 3.9, where N(0, 1) has mass 1e-4
    with pytest.raises(DensityError, match="log_densities=True"):
        cm.prob.kl_divergence(phi, narrow)
    log_p = lambda x: -x * x / 2 - 0.5 * math.log(2 * math.pi)
    log_q = lambda x: -x * x / 0.02 - 0.5 * math.log(0.02 * math.pi)
    kl = math.log(0.1) + 1 / (2 * 0.01) - 0.5
    assert float(cm.prob.kl_divergence(log_p, log_q, log_densities=True)) == pytest.approx(kl, rel=1e-10)


# 17: an estimator whose variance is infinite
def test_infinite_variance_estimator_is_flagged_in_nearly_every_seed():
    for estimator in ("reparam", "score"):
        flagged = 0
        for seed in range(40):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                est = cm.prob.grad_expectation(lambda x: np.exp(x ** 2 / 4), "normal", (0.0, 1.0), estimator,
                                               n=2000, rng=seed)
            warned = any(issubclass(w.category, EstimatorWarning) for w in caught)
            assert warned == (not est.reliable)
            flagged += warned
        assert flagged >= 36, (estimator, flagged)


def test_ordinary_estimators_are_not_flagged():
    truth = -0.8 * math.sin(1.5) * math.exp(-0.32) + 1.6
    hits = 0
    for seed in range(40):
        est = silent(cm.prob.grad_expectation, lambda x: np.sin(x) + x ** 2, "normal", (1.5, 0.8), "reparam",
                     n=2000, rng=seed)
        assert est.reliable
        hits += abs(est.grad[1] - truth) <= 1.96 * est.stderr[1]
    assert hits >= 34
    for estimator in ("reparam", "score"):
        est = silent(cm.prob.grad_expectation, lambda x: x ** 2, "normal", (1.5, 0.8), estimator, n=40_000, rng=1)
        assert est.reliable and np.all(est.stderr_spread < 0.1)


# 18, 19: parameters outside the distribution's domain
@pytest.mark.parametrize("dist, params, estimator, match", [
    ("bernoulli", (1.3,), "score", "0 < p < 1"),
    ("bernoulli", (0.0,), "score", "0 < p < 1"),
    ("exponential", (-2.0,), "reparam", "rate λ > 0"),
    ("exponential", (0.0,), "score", "rate λ > 0"),
    ("normal", (0.0, -1.0), "reparam", "σ > 0"),
    ("normal", (0.0, 0.0), "score", "σ > 0"),
    ("normal", (0.0,), "reparam", "takes 2 parameter"),
    ("normal", (np.nan, 1.0), "reparam", "finite"),
])
def test_parameters_outside_the_domain_are_refused(dist, params, estimator, match):
    with pytest.raises(cm.CalcmlError, match=match):
        cm.prob.grad_expectation(lambda x: x, dist, params, estimator, n=100, rng=0)


def test_the_checks_accept_a_scalar_only_density():
    pdf = lambda x: math.exp(-x * x / 2) / SQRT2PI       # math.exp: no arrays, looped over point by point
    assert silent(cm.prob.expectation, lambda x: x * x, pdf) == pytest.approx(1.0, rel=1e-10)
    with pytest.raises(DensityError, match="not a density"):
        cm.prob.normalize(lambda x: -math.exp(-x * x))
