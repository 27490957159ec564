"""∇θ E[f(x)] by the reparameterization and score estimators, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

import calcml as cm
from calcml.prob import grad_expectation

MU, SIGMA, K = 1.5, 0.8, 2.0
CASES = {  # f, exact ∂/∂μ, exact ∂/∂σ
    "x²": (lambda x: x ** 2, 2 * MU, 2 * SIGMA),
    "cos kx": (lambda x: np.cos(K * x), -K * math.sin(K * MU) * math.exp(-K * K * SIGMA ** 2 / 2),
               -K * K * SIGMA * math.cos(K * MU) * math.exp(-K * K * SIGMA ** 2 / 2)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("estimator, baseline", [("reparam", None), ("score", None), ("score", "mean")])
def test_both_estimators_recover_the_gradient_within_four_standard_errors(case, estimator, baseline):
    f, d_mu, d_sigma = CASES[case]
    est = grad_expectation(f, "normal", (MU, SIGMA), estimator, n=40_000, rng=3, baseline=baseline)
    for value, exact, se in zip(est.grad, (d_mu, d_sigma), est.stderr):
        assert abs(value - exact) < 4 * se, (est, exact)
    assert np.all(est.stderr > 0)


def test_score_variance_is_larger_than_reparam_and_the_baseline_reduces_it():
    f = CASES["x²"][0]
    reparam = grad_expectation(f, "normal", (MU, SIGMA), "reparam", n=40_000, rng=0)
    score = grad_expectation(f, "normal", (MU, SIGMA), "score", n=40_000, rng=0)
    with_baseline = grad_expectation(f, "normal", (MU, SIGMA), "score", n=40_000, rng=0, baseline="mean")
    assert np.all(score.variance > 5 * reparam.variance)
    assert np.all(with_baseline.variance < 0.7 * score.variance)


def test_score_variance_grows_like_one_over_sigma_squared():
    f = CASES["cos kx"][0]
    narrow = dict(params=(MU, 0.2), n=40_000, rng=0)
    reparam = grad_expectation(f, "normal", estimator="reparam", **narrow)
    score = grad_expectation(f, "normal", estimator="score", **narrow)
    assert score.variance[0] > 5 * reparam.variance[0]


def test_mean_of_per_sample_gradients_is_cm_grad_of_the_sample_average():
    # the estimator's noise for seed 5: its first block's stream, SeedSequence(5)'s first spawned child
    eps = np.random.default_rng(np.random.SeedSequence(5).spawn(1)[0]).standard_normal(1000)
    est = grad_expectation(lambda x: np.sin(x) * x, "normal", (0.4, 1.1), "reparam", n=1000, rng=5)
    direct = cm.grad(lambda t: np.mean(np.sin(t[0] + t[1] * eps) * (t[0] + t[1] * eps)))(np.array([0.4, 1.1]))
    np.testing.assert_allclose(est.grad, direct, rtol=1e-12)


def test_exponential_both_estimators():
    # E[x] = 1/λ  ⇒  d/dλ = −1/λ²
    for estimator in ("reparam", "score"):
        est = grad_expectation(lambda x: x, "exponential", (2.0,), estimator, n=40_000, rng=1)
        assert abs(est.grad[0] + 0.25) < 4 * est.stderr[0]


def test_bernoulli_score_only():
    # E[(x − 0.3)²] = p·0.49 + (1 − p)·0.09  ⇒  d/dp = 0.4
    est = grad_expectation(lambda x: (x - 0.3) ** 2, "bernoulli", (0.6,), "score", n=40_000, rng=2, baseline="mean")
    assert abs(est.grad[0] - 0.4) < 4 * est.stderr[0]
    with pytest.raises(cm.CalcmlError, match="no reparameterization"):
        grad_expectation(lambda x: x, "bernoulli", (0.6,), "reparam")


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="estimator must be"):
        grad_expectation(lambda x: x, "normal", (0.0, 1.0), "pathwise")
    with pytest.raises(ValueError, match="baseline only applies"):
        grad_expectation(lambda x: x, "normal", (0.0, 1.0), "reparam", baseline="mean")
