"""Bayesian posteriors by quadrature, and the conjugate closed forms that check them.

    p(θ | data) = p(data | θ) p(θ) / Z,   Z = ∫ p(data | θ) p(θ) dθ   (the evidence)

The log joint is shifted by its maximum on a grid before exponentiating (likelihoods of many points
underflow otherwise) and the shift is added back to log Z. One parameter: ``quad``; two: ``nquad``.

Closed forms (conjugate priors): Beta–Binomial, Normal–Normal (known noise), Normal–Gamma (unknown
mean and precision).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.prob.density import _is_multivariate, domain_grid, integral


@dataclass
class Posterior:
    """A posterior computed by quadrature: its density, evidence, mean and (co)variance."""

    log_joint: Callable
    domain: Any
    shift: float
    constant: float  # ∫ exp(log_joint − shift)
    rtol: float

    @property
    def log_evidence(self) -> float:
        """log Z = log ∫ p(data | θ) p(θ) dθ."""
        return self.shift + math.log(self.constant)

    def pdf(self, *theta: Any) -> Any:
        """The normalized posterior density at θ."""
        return np.exp(self.log_joint(*theta) - self.shift) / self.constant

    def expectation(self, g: Callable) -> float:
        """E[g(θ)] under the posterior, by quadrature over its domain."""
        return float(integral(lambda *t: g(*t) * self.pdf(*t), self.domain, self.rtol).value)

    @property
    def mean(self) -> Any:
        """The posterior mean of θ (an array for several parameters)."""
        if not _is_multivariate(self.domain):
            return self.expectation(lambda t: t)
        return np.array([self.expectation(lambda *t, i=i: t[i]) for i in range(len(self.domain))])

    @property
    def variance(self) -> Any:
        """Var θ (one parameter) or the covariance matrix (several)."""
        mean = self.mean
        if not _is_multivariate(self.domain):
            return self.expectation(lambda t: (t - mean) ** 2)
        d = len(self.domain)
        return np.array([[self.expectation(lambda *t, i=i, j=j: (t[i] - mean[i]) * (t[j] - mean[j]))
                          for j in range(d)] for i in range(d)])


def posterior(log_likelihood: Callable, log_prior: Callable, domain: Any, rtol: float = 1e-10) -> Posterior:
    """The posterior of one parameter (domain (lo, hi)) or two (domain [(lo, hi), (lo, hi)]) by quadrature.

    ``log_likelihood(θ)`` and ``log_prior(θ)`` take arrays of parameter values (θ₁, θ₂ for two).

    >>> post = posterior(lambda p: 7 * np.log(p) + 3 * np.log1p(-p), lambda p: 0.0 * p, (0, 1))
    >>> round(post.mean, 12)   # Beta(8, 4): 8/12
    0.666666666667
    """
    log_joint = lambda *t: log_likelihood(*t) + log_prior(*t)
    if _is_multivariate(domain):
        axes = np.meshgrid(*(domain_grid(d, 65) for d in domain), indexing="ij")
        values = log_joint(*(a.ravel() for a in axes))
    else:
        values = log_joint(domain_grid(domain, 257))
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("posterior: the log joint density is not finite anywhere on a grid over the domain; "
                         "check the domain and that log_likelihood and log_prior take arrays.")
    shift = float(np.max(finite))
    constant = float(integral(lambda *t: np.exp(log_joint(*t) - shift), domain, rtol).value)
    return Posterior(log_joint, domain, shift, constant, rtol)


# ---- conjugate closed forms --------------------------------------------------------------------------
@dataclass(frozen=True)
class Conjugate:
    """A closed-form posterior: its mean, variance (or covariance) and log evidence, and its parameters."""

    mean: Any
    variance: Any
    log_evidence: float
    parameters: dict


def beta_binomial(alpha: float, beta: float, successes: int, trials: int) -> Conjugate:
    """Prior Beta(α, β), k successes in n trials → posterior Beta(α + k, β + n − k);
    evidence C(n, k) B(α + k, β + n − k) / B(α, β)."""
    a, b = alpha + successes, beta + trials - successes
    log_beta = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)
    log_choose = math.lgamma(trials + 1) - math.lgamma(successes + 1) - math.lgamma(trials - successes + 1)
    return Conjugate(a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1)),
                     log_choose + log_beta(a, b) - log_beta(alpha, beta), {"alpha": a, "beta": b})


def normal_normal(prior_mean: float, prior_sd: float, noise_sd: float, data: Sequence[float]) -> Conjugate:
    """Prior μ ~ N(μ₀, s₀²), x_i ~ N(μ, σ²) → μ | x ~ N(μ_n, s_n²), 1/s_n² = 1/s₀² + n/σ²,
    μ_n = s_n² (μ₀/s₀² + Σx/σ²). Evidence: x ~ N(μ₀·1, σ²I + s₀²·11ᵀ) (Sherman–Morrison)."""
    x = np.asarray(data, dtype=float)
    n, s2, v = x.size, noise_sd ** 2, prior_sd ** 2
    post_var = 1.0 / (1.0 / v + n / s2)
    post_mean = post_var * (prior_mean / v + x.sum() / s2)
    d = x - prior_mean
    quadratic = (np.sum(d * d) - v / (s2 + n * v) * d.sum() ** 2) / s2
    log_evidence = -0.5 * (n * math.log(2 * math.pi * s2) + math.log1p(n * v / s2) + quadratic)
    return Conjugate(post_mean, post_var, float(log_evidence), {"mean": post_mean, "sd": math.sqrt(post_var)})


def normal_gamma(mu0: float, kappa0: float, alpha0: float, beta0: float, data: Sequence[float]) -> Conjugate:
    """Prior τ ~ Gamma(α₀, rate β₀), μ | τ ~ N(μ₀, 1/(κ₀τ)); x_i ~ N(μ, 1/τ) → Normal–Gamma(μ_n, κ_n, α_n, β_n).

    mean = (E μ, E τ) = (μ_n, α_n/β_n); covariance diag(β_n/(κ_n(α_n − 1)), α_n/β_n²) (μ and τ are
    uncorrelated a posteriori); log Z = log Γ(α_n)/Γ(α₀) + α₀ log β₀ − α_n log β_n + ½ log(κ₀/κ_n) − (n/2) log 2π.
    """
    x = np.asarray(data, dtype=float)
    n, xbar = x.size, float(np.mean(x))
    kappa = kappa0 + n
    mu = (kappa0 * mu0 + n * xbar) / kappa
    alpha = alpha0 + n / 2
    beta = beta0 + 0.5 * float(np.sum((x - xbar) ** 2)) + kappa0 * n * (xbar - mu0) ** 2 / (2 * kappa)
    covariance = np.diag([beta / (kappa * (alpha - 1)), alpha / beta ** 2])
    log_evidence = (math.lgamma(alpha) - math.lgamma(alpha0) + alpha0 * math.log(beta0) - alpha * math.log(beta)
                    + 0.5 * math.log(kappa0 / kappa) - 0.5 * n * math.log(2 * math.pi))
    return Conjugate(np.array([mu, alpha / beta]), covariance, log_evidence,
                     {"mu": mu, "kappa": kappa, "alpha": alpha, "beta": beta})
