"""Information by quadrature: KL divergence and differential entropy.

    KL(p ‖ q) = ∫ p log(p/q) ≥ 0,   H(p) = −∫ p log p   (nats)

Far in the tails a density underflows to 0 before its log does: N(1, 1) is 0 in float64 beyond |x − 1| ≈ 38.6
while N(0, 1.7²) is still 1e-109 there. Where q = 0 but p > 0, log q is below log(5e-324) ≈ −744.4, and
that bound is used: it undercounts p·log(p/q) there, by at most P₀·(log(5e-324) − log q), with
P₀ = ∫_{q=0} p. The result stands when that cannot reach the tolerance unless log q < −10⁶ on the region
(q vanishing outright, not underflowing); otherwise the call is refused: KL is ∞ if q is truly 0 there,
and a finite number only log densities can give (``log_densities=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.prob.density import REAL_LINE, integral
from calcml.prob.density_checks import DensityError, plain

TINIEST = np.nextafter(0.0, 1.0)  # 5e-324: an underflowed q is below it
LOG_BOUND = 1e6  # |log q| that an underflowed region would need for its undercount to matter


def _p_log_ratio(p: Any, q: Any) -> Any:
    """p·log(p/q), with 0·log 0 = 0, and log q ≥ log(5e-324) where q underflows (no NaN in either gradient)."""
    positive = np.asarray(plain(p) > 0)
    safe_p = np.where(positive, p, 1.0)
    safe_q = np.where(positive & (plain(q) > 0), q, TINIEST)
    return np.where(positive, p * (np.log(safe_p) - np.log(safe_q)), 0.0)


def _log_p_log_ratio(log_p: Any, log_q: Any) -> Any:
    """e^{log p}·(log p − log q), 0 where log p = −∞."""
    positive = np.asarray(plain(log_p) > -np.inf)
    safe_log_p = np.where(positive, log_p, 0.0)
    safe_log_q = np.where(positive, log_q, 0.0)
    return np.where(positive, np.exp(safe_log_p) * (safe_log_p - safe_log_q), 0.0)


def kl_divergence(p: Callable, q: Callable, domain: Any = REAL_LINE, rtol: float = 1e-10,
                  log_densities: bool = False) -> Any:
    """KL(p ‖ q) = ∫ p log(p/q) ≥ 0, zero only when p = q; +∞ when q = 0 where p > 0.

    ``log_densities=True``: p and q return log p and log q (no underflow in the tails; log q = −∞ where
    log p is finite gives ∞). Otherwise DensityError when q is 0 where p has mass that matters (see above).

    >>> n = lambda m, s: (lambda x: np.exp(-(x - m) ** 2 / (2 * s * s)) / (s * np.sqrt(2 * np.pi)))
    >>> round(float(cm.prob.kl_divergence(n(0, 1), n(1, 2))), 12)   # log 2 + (1 + 1)/8 − ½
    0.44314718056
    >>> round(float(cm.prob.kl_divergence(n(0, 1.7), n(1, 1))), 12)  # log(1/1.7) + (1.7² + 1)/2 − ½
    0.914371748938
    """
    if log_densities:
        return integral(lambda *x: _log_p_log_ratio(p(*x), q(*x)), domain, rtol).value
    stranded = []  # points where q = 0 < p

    def integrand(*x):
        px, qx = p(*x), q(*x)
        lost = (plain(px) > 0) & (plain(qx) == 0)
        if np.any(lost):
            stranded.append(float(np.broadcast_to(plain(x[0]), np.shape(lost))[lost][0]))
        return _p_log_ratio(px, qx)

    result = integral(integrand, domain, rtol)
    if stranded:
        mass = float(plain(integral(lambda *x: np.where(plain(q(*x)) == 0, plain(p(*x)), 0.0), domain,
                                    rtol).value))
        tolerance = max(rtol * abs(float(plain(result.value))), 1e-12)
        if mass * LOG_BOUND > tolerance:
            raise DensityError(
                f"kl_divergence: q is 0 where p > 0 (e.g. at x = {stranded[0]:.6g}), on a region of "
                f"p-mass {mass:.3g}.\n  if q is truly 0 there, KL(p ‖ q) = ∞ (p is not absolutely continuous "
                "with respect to q); if q only underflows, give log densities: "
                "kl_divergence(log_p, log_q, domain, log_densities=True).")
    return result.value


def entropy(pdf: Callable, domain: Any = REAL_LINE, rtol: float = 1e-10) -> Any:
    """H(p) = −∫ p log p (nats). A Normal(μ, σ²) has ½ log(2πeσ²).

    >>> round(float(cm.prob.entropy(lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi))), 12)
    1.418938533205
    """
    return -integral(lambda *x: _p_log_ratio(pdf(*x), 1.0), domain, rtol).value
