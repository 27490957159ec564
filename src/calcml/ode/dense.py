"""Dense output: the solution between steps, from each step's continuous extension.

Every step [t_k, t_k + h_k] stores coefficients Q_0 … Q_m with y(t_k + θ h_k) = Σ_j Q_j θ^j, θ ∈ [0, 1]:
dopri5's own fourth-order interpolant, Rosenbrock23's second-order one, or a cubic Hermite
interpolant through (y, f) at both ends for the fixed-step methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from calcml.ode.events import value_of
from calcml.ode.tableaus import horner


class DenseSolution:
    """y(t) for any t in the solved interval: ``sol(2.5)`` has shape y0.shape, ``sol(ts)`` (len(ts), *y0.shape).

    >>> res = cm.ode.solve(lambda t, y: -y, np.array([1.0]), (0, 2), dense_output=True)
    >>> res.sol(1.0)            # ≈ e^{-1}
    array([0.36787948])
    """

    def __init__(self, starts: Sequence[float], steps: Sequence[float], coefficients: Sequence[Sequence[Any]]):
        self.starts = np.asarray(starts, dtype=float)
        self.steps = np.asarray(steps, dtype=float)
        self.coefficients = [[value_of(q) for q in qs] for qs in coefficients]
        self.forward = len(self.steps) == 0 or self.steps[0] > 0
        ends = self.starts + self.steps
        self.t_min = float(min(self.starts[0], ends[-1])) if len(ends) else float("nan")
        self.t_max = float(max(self.starts[0], ends[-1])) if len(ends) else float("nan")

    def _one(self, t: float) -> np.ndarray:
        if self.forward:
            k = int(np.searchsorted(self.starts, t, side="right")) - 1
        else:
            k = int(np.searchsorted(-self.starts, -t, side="right")) - 1
        k = min(max(k, 0), len(self.starts) - 1)
        theta = (t - self.starts[k]) / self.steps[k]
        return horner(self.coefficients[k], theta)

    def __call__(self, t: float | np.ndarray) -> np.ndarray:
        ts = np.asarray(t, dtype=float)
        span = self.t_max - self.t_min
        if np.any(ts < self.t_min - 1e-12 * span) or np.any(ts > self.t_max + 1e-12 * span):
            raise ValueError(f"dense output is defined on [{self.t_min:g}, {self.t_max:g}]; "
                             f"asked for t in [{ts.min():g}, {ts.max():g}].")
        if ts.ndim == 0:
            return self._one(float(ts))
        return np.stack([self._one(float(s)) for s in ts.ravel()]).reshape(ts.shape + self.coefficients[0][0].shape)
