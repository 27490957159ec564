"""``loss_surface``: contour and 3-D views of a 2-D function with optimizer paths racing from one start, and
``learning_rates``: gradient descent with a learning rate too small, right, too large and divergent.

The paths come from ``cm.optim.race`` (the lab draws the same results); this module only draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from calcml.optim.race import RaceResult, Surface, learning_rate_comparison, race, surface
from calcml.viz.math_text import math_text
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import PathStyle, optimizer_style, theme

VIEWS = ("both", "contour", "3d")


def _levels(where: Surface, Z: np.ndarray, count: int) -> tuple[np.ndarray, LogNorm | None]:
    finite = Z[np.isfinite(Z)]
    low, high = float(finite.min()), float(finite.max())
    if where.log_scale and high > 0:
        floor = max(low, high * 1e-6, 1e-6)
        return np.geomspace(floor, high, count), LogNorm(floor, high)
    return np.linspace(low, high, count), None


def path_styles(result: RaceResult) -> list[PathStyle]:
    """The look of each run's path, in the order of ``result.runs``: the optimizer's own (``optimizer_style``)
    when every run is a different optimizer, else one house colour per run (learning rates of one optimizer)."""
    names = [run.name for run in result.runs]
    if len(set(names)) == len(names):
        return [optimizer_style(name, i) for i, name in enumerate(names)]
    return [optimizer_style(f"run-{i}", i) for i in range(len(names))]


def draw_contour(ax, result: RaceResult, levels: int = 30, grid: int = 200) -> None:
    """Filled contours of f with dark level lines, each run's path (a line with gid ``path-<name>``, in its
    ``path_styles`` look: GD on top), the start and the minima; the legend below the axes."""
    where = result.surface
    X, Y, Z = where.grid(grid)
    values, norm = _levels(where, Z, levels)
    ax.contourf(X, Y, np.clip(Z, values[0], values[-1]), levels=values, norm=norm, cmap="viridis", alpha=0.4,
                zorder=0)
    lines = ax.contour(X, Y, Z, levels=values, norm=norm, colors="#262626", linewidths=0.7, alpha=0.55, zorder=1)
    lines.set_gid("level-lines")
    for run, look in zip(result.runs, path_styles(result)):
        ax.plot(run.path[:, 0], run.path[:, 1], markevery=max(1, len(run.path) // 12), markersize=6,
                label=_legend(run), gid=f"path-{run.name}", **look.plot_kwargs())
        ax.scatter(run.path[-1:, 0], run.path[-1:, 1], color=look.color, edgecolors="white", linewidths=0.8,
                   marker="X" if run.status in ("diverged", "failed") else "o", s=70, zorder=look.zorder + 0.05)
    ax.scatter([result.start[0]], [result.start[1]], color="white", edgecolors="black", linewidths=1.5, marker="s",
               s=60, zorder=6, label="start")
    if where.minima:
        minima = np.array(where.minima)
        ax.scatter(minima[:, 0], minima[:, 1], color="gold", edgecolors="black", marker="*", s=180, zorder=6,
                   label="minimum" if len(minima) == 1 else "minima")
    (x0, x1), (y0, y1) = where.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2)


def draw_3d(ax, result: RaceResult, grid: int = 80) -> None:
    """The surface z = f(x, y), pale, and each path lifted onto it in its ``path_styles`` look, drawn over the
    surface (cut where it leaves the drawn region)."""
    where = result.surface
    X, Y, Z = where.grid(grid)
    finite = Z[np.isfinite(Z)]
    top = float(np.quantile(finite, 0.98))
    bottom = float(finite.min())
    ax.computed_zorder = False  # draw in z-order, so the paths stay in front of the surface
    ax.plot_surface(X, Y, np.clip(Z, bottom, top), cmap="viridis", alpha=0.3, linewidth=0, antialiased=False,
                    rstride=2, cstride=2, zorder=1)
    (x0, x1), (y0, y1) = where.bounds
    for run, look in zip(result.runs, path_styles(result)):
        p = run.path
        inside = (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1) & (run.losses <= top)
        stop = len(p) if inside.all() else int(np.argmin(inside))
        ax.plot(p[:stop, 0], p[:stop, 1], run.losses[:stop], markevery=max(1, stop // 12), markersize=6,
                label=run.label, gid=f"path3d-{run.name}", **look.plot_kwargs())
    ax.set_zlim(bottom, top)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("f")
    ax.view_init(elev=35, azim=-60)


def _legend(run) -> str:
    text = run.label if "η" in run.label else f"{run.label} (η = {run.lr:g})"
    text += f": f = {run.final_loss:.2e}"
    if run.status in ("diverged", "failed"):
        text += f", {run.status}"
    return text


def loss_surface(f: str | Surface | Callable | RaceResult = "rosenbrock",
                 optimizers: Sequence[str] = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton"),
                 start: Sequence[float] | None = None, lr: float | Mapping[str, float] | None = None,
                 steps: int = 500, tolerance: float = 1e-6, *, view: str = "both", levels: int = 30,
                 path: str | Path | None = None) -> Figure:
    """Race ``optimizers`` on ``f`` from ``start`` and draw their paths on contours (and on the 3-D surface).

    ``f`` is a built-in surface ("quadratic", "rosenbrock", "himmelblau", "beale", "saddle", "bowl"), a formula
    in x and y, a NumPy function ``f(x, y)``, or a ``RaceResult`` already computed. The race is kept as
    ``figure.race``: each drawn path is ``run.path``, the optimizer's iterates p₀ … p_k.

    >>> fig = cm.viz.loss_surface("rosenbrock", ["gd", "momentum", "adam"], start=(-1.2, 1), steps=2000)
    >>> fig.race["adam"].final_loss
    8.5e-09
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}.")
    result = f if isinstance(f, RaceResult) else race(surface(f), optimizers, start, lr, steps, tolerance)
    where = result.surface
    with theme():
        fig = new_figure(13.0 if view == "both" else 7.0, 6.5)
        if view in ("both", "contour"):
            ax = fig.add_subplot(1, 2 if view == "both" else 1, 1)
            draw_contour(ax, result, levels)
        if view in ("both", "3d"):
            ax3 = fig.add_subplot(1, 2 if view == "both" else 1, 2 if view == "both" else 1, projection="3d")
            draw_3d(ax3, result)
        steps_run = max(run.steps for run in result.runs)
        fig.suptitle(f"{where.name}: f(x, y) = {math_text(where.expression)}   (start {_point(result.start)}, "
                     f"up to {steps_run} steps)")
    fig.race = result
    return finish(fig, path)


def learning_rates(f: str | Surface | Callable | RaceResult = "bowl", lrs: Sequence[float] | None = None,
                   start: Sequence[float] | None = None, steps: int = 60, *,
                   path: str | Path | None = None) -> Figure:
    """Gradient descent with four learning rates from one start: paths on the contours, and f per step.

    Unset, the rates are too small, right (2/(λ_min + λ_max)), too large (1.9/λ_max: zig-zags) and divergent
    (2.5/λ_max), from the Hessian's eigenvalues at the start (see ``cm.optim.race.learning_rate_comparison``).
    """
    result = f if isinstance(f, RaceResult) else learning_rate_comparison(surface(f), start, lrs, steps)
    with theme():
        fig = new_figure(12.0, 6.0)
        ax, bx = fig.subplots(1, 2)
        draw_contour(ax, result)
        for run, look in zip(result.runs, path_styles(result)):
            gap = run.losses - (result.surface.minimum_value or 0.0)
            bx.semilogy(np.arange(len(run.losses)), np.maximum(np.abs(gap), 1e-300), label=run.label,
                        gid=f"loss-{run.label}", color=look.color, linestyle=look.linestyle, zorder=look.zorder,
                        linewidth=look.linewidth)
        bx.set_xlabel("step")
        bx.set_ylabel("f − f*" if result.surface.minimum_value is not None else "|f|")
        bx.set_title("the loss per step (log scale)")
        bx.legend(loc="best")
        fig.suptitle(f"learning rates on {result.surface.name}: f(x, y) = {math_text(result.surface.expression)}")
    fig.race = result
    return finish(fig, path)


def _point(p: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:g}" for v in p) + ")"
