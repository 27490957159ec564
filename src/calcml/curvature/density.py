"""The Hessian's spectral density by stochastic Lanczos quadrature (SLQ; Ghorbani, Krishnan & Xiao 2019).

The density of eigenvalues φ(λ) = (1/n) Σ_i δ(λ − λ_i) satisfies (1/n) tr g(H) = ∫ g(λ) φ(λ) dλ. For a
random unit vector v, E[vᵀ g(H) v] = (1/n) tr g(H), and m Lanczos steps from v give a Gauss quadrature of
vᵀ g(H) v: nodes θ_i (the eigenvalues of T) and weights τ_i = (first component of T's i-th eigenvector)²,
exact for polynomials g of degree < 2m. Averaging over probes and replacing each δ by a Gaussian of width σ
gives a smooth density that integrates to 1; its mean is the estimated tr(H)/n and its second moment the
estimated tr(H²)/n + σ².
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.curvature.errors import CurvatureInputError, positive_integer
from calcml.curvature.lanczos import lanczos
from calcml.curvature.operator import HessianOperator
from calcml.curvature.trace import rademacher


@dataclass(frozen=True)
class SpectralDensity:
    """A smoothed eigenvalue density on ``grid``; ``nodes`` and ``weights`` are the quadrature it smooths
    (all probes together, the weights summing to 1), ``sigma`` the Gaussian's width."""

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    hvps: int

    def moment(self, power: int) -> float:
        """∫ λ^power φ(λ) dλ of the quadrature before smoothing (estimates tr(H^power)/n)."""
        return float(np.sum(self.weights * self.nodes ** power))

    def __repr__(self) -> str:
        return (f"SpectralDensity(range=[{self.nodes.min():.4g}, {self.nodes.max():.4g}], sigma={self.sigma:.2g}, "
                f"grid={len(self.grid)} points, hvps={self.hvps})")


def spectral_density(loss: Callable[[Any], Any], params: Any, num_probes: int = 10, lanczos_steps: int = 40,
                     grid: int | np.ndarray = 1000, sigma: float | None = None,
                     seed: int | None = 0) -> SpectralDensity:
    """The Hessian's eigenvalue density at params, by stochastic Lanczos quadrature, smoothed by a Gaussian.

    ``grid`` is a number of points (spread over the Ritz values' range with a 5σ margin each side) or the
    points themselves; ``sigma`` defaults to 1% of that range. Costs ``num_probes × lanczos_steps`` HVPs.

    >>> d = cm.curvature.spectral_density(lambda w: np.sum(np.arange(1.0, 6.0) * w ** 2) / 2, np.zeros(5))
    >>> round(d.moment(1), 10), round(float(np.trapezoid(d.density, d.grid)), 6)   # mean eigenvalue 3, area 1
    (3.0, 1.0)
    """
    num_probes = positive_integer(num_probes, "num_probes", "spectral_density")
    lanczos_steps = positive_integer(lanczos_steps, "lanczos_steps", "spectral_density")
    H = HessianOperator(loss, params)
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    for _ in range(num_probes):
        basis = lanczos(H, rademacher(rng, H.size), lanczos_steps)
        theta, S = basis.eigh()
        nodes.append(theta)
        weights.append(S[0] ** 2 / num_probes)
    theta_all, tau_all = np.concatenate(nodes), np.concatenate(weights)
    low, high = float(theta_all.min()), float(theta_all.max())
    width = high - low if high > low else max(abs(high), 1.0)
    if sigma is None:
        sigma = 0.01 * width
    if sigma <= 0:
        raise CurvatureInputError(f"spectral_density: sigma must be > 0, got {sigma!r}.")
    if np.ndim(grid) == 0:
        points = int(grid)
        if points < 2:
            raise CurvatureInputError(f"spectral_density: grid needs at least 2 points, got {grid!r}.")
        grid = np.linspace(low - 5 * sigma, high + 5 * sigma, points)
    grid = np.asarray(grid, dtype=np.float64)
    gauss = np.exp(-0.5 * ((grid[:, None] - theta_all[None, :]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return SpectralDensity(grid, gauss @ tau_all, theta_all, tau_all, float(sigma), H.hvps)
