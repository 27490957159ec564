"""Conjugate gradient: solve A x = b for a symmetric positive definite A seen only through products A v.

Each step moves along a search direction A-conjugate to all earlier ones, so in exact arithmetic CG minimizes
½xᵀAx − bᵀx over the whole Krylov space span{b, Ab, …, A^{k−1}b} after k products; its error falls at least as
fast as 2((√κ − 1)/(√κ + 1))^k. It stops when ‖b − A x‖ ≤ rtol ‖b‖, or — inside Newton's method on a non-convex
loss — at a direction of non-positive curvature dᵀAd ≤ 0, where the quadratic model has no minimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from calcml.curvature.errors import CurvatureInputError, positive_integer


@dataclass(frozen=True)
class ConjugateGradientResult:
    """The approximate solution ``x``, the products A v used (``iterations``), the final residual ‖b − Ax‖ and
    whether a direction of non-positive curvature stopped the iteration (``x`` is then the last iterate
    before it, or zero if it was the first direction)."""

    x: np.ndarray
    iterations: int
    residual_norm: float
    negative_curvature: bool


def conjugate_gradient(matvec: Callable[[np.ndarray], np.ndarray], b: np.ndarray, rtol: float = 1e-10,
                       max_iter: int | None = None) -> ConjugateGradientResult:
    """x ≈ A⁻¹ b from products ``matvec(v)`` = A v, starting at x = 0, until ‖b − Ax‖ ≤ rtol ‖b‖.

    ``max_iter`` defaults to 2 n (CG ends in n steps in exact arithmetic).

    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> r = cm.curvature.conjugate_gradient(lambda v: A @ v, np.array([1.0, 2.0]))
    >>> np.round(r.x, 12), r.iterations                      # (1/11, 7/11) in two products
    (array([0.09090909, 0.63636364]), 2)
    """
    if not rtol > 0:
        raise CurvatureInputError(f"conjugate_gradient: rtol must be > 0, got {rtol!r}.")
    b = np.asarray(b, dtype=np.float64)
    limit = 2 * b.size if max_iter is None else positive_integer(max_iter, "max_iter", "conjugate_gradient")
    x = np.zeros_like(b)
    r = b.copy()
    d = r.copy()
    rr = float(r @ r)
    target = rtol * np.sqrt(rr)
    iterations = 0
    while np.sqrt(rr) > target and iterations < limit:
        Ad = matvec(d)
        iterations += 1
        curvature = float(d @ Ad)
        if curvature <= 0:
            return ConjugateGradientResult(x, iterations, float(np.sqrt(rr)), True)
        step = rr / curvature
        x = x + step * d
        r = r - step * Ad
        rr_next = float(r @ r)
        d = r + (rr_next / rr) * d
        rr = rr_next
    return ConjugateGradientResult(x, iterations, float(np.sqrt(rr)), False)
