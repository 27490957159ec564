"""``integral``: the area under a curve, and Riemann sums of n rectangles converging to it.

    ∫ₐᵇ f(x) dx = lim_{n→∞} Σᵢ f(ξᵢ) Δx,   Δx = (b − a)/n,   ξᵢ the left end, right end or midpoint of piece i.

Left and right sums err by O(Δx), the midpoint sum by O(Δx²): the convergence panel shows both slopes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from calcml.integrate import rules
from calcml.viz.functions import as_function
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import theme

RULES = {"left": 0.0, "midpoint": 0.5, "right": 1.0}


def sample_points(a: float, b: float, n: int, rule: str) -> tuple[np.ndarray, float]:
    """(ξ₀ … ξₙ₋₁, Δx): where each rectangle's height is taken, and its width."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, not {rule!r}.")
    if n < 1:
        raise ValueError(f"a Riemann sum needs n ≥ 1 rectangles, got {n}.")
    width = (b - a) / n
    return a + (np.arange(n) + RULES[rule]) * width, width


def riemann_sum(f: Callable, a: float, b: float, n: int, rule: str = "midpoint") -> float:
    """Σᵢ f(ξᵢ) Δx with n equal pieces of [a, b], by ``calcml.integrate.rules`` (a constant f is spread)."""
    sample_points(a, b, n, rule)  # the picture's checks of rule and n
    summed = {"left": rules.left_riemann, "midpoint": rules.midpoint, "right": rules.right_riemann}[rule]
    return summed(lambda x: np.asarray(f(x), dtype=np.float64) * np.ones_like(x), a, b, n)


def exact_integral(f: str | Callable, a: float, b: float) -> tuple[float, str]:
    """(the value of ∫ₐᵇ f, how it was found): SymPy for a formula, adaptive Gauss–Kronrod (``cm.integrate.quad``,
    rtol 1e-12) for a function."""
    if isinstance(f, str):
        from calcml.symbolic import integrate
        from calcml.symbolic.parser import parse

        expr = parse(f)
        names = sorted(s.name for s in expr.free_symbols) or ["x"]
        return float(integrate(expr, (names[0], a, b)).result), "exact (SymPy)"
    from calcml.integrate import quad

    result = quad(f, a, b, rtol=1e-12)
    return float(result.value), f"quad, error ≤ {result.error:.0e}"


def integral(f: str | Callable, a: float = 0.0, b: float = 1.0, *, ns: Sequence[int] = (4, 16, 64),
             rule: str = "midpoint", exact: float | None = None, path: str | Path | None = None) -> Figure:
    """The area under f on [a, b] with n rectangles for each n in ``ns`` (one panel each), and the error
    |Riemann sum − exact| against n for all three rules (left, midpoint, right) on a log–log scale.

    The rectangles of each panel are one bar container labelled ``riemann-<n>`` (``len(container) == n``),
    its patches of gid ``riemann-<n>``.
    ``exact`` defaults to SymPy's value for a formula and to ``cm.integrate.quad`` for a function.

    >>> fig = cm.viz.integral("x*exp(-x)", 0, 3, ns=(4, 16, 64))
    """
    fun, label = as_function(f)
    a, b = float(a), float(b)
    if exact is None:
        exact, source = exact_integral(f, a, b)
    else:
        source = "given"
    xs = np.linspace(a, b, 400)
    with theme():
        fig = new_figure(4.0 * len(ns) + 4.5, 4.2)
        grid = fig.add_gridspec(1, len(ns) + 1, width_ratios=[1.0] * len(ns) + [1.2])
        for k, n in enumerate(ns):
            ax = fig.add_subplot(grid[0, k], sharey=fig.axes[0] if k else None)
            xi, width = sample_points(a, b, n, rule)
            heights = np.asarray(fun(xi), dtype=np.float64) * np.ones_like(xi)
            left = a + np.arange(n) * width
            ax.bar(left, heights, width=width, align="edge", color="#9ecae1", edgecolor="#3182bd",
                   linewidth=0.6 if n <= 64 else 0.0, gid=f"riemann-{n}", label=f"riemann-{n}")
            ax.plot(xs, np.asarray(fun(xs)) * np.ones_like(xs), color="black", linewidth=1.8)
            total = float(np.sum(heights) * width)
            ax.set_title(f"n = {n}: sum = {total:.6g}\nerror {total - exact:+.2e}")
            ax.axhline(0.0, color="gray", linewidth=0.8)
            ax.set_xlabel("x")
        counts = np.unique(np.geomspace(1, max(1024, 4 * max(ns)), 24).astype(int))
        cx = fig.add_subplot(grid[0, len(ns)])
        for name in RULES:
            errors = np.array([abs(riemann_sum(fun, a, b, int(n), name) - exact) for n in counts])
            cx.loglog(counts, np.maximum(errors, 1e-17), marker=".", label=f"{name} sum", gid=f"error-{name}")
        cx.set_xlabel("n rectangles")
        cx.set_ylabel("|sum − exact|")
        cx.set_title("left/right: O(1/n), midpoint: O(1/n²)")
        cx.legend()
        fig.suptitle(f"$\\int_{{{a:g}}}^{{{b:g}}} f(x)\\,dx = {exact:.10g}$ for {label}  ({source}); {rule} rectangles")
    return finish(fig, path)
