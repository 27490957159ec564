"""Gradient descent with a fixed step, the baseline Newton's methods are measured against.

Near a minimum θ* with Hessian H, θ_{k+1} − θ* ≈ (I − ηH)(θ_k − θ*): each eigen-direction shrinks by |1 − ηλ_i|
per step. The worst is max(|1 − ηλ_min|, |1 − ηλ_max|), smallest for η = 2/(λ_min + λ_max), where it equals
(κ − 1)/(κ + 1) with κ = λ_max/λ_min: the condition number sets how many steps gradient descent needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.curvature.errors import CurvatureInputError, finite_start, positive_integer
from calcml.curvature.operator import HessianOperator
from calcml.curvature.solver_run import SolverRun


def gradient_descent(loss: Callable[[Any], Any], params: Any, lr: float, tol: float = 1e-6,
                     max_iter: int = 10_000) -> SolverRun:
    """θ ← θ − η ∇L(θ) from ``params`` until ‖∇L‖ ≤ tol (or ``max_iter`` steps, or a non-finite loss).

    >>> run = cm.curvature.gradient_descent(lambda w: (w[0] ** 2 + 4 * w[1] ** 2) / 2, np.ones(2), lr=0.4)
    >>> run.iterations, round(run.rate(), 6)       # η = 2/(1 + 4): every step shrinks ∇L by (4 − 1)/(4 + 1)
    (30, 0.6)
    """
    if not lr > 0:
        raise CurvatureInputError(f"gradient_descent: lr must be > 0, got {lr!r}.")
    if not tol > 0:
        raise CurvatureInputError(f"gradient_descent: tol must be > 0, got {tol!r}.")
    max_iter = positive_integer(max_iter, "max_iter", "gradient_descent")
    operator = HessianOperator(loss, params)
    theta = finite_start(operator.flatten(operator.params), "gradient_descent")
    value, gradient = operator.value_and_gradient()
    losses, norms = [value], [float(np.linalg.norm(gradient))]
    while norms[-1] > tol and len(losses) <= max_iter and np.isfinite(value):
        theta = theta - lr * gradient
        operator = operator.at(theta)
        value, gradient = operator.value_and_gradient()
        losses.append(value)
        norms.append(float(np.linalg.norm(gradient)))
    return SolverRun("gradient descent", operator.unflatten(theta), np.array(losses), np.array(norms),
                     bool(norms[-1] <= tol), len(norms))
