"""Fixed quadrature rules for teaching, and the convergence table that measures their order.

With n panels of width h = (b − a)/n, for smooth f:

    left / right Riemann   Σ f(x_i) h                      error O(h)
    midpoint               Σ f(x_i + h/2) h                error O(h²)
    trapezoid              h (f₀/2 + f₁ + … + f_n/2)       error O(h²)
    Simpson                h/3 (f₀ + 4f₁ + 2f₂ + … + f_n)  error O(h⁴)   (n even)
    Gauss–Legendre, m points per panel                     error O(h^{2m})

The measured order between n and 2n panels is log₂(error_n / error_2n).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def _grid(a: float, b: float, n: int) -> tuple[np.ndarray, float]:
    from calcml.autodiff.tensor import Tensor
    from calcml.integrate.quad import IntegrationInputError

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise IntegrationInputError(f"the number of panels must be an integer ≥ 1, got {n!r}.")
    ends = [x.value if type(x) is Tensor else x for x in (a, b)]  # never bool() of a traced Tensor
    if not np.all(np.isfinite(np.asarray(ends, dtype=float))):
        raise IntegrationInputError(f"the fixed rules need finite limits, got a={a}, b={b}; for an infinite range "
                                    "use cm.integrate.quad.")
    return np.linspace(a, b, n + 1), (b - a) / n


def left_riemann(f: Callable, a: float, b: float, n: int) -> float:
    """Σ_{i<n} f(a + i h) h."""
    x, h = _grid(a, b, n)
    return float(np.sum(f(x[:-1])) * h)


def right_riemann(f: Callable, a: float, b: float, n: int) -> float:
    """Σ_{i≥1} f(a + i h) h."""
    x, h = _grid(a, b, n)
    return float(np.sum(f(x[1:])) * h)


def midpoint(f: Callable, a: float, b: float, n: int) -> float:
    """Σ f(a + (i + ½) h) h."""
    x, h = _grid(a, b, n)
    return float(np.sum(f((x[:-1] + x[1:]) / 2)) * h)


def trapezoid(f: Callable, a: float, b: float, n: int) -> float:
    """h (f₀/2 + f₁ + … + f_{n−1} + f_n/2)."""
    x, h = _grid(a, b, n)
    y = f(x)
    return float((np.sum(y) - (y[0] + y[-1]) / 2) * h)


def simpson(f: Callable, a: float, b: float, n: int) -> float:
    """h/3 (f₀ + 4f₁ + 2f₂ + 4f₃ + … + f_n); n must be even."""
    if n % 2:
        raise ValueError(f"Simpson's rule needs an even number of panels, got {n}.")
    x, h = _grid(a, b, n)
    y = f(x)
    return float((y[0] + y[-1] + 4 * np.sum(y[1:-1:2]) + 2 * np.sum(y[2:-1:2])) * h / 3)


def gauss_legendre(f: Callable, a: float, b: float, n: int, points: int = 2) -> float:
    """Composite Gauss–Legendre: on each of n panels, Σ_j w_j f(c + h/2·ξ_j)·h/2 (ξ, w from leggauss)."""
    x, h = _grid(a, b, n)
    xi, w = np.polynomial.legendre.leggauss(points)
    nodes = ((x[:-1] + x[1:]) / 2)[:, None] + (h / 2) * xi
    return float(np.sum(f(nodes.ravel()).reshape(nodes.shape) @ w) * h / 2)


RULES: dict[str, tuple[Callable, float]] = {  # name -> (rule, its theoretical order)
    "left Riemann": (left_riemann, 1),
    "right Riemann": (right_riemann, 1),
    "midpoint": (midpoint, 2),
    "trapezoid": (trapezoid, 2),
    "Simpson": (simpson, 4),
}


@dataclass
class ConvergenceTable:
    """Errors of each rule for each panel count, and the measured orders (slopes on a log-log plot)."""

    panels: tuple[int, ...]
    errors: dict[str, list[float]]
    theory: dict[str, float]

    @property
    def orders(self) -> dict[str, float]:
        """Least-squares slope of −log₂(error) against log₂(n), over errors well above rounding."""
        result = {}
        for name, errors in self.errors.items():
            keep = [(n, e) for n, e in zip(self.panels, errors) if e > 1e-13]
            if len(keep) < 2:
                result[name] = float("nan")
                continue
            n, e = np.array(keep).T
            result[name] = float(-np.polyfit(np.log2(n), np.log2(e), 1)[0])
        return result

    def rows(self) -> list[tuple[str, ...]]:
        """One row of formatted errors and orders per rule."""
        orders = self.orders
        return [(name, *(f"{e:.2e}" for e in errors), f"{orders[name]:.2f}", f"{self.theory[name]:g}")
                for name, errors in self.errors.items()]

    def columns(self) -> tuple[str, ...]:
        """The table's header: rule, one error column per panel count, measured and theoretical order."""
        return ("rule", *(f"n = {n}" for n in self.panels), "measured order", "theory")

    def __str__(self) -> str:
        lines = ["  ".join(f"{c:>14}" for c in self.columns())]
        lines += ["  ".join(f"{c:>14}" for c in row) for row in self.rows()]
        return "\n".join(lines)


def convergence_table(f: Callable, a: float, b: float, exact: float,
                      panels: Sequence[int] = (4, 8, 16, 32, 64), gauss_points: Sequence[int] = (2, 3),
                      ) -> ConvergenceTable:
    """|rule(f, a, b, n) − exact| for every teaching rule and panel count n; ``.orders`` measures each order.

    >>> t = convergence_table(np.exp, 0, 1, np.e - 1); round(t.orders["Simpson"], 2)
    4.0
    """
    errors, theory = {}, {}
    for name, (rule, order) in RULES.items():
        errors[name] = [abs(rule(f, a, b, n) - exact) for n in panels]
        theory[name] = order
    for m in gauss_points:
        name = f"Gauss–Legendre {m}"
        errors[name] = [abs(gauss_legendre(f, a, b, n, m) - exact) for n in panels]
        theory[name] = 2 * m
    return ConvergenceTable(tuple(panels), errors, theory)
