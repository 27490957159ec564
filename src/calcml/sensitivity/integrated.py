"""Integrated gradients (Sundararajan, Taly & Yan 2017) with the completeness check.

    IG_i(x) = (x_i − x'_i) ∫₀¹ ∂f/∂x_i (x' + α (x − x')) dα

along the straight path from a baseline x' to x. By the fundamental theorem of calculus for line integrals
Σ_i IG_i = f(x) − f(x'): the attributions account for the whole change of the output ("completeness"). The
integral is computed by a fixed rule on ``steps`` panels — the gradients at all path points in one
``cm.vmap`` pass — so the completeness gap Σ IG_i − (f(x) − f(x')) measures the rule's error (O(1/steps²)
for the trapezoid and midpoint rules, O(1/steps) for the left and right Riemann sums).

calcml.integrate's fixed rules integrate scalar functions; here the integrand is a vector (one gradient
per feature), so the rules' nodes and weights are written out below (the same formulas).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff import no_grad
from calcml.sensitivity.errors import SensitivityInputError
from calcml.sensitivity.gradients import input_gradients, plain

RULES = ("trapezoid", "midpoint", "riemann_left", "riemann_right")


def path_rule(rule: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes α in [0, 1] and weights of a fixed rule with ``steps`` panels (the weights sum to 1)."""
    h = 1.0 / steps
    edges = np.linspace(0.0, 1.0, steps + 1)
    if rule == "trapezoid":
        weights = np.full(steps + 1, h)
        weights[[0, -1]] = h / 2
        return edges, weights
    if rule == "midpoint":
        return (edges[:-1] + edges[1:]) / 2, np.full(steps, h)
    if rule == "riemann_left":
        return edges[:-1], np.full(steps, h)
    if rule == "riemann_right":
        return edges[1:], np.full(steps, h)
    raise SensitivityInputError(f"integrated_gradients: rule must be one of {', '.join(RULES)}, not {rule!r}.")


@dataclass(frozen=True)
class IntegratedGradients:
    """Attributions shaped like x, and how well they add up: ``completeness_gap`` = Σ attributions −
    (f(x) − f(baseline)). ``np.asarray(result)`` is the attributions."""

    attributions: np.ndarray
    completeness_gap: float
    output_change: float
    baseline: np.ndarray
    steps: int
    rule: str

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``attributions`` (that of the input x)."""
        return self.attributions.shape

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.attributions if dtype is None else self.attributions.astype(dtype)

    def __repr__(self) -> str:
        return (f"IntegratedGradients(shape={self.shape}, f(x) − f(baseline)={self.output_change:.6g}, "
                f"completeness_gap={self.completeness_gap:.1e}, steps={self.steps}, rule={self.rule!r})")


def integrated_gradients(f: Callable[[Any], Any], x: Any, baseline: Any = None, steps: int = 50,
                         rule: str = "trapezoid") -> IntegratedGradients:
    """Integrated gradients of the scalar f at x from ``baseline`` (zeros by default), by ``rule`` on ``steps``
    panels along the straight path.

    >>> r = cm.sensitivity.integrated_gradients(lambda x: x[0] * x[1], np.array([2.0, 3.0]))
    >>> r.attributions, r.completeness_gap       # (x₁x₂/2, x₁x₂/2): each factor gets half of the product
    (array([3., 3.]), 0.0)
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise SensitivityInputError(f"integrated_gradients: steps must be an integer ≥ 1, got {steps!r}.")
    x = plain(x)
    baseline = np.zeros_like(x) if baseline is None else np.broadcast_to(plain(baseline), x.shape).copy()
    alphas, weights = path_rule(rule, int(steps))
    difference = x - baseline
    points = baseline[None] + alphas.reshape(-1, *([1] * x.ndim)) * difference[None]
    gradients = input_gradients(f, points)
    attributions = difference * np.tensordot(weights, gradients, axes=1)
    with no_grad():
        change = float(plain(f(x))) - float(plain(f(baseline)))
    gap = float(attributions.sum() - change)
    return IntegratedGradients(attributions, gap, change, baseline, int(steps), rule)
