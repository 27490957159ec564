"""``derivative``: a function, its derivative and the tangent at a point, with secant lines closing in on
the tangent (the limit definition  f'(x₀) = lim_{h→0} (f(x₀ + h) − f(x₀)) / h)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from calcml.autodiff.transforms import grad
from calcml.viz.functions import as_function, elementwise_derivative
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import theme


def derivative(f: str | Callable, x0: float = 1.0, *, xlim: tuple[float, float] | None = None,
               secants: Sequence[float] = (1.0, 0.5, 0.25, 0.1), points: int = 400,
               show_derivative: bool = True, path: str | Path | None = None) -> Figure:
    """Draw f, its tangent at x₀ (slope f'(x₀) from ``cm.grad``) and secants through (x₀, f(x₀)) and
    (x₀ + h, f(x₀ + h)) whose slopes approach f'(x₀) as h shrinks; below, f' itself (one reverse pass).

    Lines of the upper axes carry gids: ``f``, ``tangent`` and ``secant-<h>``.

    >>> fig = cm.viz.derivative("sin(x**2)", 1.0, path="derivative.svg")
    """
    fun, label = as_function(f)
    x0 = float(x0)
    slope = float(grad(fun)(x0))
    y0 = float(fun(np.float64(x0)))
    if xlim is None:
        span = max(2.0, 1.5 * max(secants, default=1.0))
        xlim = (x0 - span, x0 + span)
    xs = np.linspace(xlim[0], xlim[1], points)
    with theme(), np.errstate(all="ignore"):
        ys = np.asarray(fun(xs), dtype=np.float64)
        fig = new_figure(7.0, 6.5 if show_derivative else 4.5)
        axes = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1)) if show_derivative else [fig.add_subplot()]
        ax = axes[0]
        ax.plot(xs, ys, color="black", linewidth=2, label=label, gid="f")
        ax.plot(xs, y0 + slope * (xs - x0), color="#d62728", linewidth=1.8,
                label=f"tangent: slope f'({x0:g}) = {slope:.4g}", gid="tangent")
        shades = np.linspace(0.35, 0.85, len(secants))[::-1]
        for h, shade in zip(secants, shades):
            rise = float(fun(np.float64(x0 + h))) - y0
            ax.plot(xs, y0 + rise / h * (xs - x0), color=(shade, shade, 1.0), linewidth=1, linestyle="--",
                    label=f"secant h = {h:g}: slope {rise / h:.4g}", gid=f"secant-{h:g}")
            ax.scatter([x0 + h], [y0 + rise], color=(shade, shade, 1.0), s=15, zorder=3)
        ax.scatter([x0], [y0], color="#d62728", s=30, zorder=4)
        finite = ys[np.isfinite(ys)]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
            pad = 0.15 * (high - low or 1.0)
            ax.set_ylim(low - pad, high + pad)
        ax.set_xlim(*xlim)
        ax.set_title(f"secants (f(x₀+h) − f(x₀))/h → f'(x₀) as h → 0, at x₀ = {x0:g}")
        ax.legend(loc="best")
        if show_derivative:
            bx = axes[1]
            bx.plot(xs, elementwise_derivative(fun, xs), color="#1f77b4", linewidth=1.8, label="f'(x) (autodiff)",
                    gid="derivative")
            bx.scatter([x0], [slope], color="#d62728", s=30, zorder=4)
            bx.axhline(0.0, color="gray", linewidth=0.8)
            bx.set_xlabel("x")
            bx.legend(loc="best")
        else:
            ax.set_xlabel("x")
    return finish(fig, path)
