"""``vector_field``: the field −∇f over a plane — the direction gradient descent would step from every point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from calcml.autodiff.transforms import grad
from calcml.optim.race import Bounds, Surface, surface
from calcml.viz.math_text import math_text
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import theme


def negative_gradient(where: Surface, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(−∂f/∂x, −∂f/∂y) at every grid point, in one reverse pass over Σ f(X, Y) (f acts pointwise)."""
    gx, gy = grad(lambda x, y: np.sum(where.f(x, y)), argnums=(0, 1))(X, Y)
    return -np.asarray(gx), -np.asarray(gy)


def vector_field(f: str | Surface | Callable = "himmelblau", bounds: Bounds | None = None, *, density: int = 21,
                 path: str | Path | None = None) -> Figure:
    """Arrows of −∇f on a ``density``×``density`` grid over contours of f.

    Every arrow has the same length (the direction of steepest descent); its colour is ‖∇f‖ on a log scale,
    so flat regions and steep walls both read. The arrows are ``figure.axes[0].collections`` of gid
    ``negative-gradient``; their ``U, V`` are the unit directions −∇f/‖∇f‖.

    >>> fig = cm.viz.vector_field("x**2 - y**2", bounds=((-2, 2), (-2, 2)))
    """
    where = surface(f) if bounds is None else _with_bounds(surface(f), bounds)
    (x0, x1), (y0, y1) = where.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, density), np.linspace(y0, y1, density))
    U, V = negative_gradient(where, X, Y)
    magnitude = np.hypot(U, V)
    safe = np.where(magnitude > 0, magnitude, 1.0)
    with theme():
        fig = new_figure(6.5, 5.5)
        ax = fig.add_subplot()
        CX, CY, CZ = where.grid(200)
        levels = ax.contour(CX, CY, CZ, levels=25, colors="#404040", linewidths=0.8, alpha=0.6)
        levels.set_gid("level-lines")
        positive = magnitude[magnitude > 0]
        norm = LogNorm(positive.min(), positive.max()) if positive.size and positive.max() > positive.min() else None
        arrows = ax.quiver(X, Y, U / safe, V / safe, np.where(magnitude > 0, magnitude, np.nan), cmap="plasma",
                           norm=norm, pivot="mid", angles="xy", scale_units="xy",
                           scale=density / (0.8 * (x1 - x0)), width=0.004)
        arrows.set_gid("negative-gradient")
        fig.colorbar(arrows, ax=ax, label="‖∇f‖")
        if where.minima:
            minima = np.array(where.minima)
            ax.scatter(minima[:, 0], minima[:, 1], color="gold", edgecolors="black", marker="*", s=140, zorder=5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"−∇f for f(x, y) = {math_text(where.expression)}")
    return finish(fig, path)


def _with_bounds(where: Surface, bounds: Bounds) -> Surface:
    return replace(where, bounds=tuple(tuple(float(v) for v in b) for b in bounds))
