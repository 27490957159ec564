"""Newton's method without the Hessian: each step solves H p = −∇L by conjugate gradient on Hessian-vector
products (Newton–CG, or truncated Newton), then takes the longest step t ∈ {1, ½, ¼, …} that lowers the loss
enough (Armijo: L(θ + tp) ≤ L(θ) + 10⁻⁴ t ∇Lᵀp).

CG stops once ‖Hp + ∇L‖ ≤ min(½, √‖∇L‖) ‖∇L‖ (the Eisenstat–Walker forcing term): rough steps far from the
minimum, exact ones near it, so the convergence is superlinear while the early steps stay cheap. Gauss–Newton is
the same iteration with the GGN matrix Jᵀ∇²ℓJ in place of H (``GaussNewtonOperator``): positive semi-definite for
a convex ℓ even where H is not. With an L2 term α/2‖θ‖² in the loss, H ⪰ αI on a convex model and every CG solve
is well posed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.curvature.conjugate_gradient import conjugate_gradient
from calcml.curvature.errors import CurvatureInputError, finite_start, positive_integer
from calcml.curvature.gauss_newton import GaussNewtonOperator
from calcml.curvature.operator import HessianOperator
from calcml.curvature.solver_run import SolverRun

ARMIJO = 1e-4
HALVINGS = 40


def newton_cg(loss: Callable[[Any], Any], params: Any, tol: float = 1e-6, max_iter: int = 100) -> SolverRun:
    """Minimize ``loss`` from ``params`` by Newton–CG until ‖∇L‖ ≤ tol: θ ← θ + t p with H p ≈ −∇L.

    >>> A, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    >>> run = cm.curvature.newton_cg(lambda w: w @ A @ w / 2 - b @ w, np.zeros(2))
    >>> np.round(run.params, 12), run.iterations, run.cg_iterations   # A⁻¹b = (3/5, −4/5)
    (array([ 0.6, -0.8]), 3, [1, 1, 2])

    Far from the minimum CG stops early (here after one product, at half the residual); near it, it solves
    exactly, and Newton's quadratic convergence takes over.
    """
    return minimize(HessianOperator(loss, params), "newton-cg", tol, max_iter)


def gauss_newton(outputs: Callable[[Any], Any], output_loss: Callable[[Any], Any], params: Any, tol: float = 1e-6,
                 max_iter: int = 100) -> SolverRun:
    """Minimize L(θ) = ``output_loss(outputs(θ))`` by Gauss–Newton with CG on GGN-vector products.

    >>> X, y = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), np.array([1.0, 2.0, 2.0])
    >>> run = cm.curvature.gauss_newton(lambda w: X @ w, lambda z: np.sum((z - y) ** 2) / 2, np.zeros(2))
    >>> np.round(run.params, 8), run.converged       # least squares: the GGN is XᵀX = the Hessian
    (array([1.16666667, 0.5       ]), True)
    """
    return minimize(GaussNewtonOperator(outputs, output_loss, params), "gauss-newton", tol, max_iter)


def minimize(operator: HessianOperator, method: str, tol: float, max_iter: int) -> SolverRun:
    """The Newton–CG iteration with the curvature ``operator`` (its ``at`` gives it at each new point)."""
    if not tol > 0:
        raise CurvatureInputError(f"{method}: tol must be > 0, got {tol!r}.")
    max_iter = positive_integer(max_iter, "max_iter", method)
    theta = finite_start(operator.flatten(operator.params), method)
    value, gradient = operator.value_and_gradient()
    losses, norms, cg_counts, lengths = [value], [float(np.linalg.norm(gradient))], [], []
    products = 0
    while norms[-1] > tol and len(cg_counts) < max_iter:
        g_norm = norms[-1]
        solve = conjugate_gradient(operator, -gradient, rtol=min(0.5, np.sqrt(g_norm)))
        products += operator.hvps
        direction = solve.x if np.any(solve.x) else -gradient  # negative curvature at once: steepest descent
        slope = float(gradient @ direction)
        t = _armijo(operator, theta, value, slope, direction)
        if t is None:
            break
        theta = theta + t * direction
        cg_counts.append(solve.iterations)
        lengths.append(t)
        operator = operator.at(theta)
        value, gradient = operator.value_and_gradient()
        losses.append(value)
        norms.append(float(np.linalg.norm(gradient)))
    return SolverRun(method, operator.unflatten(theta), np.array(losses), np.array(norms), norms[-1] <= tol,
                     len(norms), products, cg_counts, lengths)


def _armijo(operator: HessianOperator, theta: np.ndarray, value: float, slope: float,
            direction: np.ndarray) -> float | None:
    """The longest t = 2⁻ᵏ with L(θ + t d) ≤ L(θ) + 10⁻⁴ t ∇Lᵀd, allowing for rounding in L (a few ulps of
    |L|); None when 40 halvings found none (the direction does not descend)."""
    rounding = 16 * np.finfo(np.float64).eps * max(abs(value), 1.0)
    t = 1.0
    for _ in range(HALVINGS):
        if operator.value(theta + t * direction) <= value + ARMIJO * t * slope + rounding:
            return t
        t /= 2
    return None
