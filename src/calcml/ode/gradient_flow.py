"""Gradient flow θ' = −∇L(θ), the continuous-time limit of gradient descent, and the step-size bound of GD.

Gradient descent θ_{k+1} = θ_k − η∇L(θ_k) is Euler's method on the flow with step η. On a quadratic
L(θ) = ½θᵀAθ − bᵀθ the error e = θ − θ* evolves as e_{k+1} = (I − ηA)e_k, which shrinks iff
|1 − ηλ| < 1 for every eigenvalue λ of A: η < 2/λ_max. The flow itself, e(t) = e^{−At}e(0), is stable
for any t — the bound belongs to the discretization, exactly like the stability region of an ODE method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.tensor import as_float_array
from calcml.autodiff.transforms import grad, hessian
from calcml.ode.solve import OdeResult, solve


def gradient_flow(loss: Callable, theta0: Any, t_span: tuple[float, float], t_eval: Any = None,
                  method: str = "dopri5", rtol: float = 1e-8, atol: float = 1e-10) -> OdeResult:
    """Solve θ' = −∇L(θ), θ(t0) = θ0, with ∇L from ``cm.grad``.

    >>> res = cm.ode.gradient_flow(lambda th: np.sum((th - 3.0) ** 2), np.array([0.0]), (0.0, 2.0))
    >>> res.y[-1]                    # 3 − 3e^{−4}
    array([2.94505308])
    """
    gradient = grad(loss)
    return solve(lambda t, theta: -gradient(theta), as_float_array(theta0), t_span, method=method,
                 rtol=rtol, atol=atol, t_eval=t_eval)


def gradient_descent(loss: Callable, theta0: Any, lr: float, steps: int) -> np.ndarray:
    """θ_{k+1} = θ_k − η∇L(θ_k): the iterates θ_0 … θ_steps, shape (steps + 1, *θ0.shape)."""
    gradient = grad(loss)
    theta = as_float_array(theta0)
    path = [theta]
    for _ in range(steps):
        theta = theta - lr * gradient(theta)
        path.append(theta)
    return np.stack(path)


@dataclass(frozen=True)
class StabilityReport:
    """Gradient descent just below and just above η = 2/λ_max of the Hessian."""

    lambda_max: float
    bound: float  # 2 / λ_max
    lr_below: float
    lr_above: float
    distance_below: np.ndarray  # ‖θ_k − θ*‖ along the path, η just below the bound
    distance_above: np.ndarray  # the same just above

    @property
    def converges_below(self) -> bool:
        """Whether gradient descent with the step just below the bound ended closer to the minimum."""
        return bool(self.distance_below[-1] < self.distance_below[0])

    @property
    def diverges_above(self) -> bool:
        """Whether gradient descent with the step just above the bound ended farther from the minimum."""
        return bool(self.distance_above[-1] > self.distance_above[0])

    def __repr__(self) -> str:
        return (f"StabilityReport(λ_max={self.lambda_max:.6g}, 2/λ_max={self.bound:.6g}: "
                f"η={self.lr_below:.4g} → ‖θ−θ*‖ {self.distance_below[0]:.3g} → {self.distance_below[-1]:.3g}; "
                f"η={self.lr_above:.4g} → {self.distance_above[0]:.3g} → {self.distance_above[-1]:.3g})")


def descent_stability(loss: Callable, theta_star: Any, theta0: Any, steps: int = 200,
                      margin: float = 0.02) -> StabilityReport:
    """Run gradient descent with η = (1 ∓ margin)·2/λ_max, λ_max the largest eigenvalue of ∇²L(θ*).

    On a quadratic the distance to the minimizer θ* shrinks below the bound and grows above it:
    the slowest/fastest factor per step is |1 − ηλ_max| = 1 ∓ 2·margin (about).
    """
    theta_star = as_float_array(theta_star)
    H = np.asarray(hessian(loss)(theta_star)).reshape(theta_star.size, theta_star.size)
    lambda_max = float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    if lambda_max <= 0:
        raise ValueError(f"descent_stability: the Hessian at θ* has no positive eigenvalue (λ_max = {lambda_max:g}); "
                         "θ* is not a strict minimizer, so there is no step-size bound to show.")
    bound = 2.0 / lambda_max
    below, above = (1 - margin) * bound, (1 + margin) * bound

    def distances(lr: float) -> np.ndarray:
        path = gradient_descent(loss, theta0, lr, steps)
        return np.linalg.norm((path - theta_star).reshape(len(path), -1), axis=1)

    return StabilityReport(lambda_max, bound, below, above, distances(below), distances(above))
