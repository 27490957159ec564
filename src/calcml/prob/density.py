"""Densities by quadrature: normalizing constants, expectations, variance, CDF, KL divergence, entropy.

    Z = ∫ p̃,   E_p[g] = ∫ g p,   Var = E[(x − E x)²],   F(x) = ∫_{−∞}^x p,
    KL(p ‖ q) = ∫ p log(p/q),   H(p) = −∫ p log p   (differential entropy, in nats)

Everything is ``cm.integrate.quad`` (``nquad`` when the domain is a list of ranges), so it is
differentiable: in parameters that the densities close over, and in x for the CDF (F'(x) = p(x)).
A domain is (lo, hi) for one variable, [(lo, hi), (lo, hi), ...] for several (limits may be ±np.inf).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from calcml.autodiff import softmax as _softmax
from calcml.autodiff.tensor import Tensor
from calcml.integrate import QuadResult, nquad, quad

REAL_LINE = (-np.inf, np.inf)


def integral(h: Callable, domain: Any, rtol: float = 1e-10) -> QuadResult:
    """∫ h over ``domain``: ``quad`` for (lo, hi), ``nquad`` for a list of ranges."""
    if _is_multivariate(domain):
        return nquad(h, list(domain), rtol=rtol)
    lo, hi = domain
    return quad(h, lo, hi, rtol=rtol)


def _is_multivariate(domain: Any) -> bool:
    return isinstance(domain, (list, tuple)) and len(domain) > 0 and isinstance(domain[0], (list, tuple))


class Normalized(NamedTuple):
    """``pdf`` integrates to 1 over the domain; ``constant`` is Z = ∫ p̃ (the evidence, the partition function)."""

    pdf: Callable
    constant: Any
    error: float


def normalize(pdf: Callable, domain: Any = REAL_LINE, rtol: float = 1e-10) -> Normalized:
    """p = p̃ / Z with Z = ∫ p̃ over ``domain``.

    >>> p, Z = cm.prob.normalize(lambda x: x ** -0.5 * (1 - x) ** -0.5, (0, 1))[:2]   # Beta(½, ½)
    >>> round(float(Z), 12)   # B(½, ½) = π
    3.14159265359
    """
    result = integral(pdf, domain, rtol)
    Z = result.value
    return Normalized(lambda *x: pdf(*x) / Z, Z, result.error)


def expectation(g: Callable, pdf: Callable, domain: Any = REAL_LINE, normalized: bool = True,
                rtol: float = 1e-10) -> Any:
    """E_p[g] = ∫ g p (divided by ∫ p when ``normalized=False``).

    >>> round(float(cm.prob.expectation(lambda x: x ** 2, lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi))), 12)
    1.0
    """
    mean = integral(lambda *x: g(*x) * pdf(*x), domain, rtol).value
    if not normalized:
        mean = mean / integral(pdf, domain, rtol).value
    return mean


def variance(pdf: Callable, domain: Any = REAL_LINE, normalized: bool = True, rtol: float = 1e-10) -> Any:
    """Var = E[(x − μ)²], μ = E[x] (two passes: no cancellation of E[x²] − μ²). One variable."""
    mu = expectation(lambda x: x, pdf, domain, normalized, rtol)
    # the centre of the second pass, a plain number read from the value (float() of a traced mean would
    # raise): Var does not depend on the centre to first order, and the last line restores the gradient
    mu_value = float(mu.value) if type(mu) is Tensor else float(mu)
    second = expectation(lambda x: (x - mu_value) ** 2, pdf, domain, normalized, rtol)
    return second - (mu - mu_value) ** 2


def cdf(pdf: Callable, x: Any, domain: Any = REAL_LINE, rtol: float = 1e-10) -> Any:
    """F(x) = ∫_lo^x p. ``x`` may be an array (one integral per point) or a Tensor (dF/dx = p(x)).

    >>> phi = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
    >>> round(float(cm.prob.cdf(phi, 1.96)), 12)       # Φ(1.96)
    0.975002104852
    """
    lo = domain[0]
    if np.ndim(x) == 0:
        return quad(pdf, lo, x, rtol=rtol).value
    return np.stack([quad(pdf, lo, xi, rtol=rtol).value for xi in np.ravel(x)]).reshape(np.shape(x))


def _p_log_ratio(p: Any, q: Any) -> Any:
    """p·log(p/q), with 0·log 0 = 0 (and no NaN in the gradient of the branch not taken)."""
    positive = np.asarray(p > 0)
    safe_p = np.where(positive, p, 1.0)
    safe_q = np.where(positive, q, 1.0)
    return np.where(positive, p * (np.log(safe_p) - np.log(safe_q)), 0.0)


def kl_divergence(p: Callable, q: Callable, domain: Any = REAL_LINE, rtol: float = 1e-10) -> Any:
    """KL(p ‖ q) = ∫ p log(p/q) ≥ 0, zero only when p = q; +∞ when q = 0 where p > 0.

    >>> n = lambda m, s: (lambda x: np.exp(-(x - m) ** 2 / (2 * s * s)) / (s * np.sqrt(2 * np.pi)))
    >>> round(float(cm.prob.kl_divergence(n(0, 1), n(1, 2))), 12)   # log 2 + (1 + 1)/8 − ½
    0.44314718056
    """
    return integral(lambda *x: _p_log_ratio(p(*x), q(*x)), domain, rtol).value


def entropy(pdf: Callable, domain: Any = REAL_LINE, rtol: float = 1e-10) -> Any:
    """H(p) = −∫ p log p (nats). A Normal(μ, σ²) has ½ log(2πeσ²).

    >>> round(float(cm.prob.entropy(lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi))), 12)
    1.418938533205
    """
    return -integral(lambda *x: _p_log_ratio(pdf(*x), 1.0), domain, rtol).value


def softmax(logits: Any, temperature: float = 1.0, axis: int = -1) -> Any:
    """The discrete normalization: p_i = exp(z_i/T) / Σ_j exp(z_j/T) (``cm.softmax`` of z/T).

    T → 0 approaches the one-hot argmax, T → ∞ the uniform distribution; T = 1 is the usual softmax.
    """
    if not temperature > 0:
        raise ValueError(f"softmax: the temperature must be positive, got {temperature!r}.")
    return _softmax(logits / temperature, axis=axis)


def domain_grid(domain: Sequence[float], points: int) -> np.ndarray:
    """``points`` points spread over a range, through x = t/(1−t²)-type maps when it is infinite."""
    lo, hi = float(domain[0]), float(domain[1])
    t = np.linspace(0.0, 1.0, points + 2)[1:-1]
    if np.isfinite(lo) and np.isfinite(hi):
        return lo + (hi - lo) * t
    if np.isfinite(lo):
        return lo + t / (1 - t)
    if np.isfinite(hi):
        return hi - t / (1 - t)
    s = 2 * t - 1
    return s / (1 - s * s)
