"""What a function must be before quadrature may treat it as a density, or g as having an expectation.

    p̃ ≥ 0 on the domain and 0 < Z = ∫ p̃ < ∞           (``normalize``)
    ∫ p = 1 when the caller says p is normalized          (``expectation``, ``variance``)
    E|g| = ∫ |g| p < ∞, else E[g] does not exist          (``expectation``)

A symmetric quadrature of x/(π(1 + x²)) returns ≈ 0 although E[x] does not exist under a Cauchy law: the
two divergent halves cancel. So existence is checked on the tails first: on an infinite end, the maxima
M_k of |g p| over [2^k, 2^{k+1}) (k = 0 … 50, eight points each, so an oscillating g shows its peaks) must
decay faster than |x|^−1: the exponent α = log₂(M_{K−10} / M_K)/10 over the farthest ten binades decides.
A tail that underflows to 0 converges. Heavy tails with 1 < α < 1.1 are refused too: quadrature cannot
reach their remainder.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.errors import CalcmlError

TAIL_POWERS = np.arange(51)  # |x| = 2^0 … 2^50 ≈ 1e15: as far as quadrature's change of variables reaches
TAIL_SPAN = 10  # the farthest binades [2^k, 2^{k+1}) that decide the decay exponent
POINTS_PER_BINADE = 8
SLOWEST_DECAY = 1.1  # |g p| ~ |x|^−α with α below this: ∫ diverges (α ≤ 1) or cannot be resolved
MASS_REFUSED = 1e-2  # ∫ p off 1 by more than this: not a normalized density, refused


class DensityError(CalcmlError, ValueError):
    """A function given as a density is not one (negative, sign-changing, zero or infinite mass, not
    normalized although ``normalized=True``), or an expectation asked for does not exist."""


class DensityWarning(UserWarning):
    """A density's mass differs from 1 by more than the tolerance, though not grossly: the result is off
    by about as much."""


def plain(x: Any) -> np.ndarray:
    """The numbers behind ``x``, through any depth of tracing."""
    while type(x) is Tensor:
        x = x.value
    return np.asarray(x, dtype=float)


def _evaluate(f: Callable, *xs: np.ndarray) -> np.ndarray:
    """f at the points ``xs`` as plain floats: one vectorized call, or point by point for a scalar-only f
    (as ``quad`` does); NaN where f fails at a point."""
    shape = np.shape(xs[0])
    with np.errstate(all="ignore"):
        try:
            values = plain(f(*xs))
            if np.shape(values) in ((), shape):
                return values * np.ones(shape)
        except (TypeError, ValueError, ArithmeticError):
            pass
        return np.array([_at_point(f, point) for point in zip(*xs)]).reshape(shape)


def _at_point(f: Callable, point: tuple) -> float:
    try:
        return float(plain(f(*(float(v) for v in point))))
    except (TypeError, ValueError, ArithmeticError):
        return math.nan


def check_nonnegative(pdf: Callable, points: list[np.ndarray], caller: str) -> None:
    """DensityError when p̃ < 0 at one of ``points`` (one array per variable, spread over the domain)."""
    values = _evaluate(pdf, *points)
    finite = np.isfinite(values)
    if not finite.any():
        return  # quadrature names a function with no finite value
    scale = np.max(np.abs(values[finite]))
    i = int(np.argmin(np.where(finite, values, np.inf)))
    if values[i] < -64 * np.finfo(float).eps * scale:
        where = ", ".join(f"{p[i]:.6g}" for p in points)
        kind = "is negative everywhere it was sampled" if np.all(values[finite] <= 0) else "changes sign"
        raise DensityError(
            f"{caller}: the function is not a density: it {kind} (f({where}) = {values[i]:.6g}).\n"
            "  a density is ≥ 0 everywhere. Pass p̃ itself (not its log, not a signed function); to integrate a "
            "signed function use cm.integrate.quad.")


def check_mass(mass: Any, error: float, caller: str) -> None:
    """DensityError unless 0 < Z < ∞."""
    Z = float(plain(mass))
    if not (math.isfinite(Z) and Z > 0):
        raise DensityError(
            f"{caller}: the function's integral over the domain is Z = {Z:.6g} (estimated error {error:.2g}); a "
            "density needs 0 < Z < ∞.\n  check that it is ≥ 0 and decays fast enough to have a finite integral "
            "(on an infinite range, faster than 1/|x|).")


def check_unit_mass(mass: Any, error: float, rtol: float, caller: str) -> None:
    """With normalized=True, ∫ p must be 1: DensityError when off by more than 1 %, DensityWarning when off
    by more than max(1e-8, 100·rtol, 10·(quadrature error))."""
    Z = float(plain(mass))
    off = abs(Z - 1)
    fix = ("pass normalized=False (the result is then divided by ∫ p), or normalize first: "
           "p = cm.prob.normalize(p̃, domain).pdf.")
    if not math.isfinite(Z) or off > MASS_REFUSED:
        raise DensityError(f"{caller}: the density integrates to {Z:.10g} over the domain, not 1, but "
                           f"normalized=True assumes 1.\n  {fix}")
    if off > max(1e-8, 100 * rtol, 10 * error):
        warnings.warn(f"{caller}: the density integrates to {Z:.12g} over the domain, not 1 (off by {off:.2g}); "
                      f"the result assumes 1 and is off by a relative {off:.2g} too. To remove it: {fix}",
                      DensityWarning, stacklevel=4)


def check_expectation_exists(g: Callable, pdf: Callable, domain: Any, caller: str, moment: str = "E[g]") -> None:
    """DensityError when an infinite end makes ∫ |g| p diverge: |g p| ~ |x|^−α with α < SLOWEST_DECAY.

    One variable only (a domain (lo, hi)); finite ends are left to quadrature.
    """
    lo, hi = float(domain[0]), float(domain[1])
    for end, sign, start in (("+∞", 1.0, hi), ("−∞", -1.0, lo)):
        if math.isfinite(start):
            continue
        other = lo if sign > 0 else hi
        base = max(0.0, sign * other) if math.isfinite(other) else 0.0
        envelope = _binade_maxima(g, pdf, sign, base)
        usable = np.isfinite(envelope) & (envelope > 0)
        if not usable[-1]:
            continue  # the tail underflows to 0 (or overflows: quadrature names that)
        first = len(usable) - 1
        while first > len(usable) - 1 - TAIL_SPAN and usable[first - 1]:
            first -= 1
        if first == len(usable) - 1:
            continue
        alpha = float(np.log2(envelope[first] / envelope[-1]) / (len(usable) - 1 - first))
        if alpha < SLOWEST_DECAY:
            verdict = "diverges" if alpha <= 1 else "converges too slowly to compute"
            raise DensityError(
                f"{caller}: {moment} does not exist here: |g(x)·p(x)| decays like |x|^{-alpha:.3g} as x → {end} "
                f"(at most {envelope[-1]:.3g} near x = {sign * (base + 2.0 ** TAIL_POWERS[-1]):.3g}), so ∫ |g| p "
                f"{verdict}.\n  an expectation needs E|g| < ∞ (|g p| decaying faster than 1/|x|); under a "
                "heavy-tailed law (Cauchy, Student t with few degrees of freedom) use a bounded g, a median or a "
                "quantile instead.")


def _binade_maxima(g: Callable, pdf: Callable, sign: float, base: float) -> np.ndarray:
    """max |g p| over POINTS_PER_BINADE points of each [2^k, 2^{k+1}) beyond ``base`` (an oscillating g is
    caught near its peaks)."""
    offsets = 2.0 ** (TAIL_POWERS[:, None] + np.arange(POINTS_PER_BINADE)[None, :] / POINTS_PER_BINADE)
    x = sign * (base + offsets.ravel())
    h = np.abs(_evaluate(g, x) * _evaluate(pdf, x)).reshape(offsets.shape)
    h = np.where(np.isnan(h), np.inf, h)  # unknown counts as large: it is not evidence of decay
    return np.max(h, axis=1)
