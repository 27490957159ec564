"""The condition number κ = λ_max/λ_min of a loss's Hessian, from one Lanczos run on Hessian-vector products.

Lanczos's Ritz values converge to both ends of the spectrum first. Running it on the shifted operator σI − H
(whose largest eigenvalue is σ − λ_min) would give the very same Krylov space — Krylov spaces do not change
under a shift — so the smallest Ritz value of the one run is that estimate of λ_min. The bottom of the spectrum
is often clustered and converges more slowly than the top: each end comes with its residual ‖Hv − λv‖, and
λ_min ≥ α whenever the loss carries an L2 term α/2‖θ‖² on a convex model, a bound to check it against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.curvature.errors import CurvatureInputError, positive_integer
from calcml.curvature.lanczos import lanczos
from calcml.curvature.operator import HessianOperator


@dataclass(frozen=True)
class ConditionNumber:
    """λ_max, λ_min and κ = λ_max/λ_min of the Hessian, each end's residual ‖Hv − λv‖, and the HVPs used;
    ``gd_step`` = 2/(λ_min + λ_max) is gradient descent's best fixed step and ``gd_rate`` = (κ − 1)/(κ + 1) its
    contraction per step near the minimum."""

    lambda_max: float
    lambda_min: float
    residual_max: float
    residual_min: float
    hvps: int

    @property
    def kappa(self) -> float:
        """λ_max / λ_min (infinite when λ_min ≤ 0: no minimum's curvature in every direction)."""
        return self.lambda_max / self.lambda_min if self.lambda_min > 0 else float("inf")

    @property
    def gd_step(self) -> float:
        """2 / (λ_min + λ_max): the fixed step that makes |1 − ηλ| equal at both ends of the spectrum."""
        return 2.0 / (self.lambda_min + self.lambda_max)

    @property
    def gd_rate(self) -> float:
        """(κ − 1)/(κ + 1): gradient descent's contraction of θ − θ* per step with the step ``gd_step``."""
        return (self.kappa - 1) / (self.kappa + 1)

    def __repr__(self) -> str:
        return (f"ConditionNumber(kappa={self.kappa:.6g}, lambda_max={self.lambda_max:.6g}, "
                f"lambda_min={self.lambda_min:.6g}, gd_rate={self.gd_rate:.6g}, hvps={self.hvps})")


def condition_number(loss: Callable[[Any], Any], params: Any, iters: int = 100,
                     seed: int | None = 0) -> ConditionNumber:
    """κ(∇²loss(params)) from the extreme Ritz values of ``iters`` Lanczos steps (at most n).

    >>> c = cm.curvature.condition_number(lambda w: np.sum(np.array([0.5, 2.0, 10.0]) * w ** 2) / 2, np.zeros(3))
    >>> c.kappa, round(c.gd_rate, 12)              # 10 / 0.5 = 20; (20 − 1)/(20 + 1)
    (20.0, 0.904761904762)
    """
    iters = positive_integer(iters, "iters", "condition_number", least=2)
    H = HessianOperator(loss, params)
    if H.size < 2:
        raise CurvatureInputError("condition_number: a single parameter has no condition number to speak of.")
    rng = np.random.default_rng(seed)
    basis = lanczos(H, rng.standard_normal(H.size), iters, restart=rng)
    theta, S = basis.eigh()
    residuals = basis.last_beta * np.abs(S[-1])
    return ConditionNumber(float(theta[-1]), float(theta[0]), float(residuals[-1]), float(residuals[0]), H.hvps)
