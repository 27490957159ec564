"""Gradients of expectations, ∇_θ E_{x∼p_θ}[f(x)], by sampling: the reparameterization and score estimators.

    reparam (pathwise):  x = T(θ, ε), ε ∼ p(ε) fixed   ⇒  ∇_θ E[f(x)] = E_ε[∇_θ f(T(θ, ε))]
    score (REINFORCE):   ∇_θ E[f(x)] = E_x[(f(x) − b) ∇_θ log p_θ(x)]   (any constant b keeps it unbiased)

Both are unbiased; their variances differ, often by orders of magnitude. The per-sample gradients
come from the engine (``cm.jacobian`` in forward mode: one pass for all n samples), and their mean
equals ``cm.grad`` of the sample average (a test checks it). The baseline ``"mean"`` uses, for each
sample, the mean of f over the other samples (leave-one-out), so it stays unbiased.

The standard error √(s²/n) is only as good as the sample variance s². Its own relative standard error
(delta method) is  u = ½ √((m₄/s⁴ − 1)/n),  m₄ the fourth central moment: when u > STDERR_SPREAD (10 %),
the estimate is flagged (``reliable=False`` and an EstimatorWarning). For an estimator of infinite
variance (f with tails like e^{x²/4} under N(0, 1)) u does not shrink as n grows (single samples dominate
s²); for an ordinary one it shrinks like 1/√n, so a light case is flagged only at small n, where its
standard error is indeed rough.

Samples are drawn in blocks of ``SAMPLES_PER_STREAM``, block b from the b-th stream spawned from the seed
(``calcml.sweep.blocks``), so ``backend="processes"`` or ``"dask"`` computes the per-sample gradients in
parallel and the estimate is the same, sample for sample, as on one core.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from calcml.autodiff import CalcmlError, jacobian
from calcml.sweep.blocks import map_blocks

SAMPLES_PER_STREAM = 4_096  # fixed, so that how the blocks are grouped into tasks never changes the samples
STDERR_SPREAD = 0.1  # relative standard error of the standard error above which an estimate is flagged


class EstimatorInputError(CalcmlError, ValueError):
    """An estimator, baseline, distribution, parameter or sample count ``grad_expectation`` cannot use."""


class EstimatorWarning(UserWarning):
    """The sample variance of an estimator is too erratic for its standard error to be trusted."""


def _refuse(dist: str, condition: str, theta: np.ndarray) -> None:
    raise EstimatorInputError(f"grad_expectation: {dist} needs {condition}; got θ = {tuple(theta.tolist())}.")


class Normal:
    """N(μ, σ²), parameters (μ, σ); x = μ + σ ε with ε ∼ N(0, 1)."""

    names = ("mu", "sigma")
    reparameterizable = True

    def check(self, theta: np.ndarray) -> None:
        """σ > 0."""
        if not theta[1] > 0:
            _refuse("normal", "a scale σ > 0 (θ = (μ, σ))", theta)

    def noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws of ε ∼ N(0, 1)."""
        return rng.standard_normal(n)

    def transform(self, theta: Any, eps: np.ndarray) -> Any:
        """x = μ + σ ε: differentiable in θ = (μ, σ)."""
        return theta[0] + theta[1] * eps

    def log_prob(self, x: np.ndarray, theta: Any) -> Any:
        """log N(x; μ, σ²)."""
        z = (x - theta[0]) / theta[1]
        return -0.5 * z * z - np.log(theta[1]) - 0.5 * np.log(2 * np.pi)


class Exponential:
    """Exp(λ), parameter (rate λ,); x = ε/λ with ε ∼ Exp(1)."""

    names = ("rate",)
    reparameterizable = True

    def check(self, theta: np.ndarray) -> None:
        """λ > 0."""
        if not theta[0] > 0:
            _refuse("exponential", "a rate λ > 0 (θ = (λ,); the mean is 1/λ)", theta)

    def noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws of ε ∼ Exp(1)."""
        return rng.standard_exponential(n)

    def transform(self, theta: Any, eps: np.ndarray) -> Any:
        """x = ε/λ: differentiable in θ = (λ,)."""
        return eps / theta[0]

    def log_prob(self, x: np.ndarray, theta: Any) -> Any:
        """log p(x) = log λ − λx."""
        return np.log(theta[0]) - theta[0] * x


class Bernoulli:
    """Bernoulli(p), parameter (p,): a discrete variable, so only the score estimator applies."""

    names = ("p",)
    reparameterizable = False

    def check(self, theta: np.ndarray) -> None:
        """0 < p < 1: at p = 0 or 1 every draw is the same and the score x/p − (1 − x)/(1 − p) is 0/0."""
        if not 0 < theta[0] < 1:
            _refuse("bernoulli", "a probability 0 < p < 1 (at 0 or 1 every draw is alike and log p_θ has no "
                    "derivative)", theta)

    def sample(self, theta: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws of 0 or 1, 1 with probability p."""
        return (rng.random(n) < theta[0]).astype(float)

    def log_prob(self, x: np.ndarray, theta: Any) -> Any:
        """log p(x) = x log p + (1 − x) log(1 − p)."""
        return x * np.log(theta[0]) + (1 - x) * np.log(1 - theta[0])


DISTRIBUTIONS = {"normal": Normal, "exponential": Exponential, "bernoulli": Bernoulli}


@dataclass
class GradientEstimate:
    """∇_θ E[f]: the estimate, the per-sample variance of each component and the standard error.

    ``stderr_spread``: the relative standard error of each ``stderr``; ``reliable`` is False when one
    exceeds STDERR_SPREAD (the sample variance is too erratic to trust the standard error).
    """

    grad: np.ndarray
    variance: np.ndarray
    stderr: np.ndarray
    n: int
    estimator: str
    stderr_spread: np.ndarray | None = None
    reliable: bool = True

    def __repr__(self) -> str:
        parts = ", ".join(f"{g:.6g} ± {s:.2g}" for g, s in zip(self.grad, self.stderr))
        flag = "" if self.reliable else ", reliable=False"
        return f"GradientEstimate({self.estimator}: [{parts}], n={self.n}{flag})"


def grad_expectation(f: Callable, dist: Any, params: Sequence[float], estimator: str = "reparam",
                     n: int = 10_000, rng: np.random.Generator | int | None = None,
                     baseline: float | str | None = None, backend: str | None = None, client: Any = None,
                     chunks: int | None = None) -> GradientEstimate:
    """Estimate ∇_θ E_{x∼dist(θ)}[f(x)] from n samples, with its standard error.

    ``dist``: "normal" (θ = (μ, σ)), "exponential" (θ = (λ,)), "bernoulli" (θ = (p,), score only), or an
    object with ``log_prob(x, θ)`` and ``noise``/``transform`` (reparam) or ``sample`` (score).
    ``baseline`` (score only): None, a number b, or "mean" (leave-one-out mean of f).
    ``backend`` "serial" (default), "processes" or "dask" (``client=``) computes the blocks of samples in
    ``chunks`` tasks; the same ``rng`` seed gives the same estimate on every backend.

    Refused (EstimatorInputError): parameters not finite, of the wrong number, or outside the distribution's
    domain (σ ≤ 0, λ ≤ 0, p ∉ (0, 1)). Flagged (``reliable=False`` and an EstimatorWarning): a standard
    error uncertain by more than 10 % (see the module docstring).

    >>> est = grad_expectation(lambda x: x ** 2, "normal", (1.5, 0.8), "reparam", n=10**4, rng=0)
    >>> bool(abs(est.grad[0] - 3.0) < 4 * est.stderr[0])     # ∂/∂μ E[x²] = 2μ
    True
    """
    if isinstance(dist, str) and dist not in DISTRIBUTIONS:
        raise EstimatorInputError(f"grad_expectation: dist must be one of {', '.join(DISTRIBUTIONS)} or a "
                                  f"distribution object, not {dist!r}.")
    dist = DISTRIBUTIONS[dist]() if isinstance(dist, str) else dist
    theta = _parameters(dist, params)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise EstimatorInputError(f"grad_expectation: n must be a whole number ≥ 2 (samples), not {n!r}.")
    if estimator == "reparam":
        if baseline is not None:
            raise EstimatorInputError("grad_expectation: a baseline only applies to the score estimator.")
        if not getattr(dist, "reparameterizable", False):
            raise CalcmlError(
                f"grad_expectation: {type(dist).__name__} has no reparameterization x = T(θ, ε) (it is discrete).\n"
                "  use estimator='score', or a continuous relaxation (Gumbel-softmax) of the variable."
            )
    elif estimator == "score":
        _baseline(np.zeros(2), baseline)  # refuse a bad baseline before any sampling
    else:
        raise EstimatorInputError(f"grad_expectation: estimator must be 'reparam' or 'score', not {estimator!r}.")
    blocks = map_blocks(partial(_block_terms, f, dist, theta, estimator), int(n), SAMPLES_PER_STREAM, rng,
                        backend, client, chunks)
    if estimator == "reparam":
        per_sample = np.concatenate(blocks)
    else:
        fx = np.concatenate([block_fx for block_fx, _ in blocks])
        score = np.concatenate([block_score for _, block_score in blocks])  # ∇_θ log p_θ(x_i), shape (n, P)
        per_sample = (fx - _baseline(fx, baseline))[:, None] * score
    variance = np.var(per_sample, axis=0, ddof=1)
    spread = stderr_spread(per_sample)
    reliable = bool(np.all(spread <= STDERR_SPREAD))
    if not reliable:
        i = int(np.argmax(spread))
        warnings.warn(
            f"grad_expectation: the standard error of component {i} is itself uncertain by ±{spread[i]:.0%} "
            f"(n = {n}): a few samples dominate the sample variance, so the ± interval is rough. With more "
            "samples this shrinks like 1/√n, unless the estimator's variance is infinite (f with heavy tails): "
            "then use a baseline (score), the other estimator, or an f with lighter tails.",
            EstimatorWarning, stacklevel=2)
    return GradientEstimate(per_sample.mean(axis=0), variance, np.sqrt(variance / n), int(n), estimator,
                            spread, reliable)


def stderr_spread(per_sample: np.ndarray) -> np.ndarray:
    """u = ½ √((m₄/s⁴ − 1)/n) per column: the relative standard error of √(s²/n) (0 where s² = 0)."""
    n = per_sample.shape[0]
    centred = per_sample - per_sample.mean(axis=0)
    m2 = np.mean(centred ** 2, axis=0)
    m4 = np.mean(centred ** 4, axis=0)
    kurtosis = np.divide(m4, m2 * m2, out=np.ones_like(m2), where=m2 > 0)
    return 0.5 * np.sqrt(np.maximum(kurtosis - 1, 0.0) / n)


def _parameters(dist: Any, params: Sequence[float]) -> np.ndarray:
    """θ as a float array: finite, as many as ``dist.names``, in the distribution's domain (``dist.check``)."""
    theta = np.asarray(params, dtype=float).ravel()
    name = type(dist).__name__.lower()
    names = getattr(dist, "names", None)
    if names is not None and theta.size != len(names):
        raise EstimatorInputError(f"grad_expectation: {name} takes {len(names)} parameter(s) "
                                  f"({', '.join(names)}), got {theta.size}: {tuple(theta.tolist())}.")
    if not np.all(np.isfinite(theta)):
        raise EstimatorInputError(f"grad_expectation: the parameters must be finite, got {tuple(theta.tolist())}.")
    if hasattr(dist, "check"):
        dist.check(theta)
    return theta


def _block_terms(f: Callable, dist: Any, theta: np.ndarray, estimator: str, block: range,
                 rng: np.random.Generator) -> Any:
    """One block's per-sample gradients (m, P) for "reparam"; its f(x_i) (m,) and scores (m, P) for "score"."""
    m = len(block)
    if estimator == "reparam":
        eps = dist.noise(rng, m)
        per_sample = jacobian(lambda t: f(dist.transform(t, eps)), mode="fwd")(theta)
        return np.asarray(per_sample, dtype=float).reshape(m, theta.size)
    x = dist.sample(theta, rng, m) if hasattr(dist, "sample") else dist.transform(theta, dist.noise(rng, m))
    fx = np.asarray(f(x), dtype=float) * np.ones(m)
    score = jacobian(lambda t: dist.log_prob(x, t), mode="fwd")(theta)
    return fx, np.asarray(score, dtype=float).reshape(m, theta.size)


def _baseline(fx: np.ndarray, baseline: float | str | None) -> Any:
    if baseline is None:
        return 0.0
    if baseline == "mean":
        return (fx.sum() - fx) / (fx.size - 1)  # leave-one-out: independent of sample i, so unbiased
    if isinstance(baseline, str):
        raise EstimatorInputError(f"grad_expectation: baseline must be None, a number or 'mean', not {baseline!r}.")
    return float(baseline)
