"""Telling a fixed-step explicit method that has gone unstable from a solution that really grows.

One step of an explicit Runge–Kutta method multiplies a perturbation along an eigenvector of J = ∂f/∂y
(eigenvalue λ) by its stability polynomial R(hλ) (1 + z for Euler, Σ_{j≤4} z^j/j! for RK4); the ODE
multiplies it by e^{hλ}. With λ < 0 beyond the method's real stability limit (h|λ| > 2 for Euler,
2.785 for RK4) |R(hλ)| > 1: the numbers grow geometrically while the solution decays (y' = −1000 y with
Euler at h = 0.01 multiplies by −9 each step and reaches 1e95 at t = 1 without overflowing).

Each step yields an increment Δy = y_{n+1} − y_n and Δf = f(t_{n+1}, y_{n+1}) − f(t_n, y_n) ≈ J Δy. On the
span of the last two increments Y = [Δy_{n−1}, Δy_n], J acts as the 2×2 matrix M with Y M ≈ [Δf_{n−1}, Δf_n]
(least squares); its eigenvalues (Ritz values) estimate the λ of the mode that dominates the increments —
a complex pair for an oscillation, where the Rayleigh quotient ⟨Δf, Δy⟩/‖Δy‖² of a non-normal J misleads.
When the two increments are parallel (one variable, a real mode) M is the scalar ⟨Δf, Δy⟩/‖Δy‖². With

    μ = max Re λ(M)   the ODE's own growth rate there,   ρ = max |λ(M)|,   g = ‖Δy_{n+1}‖ / ‖Δy_n‖,

a step is *unstable* when g > GROWTH·max(1, e^{hμ}) (it grows faster than the ODE allows) and hρ exceeds
the method's real stability limit.
UNSTABLE_STEPS of them in a row raise StiffnessError. A solution that really grows (y' = y, y' = y²) has
μ > 0 and g ≤ e^{hμ}: never flagged; it overflows or is returned, as it should.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calcml.ode.arguments import value_of
from calcml.ode.errors import StiffnessError

GROWTH = 1.1  # increments must grow at least 10 % faster than the ODE allows
UNSTABLE_STEPS = 4  # consecutive unstable steps before refusing


class InstabilityWatch:
    """Follows the steps of a fixed-step solve; ``step`` raises StiffnessError once it has gone unstable."""

    def __init__(self, name: str, stability_limit: float):
        self.name = name
        self.limit = stability_limit
        self.last_increment = 0.0
        self.last_pair: tuple[np.ndarray, np.ndarray] | None = None
        self.run: list[tuple[float, float, float, float]] = []  # (t, g, e^{hμ}, ρ) of the current unstable run

    def step(self, t: float, h: float, y: Any, y_new: Any, f_old: Any, f_new: Any) -> None:
        """Account for the step t → t + h from y (where f = f_old) to y_new (where f = f_new)."""
        dy = np.ravel(value_of(y_new) - value_of(y))
        df = np.ravel(value_of(f_new) - value_of(f_old))
        size = float(np.linalg.norm(dy))
        previous, self.last_increment = self.last_increment, size
        if size == 0.0 or previous == 0.0 or not np.isfinite(df).all():
            self.run.clear()
            self.last_pair = None
            return
        growth = size / previous
        ritz = _ritz_values(self.last_pair, (dy, df)) if self.last_pair is not None else None
        self.last_pair = (dy, df)
        if ritz is None:
            ritz = np.array([np.dot(df, dy) / (size * size)])
        mu = float(np.max(ritz.real))
        rho = float(np.max(np.abs(ritz)))
        allowed = math.exp(min(abs(h) * mu, 700.0))
        if growth > GROWTH * max(1.0, allowed) and abs(h) * rho > self.limit:
            self.run.append((t, growth, allowed, rho))
        else:
            self.run.clear()
        if len(self.run) >= UNSTABLE_STEPS:
            self._refuse(abs(h))

    def _refuse(self, h: float) -> None:
        t_first, t_last = self.run[0][0], self.run[-1][0]
        growth = math.exp(np.mean([math.log(g) for _, g, _, _ in self.run]))
        allowed, rho = self.run[-1][2], self.run[-1][3]
        raise StiffnessError(
            f"{self.name} with step h = {h:g} is unstable on this problem: from t = {t_first:.6g} to "
            f"{t_last:.6g} each step multiplied the change of y by about {growth:.3g}, where the ODE allows "
            f"e^(hμ) = {allowed:.3g} (μ its rate along that direction), and h·|∂f/∂y| ≈ {h * rho:.3g} exceeds "
            f"{self.name}'s stability limit {self.limit:.4g}. Continuing would return that growth, not the "
            "solution.\n"
            f"  take step < {self.limit / rho:.3g} (the stability bound {self.limit:.4g}/|∂f/∂y|), or use "
            "method='rosenbrock23' (linearly implicit, for stiff problems) or 'dopri5' (adaptive).")


def _ritz_values(older: tuple[np.ndarray, np.ndarray], newer: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Eigenvalues of M with [Δy₀, Δy₁] M ≈ [Δf₀, Δf₁]; None when the increments are (nearly) parallel."""
    Y = np.stack([older[0], newer[0]], axis=1)
    F = np.stack([older[1], newer[1]], axis=1)
    if Y.shape[0] < 2:
        return None
    scale = np.linalg.norm(Y, axis=0)
    singular = np.linalg.svd(Y / scale, compute_uv=False)
    if singular[-1] < 1e-6 * singular[0]:
        return None
    M = np.linalg.lstsq(Y, F, rcond=None)[0]
    return np.linalg.eigvals(M)
