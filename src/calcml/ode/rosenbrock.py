"""The stiff method: Rosenbrock23, the linearly implicit method of MATLAB's ode23s (Shampine & Reichelt 1997).

Each step solves three linear systems with one matrix W = I − h d J, d = 1/(2 + √2), J = ∂f/∂y:

    k₁ = W⁻¹ (f(t, y) + h d ∂f/∂t)
    k₂ = W⁻¹ (f(t + h/2, y + h k₁/2) − k₁) + k₁,           y_new = y + h k₂   (order 2, L-stable)
    k₃ = W⁻¹ (f(t + h, y_new) − e₃₂(k₂ − f₁) − 2(k₁ − f₀) + h d ∂f/∂t),   e₃₂ = 6 + √2
    error ≈ h (k₁ − 2k₂ + k₃)/6.

No Newton iteration, so no convergence failures; stability does not limit h. The Jacobian comes from
calcml's forward mode (``cm.jacobian(f, mode="fwd")``, exact), or from ``jac(t, y)`` when given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from calcml.autodiff.transforms import jacobian
from calcml.ode.adaptive import Attempt, first_nonfinite

D = 1.0 / (2.0 + np.sqrt(2.0))
E32 = 6.0 + np.sqrt(2.0)


class Rosenbrock23:
    """One linearly implicit step on a flat state vector; the Jacobian is reused across rejected attempts."""

    name = "rosenbrock23"
    error_order = 2

    def __init__(self, f: Callable, jac: Callable | None = None):
        self.f = f
        self.jac = jac
        self.njev = 0
        self._at = None
        self._jacobians = None

    def jacobians(self, t: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(∂f/∂t, ∂f/∂y) at (t, y)."""
        if self._at is not None and self._at[0] == t and self._at[1] is y:
            return self._jacobians
        self.njev += 1
        if self.jac is None:
            dt, dy = jacobian(self.f, argnums=(0, 1), mode="fwd")(float(t), y)
        else:
            dy = np.asarray(self.jac(t, y), dtype=float).reshape(y.size, y.size)
            delta = np.sqrt(np.finfo(float).eps) * max(1.0, abs(t))
            dt = (self.f(t + delta, y) - self.f(t, y)) / delta
        self._at, self._jacobians = (t, y), (np.asarray(dt).reshape(y.shape), np.asarray(dy).reshape(y.size, -1))
        return self._jacobians

    def attempt(self, f: Callable, t: float, y: np.ndarray, h: float, f0: np.ndarray) -> Attempt:
        dt, dy = self.jacobians(t, y)
        w_inv = np.linalg.inv(np.eye(y.size) - (h * D) * dy)
        k1 = w_inv @ (f0 + (h * D) * dt)
        y_half = y + (0.5 * h) * k1
        f1 = f(t + 0.5 * h, y_half)
        k2 = w_inv @ (f1 - k1) + k1
        y_new = y + h * k2
        f2 = f(t + h, y_new)
        k3 = w_inv @ (f2 - E32 * (k2 - f1) - 2.0 * (k1 - f0) + (h * D) * dt)
        error = (h / 6.0) * (k1 - 2.0 * k2 + k3)

        def coefficients() -> list:  # y(t + θh) = y + h[θ(1 − θ) k₁ + θ(θ − 2d) k₂]/(1 − 2d)
            return [y, (h / (1 - 2 * D)) * (k1 - 2 * D * k2), (h / (1 - 2 * D)) * (k2 - k1)]

        nonfinite = None
        if not np.isfinite(error).all():
            nonfinite = first_nonfinite([t + 0.5 * h, t + h], [y_half, y_new], [f1, f2])
        return Attempt(y_new, f2, error, coefficients, float("nan"), nonfinite)
