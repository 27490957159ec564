"""What an iterative minimizer leaves behind: the solution, and the loss and gradient norm at every iterate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calcml.curvature.errors import CurvatureInputError


@dataclass(frozen=True)
class SolverRun:
    """``params`` (a pytree like the start), ``losses`` and ``grad_norms`` at every iterate (the start
    included, so ``iterations + 1`` values), whether ‖∇L‖ reached the tolerance, and the cost: ``gradients``
    evaluated and curvature-vector products (``hvps``; GGN-vector products for Gauss–Newton). Newton's methods
    also keep the CG products and the line-search step length of each iteration.
    """

    method: str
    params: Any
    losses: np.ndarray
    grad_norms: np.ndarray
    converged: bool
    gradients: int
    hvps: int = 0
    cg_iterations: list[int] = field(default_factory=list)
    step_lengths: list[float] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        """Updates taken."""
        return len(self.losses) - 1

    def rate(self, start: int | None = None) -> float:
        """The observed linear rate: (‖∇L_K‖ / ‖∇L_j‖)^(1/(K − j)) over iterations j … K = the last (default j =
        K/2). Near a minimum ∇L ≈ H (θ − θ*), so for gradient descent this is the contraction of θ − θ* per step.

        >>> run = SolverRun("gd", None, np.zeros(4), np.array([8.0, 4.0, 2.0, 1.0]), True, 4)
        >>> run.rate(0)
        0.5
        """
        last = self.iterations
        first = last // 2 if start is None else start
        if not 0 <= first < last:
            raise CurvatureInputError(f"SolverRun.rate: start must lie in [0, {last - 1}], got {first}.")
        return float((self.grad_norms[last] / self.grad_norms[first]) ** (1.0 / (last - first)))

    def __repr__(self) -> str:
        status = "converged" if self.converged else "not converged"
        return (f"SolverRun({self.method}: {self.iterations} iterations, {status}, loss={self.losses[-1]:.10g}, "
                f"‖∇L‖={self.grad_norms[-1]:.2e}, gradients={self.gradients}, hvps={self.hvps})")
