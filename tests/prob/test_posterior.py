"""Posteriors by quadrature against the conjugate closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gammaln

from calcml.prob import beta_binomial, normal_gamma, normal_normal, posterior


def test_beta_binomial():
    a, b, k, n = 2.0, 3.0, 7, 20
    log_lik = lambda p: gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + k * np.log(p) + (n - k) * np.log1p(-p)
    log_prior = lambda p: (a - 1) * np.log(p) + (b - 1) * np.log1p(-p) - (gammaln(a) + gammaln(b) - gammaln(a + b))
    post, exact = posterior(log_lik, log_prior, (0, 1)), beta_binomial(a, b, k, n)
    assert post.mean == pytest.approx(exact.mean, rel=1e-10) and exact.mean == pytest.approx(9 / 25)
    assert post.variance == pytest.approx(exact.variance, rel=1e-9)
    assert post.log_evidence == pytest.approx(exact.log_evidence, abs=1e-10)
    p = np.array([0.2, 0.5])
    beta_pdf = np.exp(8 * np.log(p) + 15 * np.log1p(-p) - (gammaln(9) + gammaln(16) - gammaln(25)))  # Beta(9, 16)
    np.testing.assert_allclose(post.pdf(p), beta_pdf, rtol=1e-10)


def test_uniform_prior_jeffreys_prior_singular_at_both_ends():
    # Jeffreys prior Beta(½, ½) is infinite at 0 and 1; with k = 0 successes the posterior is still singular at 0
    post = posterior(lambda p: 5 * np.log1p(-p), lambda p: -0.5 * np.log(p) - 0.5 * np.log1p(-p), (0, 1))
    assert post.mean == pytest.approx(beta_binomial(0.5, 0.5, 0, 5).mean, rel=1e-9)


def test_normal_normal():
    x = np.random.default_rng(0).normal(1.3, 0.7, 50)
    log_lik = lambda mu: np.sum(-0.5 * ((x[:, None] - mu) / 0.7) ** 2, axis=0) - x.size * math.log(0.7 * math.sqrt(
        2 * math.pi))
    log_prior = lambda mu: -0.5 * (mu / 2.0) ** 2 - math.log(2.0 * math.sqrt(2 * math.pi))
    post, exact = posterior(lambda mu: log_lik(np.atleast_1d(mu)), log_prior, (-np.inf, np.inf)), \
        normal_normal(0.0, 2.0, 0.7, x)
    assert post.mean == pytest.approx(exact.mean, rel=1e-10)
    assert post.variance == pytest.approx(exact.variance, rel=1e-8)
    assert post.log_evidence == pytest.approx(exact.log_evidence, abs=1e-9)


def test_normal_gamma_two_parameters():
    x = np.random.default_rng(1).normal(0.5, 0.7, 20)
    mu0, k0, a0, b0 = 0.0, 1.0, 2.0, 1.0

    def log_lik(mu, tau):
        mu, tau = np.asarray(mu)[..., None], np.asarray(tau)[..., None]
        return np.sum(0.5 * np.log(tau / (2 * np.pi)) - 0.5 * tau * (x - mu) ** 2, axis=-1)

    def log_prior(mu, tau):
        return (a0 * np.log(b0) - gammaln(a0) + (a0 - 1) * np.log(tau) - b0 * tau
                + 0.5 * np.log(k0 * tau / (2 * np.pi)) - 0.5 * k0 * tau * (mu - mu0) ** 2)

    post = posterior(log_lik, log_prior, [(-np.inf, np.inf), (0, np.inf)], rtol=1e-8)
    exact = normal_gamma(mu0, k0, a0, b0, x)
    assert post.log_evidence == pytest.approx(exact.log_evidence, abs=1e-7)
    np.testing.assert_allclose(post.mean, exact.mean, rtol=1e-7)


def test_posterior_rejects_a_log_joint_that_is_never_finite():
    with pytest.raises(ValueError, match="not finite anywhere"):
        posterior(lambda p: np.full(np.shape(p), -np.inf), lambda p: 0 * p, (0, 1))
