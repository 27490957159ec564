"""Densities by quadrature: normalizing constants, expectations, variance, CDF (KL and entropy: information.py).

    Z = ∫ p̃,   E_p[g] = ∫ g p,   Var = E[(x − E x)²],   F(x) = ∫_{−∞}^x p

Each first checks that its function is a density and that the moment exists (``density_checks.py``).

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
from calcml.prob.density_checks import (
    check_expectation_exists,
    check_mass,
    check_nonnegative,
    check_unit_mass,
    plain,
)

REAL_LINE = (-np.inf, np.inf)
GRID_POINTS = 4000  # points where a density is checked to be ≥ 0, spread over the domain's axes


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

    Refused (DensityError): p̃ negative at a point of a grid over the domain (a signed function is no
    density), or Z ≤ 0, or Z not finite.

    >>> p, Z = cm.prob.normalize(lambda x: x ** -0.5 * (1 - x) ** -0.5, (0, 1))[:2]   # Beta(½, ½)
    >>> round(float(Z), 12)   # B(½, ½) = π
    3.14159265359
    """
    check_nonnegative(pdf, sample_points(domain), "normalize")
    result = integral(pdf, domain, rtol)
    check_mass(result.value, result.error, "normalize")
    Z = result.value
    return Normalized(lambda *x: pdf(*x) / Z, Z, result.error)


def sample_points(domain: Any) -> list[np.ndarray]:
    """About GRID_POINTS points spread over the domain, one flat array per variable (``domain_grid`` per axis)."""
    ranges = list(domain) if _is_multivariate(domain) else [domain]
    per_axis = max(3, int(GRID_POINTS ** (1 / len(ranges))))
    axes = np.meshgrid(*[domain_grid(r, per_axis) for r in ranges], indexing="ij")
    return [a.ravel() for a in axes]


def density_mass(pdf: Callable, domain: Any, normalized: bool, rtol: float, caller: str) -> Any:
    """Check that ``pdf`` is a density; return ∫ p (None when normalized=True, after checking it is 1)."""
    check_nonnegative(pdf, sample_points(domain), caller)
    result = integral(pdf, domain, rtol)
    if normalized:
        check_unit_mass(result.value, result.error, rtol, caller)
        return None
    check_mass(result.value, result.error, caller)
    return result.value


def mean_under(g: Callable, pdf: Callable, domain: Any, mass: Any, rtol: float) -> Any:
    """∫ g p, divided by ``mass`` unless it is None (a density already normalized)."""
    mean = integral(lambda *x: g(*x) * pdf(*x), domain, rtol).value
    return mean if mass is None else mean / mass


def expectation(g: Callable, pdf: Callable, domain: Any = REAL_LINE, normalized: bool = True,
                rtol: float = 1e-10) -> Any:
    """E_p[g] = ∫ g p (divided by ∫ p when ``normalized=False``).

    Checked first (DensityError): p ≥ 0 on a grid; with normalized=True, ∫ p = 1 (off by more than 1 %:
    refused; by more than the tolerance: DensityWarning); for one variable, E|g| < ∞ on infinite ends
    (|g p| must decay faster than 1/|x|: a Cauchy law has no mean).

    >>> round(float(cm.prob.expectation(lambda x: x ** 2, lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi))), 12)
    1.0
    """
    mass = density_mass(pdf, domain, normalized, rtol, "expectation")
    if not _is_multivariate(domain):
        check_expectation_exists(g, pdf, domain, "expectation")
    return mean_under(g, pdf, domain, mass, rtol)


def variance(pdf: Callable, domain: Any = REAL_LINE, normalized: bool = True, rtol: float = 1e-10) -> Any:
    """Var = E[(x − μ)²], μ = E[x] (two passes: no cancellation of E[x²] − μ²). One variable.

    Checked as ``expectation``, with E[x²] < ∞ (a Student t with ν ≤ 2 has no variance).
    """
    mass = density_mass(pdf, domain, normalized, rtol, "variance")
    check_expectation_exists(lambda x: x * x, pdf, domain, "variance", "E[x²]")
    mu = mean_under(lambda x: x, pdf, domain, mass, rtol)
    # the centre of the second pass, a plain number read from the value (float() of a traced mean would
    # raise): Var does not depend on the centre to first order, and the last line restores the gradient
    mu_value = float(mu.value) if type(mu) is Tensor else float(mu)
    second = mean_under(lambda x: (x - mu_value) ** 2, pdf, domain, mass, rtol)
    return second - (mu - mu_value) ** 2


def cdf(pdf: Callable, x: Any, domain: Any = REAL_LINE, rtol: float = 1e-10) -> Any:
    """F(x) = ∫_lo^min(x, hi) p: 0 below the domain, the total mass (1 for a density) above it.
    ``x`` may be an array (one integral per point) or a Tensor (dF/dx = p(x) inside, 0 outside).

    >>> phi = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
    >>> round(float(cm.prob.cdf(phi, 1.96)), 12)       # Φ(1.96)
    0.975002104852
    >>> float(cm.prob.cdf(lambda t: np.exp(-t), -1.0, (0, np.inf)))   # below the support
    0.0
    """
    lo, hi = domain

    def one(xi: Any) -> Any:
        at = float(plain(xi))
        if at <= lo:  # value + 0·x: a Tensor when x is traced (dF/dx = 0 there), and +0.0, not −0.0
            return 0.0 + 0.0 * xi
        if at >= hi:
            return quad(pdf, lo, hi, rtol=rtol).value + 0.0 * xi
        return quad(pdf, lo, xi, rtol=rtol).value

    if np.ndim(x) == 0:
        return one(x)
    return np.stack([one(xi) for xi in np.ravel(x)]).reshape(np.shape(x))


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
