"""ODE pictures: phase portraits of a planar system y' = f(t, y) and solution curves y(t), solved by
``cm.ode.solve`` (Dormand–Prince 5(4) unless another method is named)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from calcml.ode import solve
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import theme


def _field_on_grid(f: Callable, t: float, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(t, (x, y)) at every grid point (one call per point: f need not accept arrays of points)."""
    U = np.empty_like(X)
    V = np.empty_like(Y)
    for index in np.ndindex(X.shape):
        U[index], V[index] = np.asarray(f(t, np.array([X[index], Y[index]])), dtype=np.float64)
    return U, V


def phase_portrait(f: Callable, starts: Sequence[Sequence[float]], t_span: tuple[float, float] = (0.0, 10.0), *,
                   bounds: tuple[tuple[float, float], tuple[float, float]] | None = None, density: int = 21,
                   method: str = "dopri5", labels: tuple[str, str] = ("x", "y"), title: str | None = None,
                   path: str | Path | None = None) -> Figure:
    """The direction field of y' = f(t, y) for y = (x, y) at time t₀, and one solution curve from each start.

    Each trajectory is a line of gid ``trajectory-<i>`` through ``solve(f, start, t_span).y`` (time first);
    its start is marked with a dot. ``bounds`` default to a margin around all trajectories.

    >>> fig = cm.viz.phase_portrait(lambda t, y: np.array([y[1], -np.sin(y[0])]), [(1, 0), (2, 0), (3, 0)])
    """
    solutions = [solve(f, np.array(s, dtype=np.float64), t_span, method=method, dense_output=True)
                 for s in starts]
    curves = []
    for res in solutions:  # dense output gives smooth curves even where the solver took long steps
        ts = np.linspace(res.t[0], res.t[-1], 600)
        curves.append(np.array([res.sol(t) for t in ts]).reshape(len(ts), -1))
    if bounds is None:
        points = np.concatenate(curves)
        low, high = points.min(axis=0), points.max(axis=0)
        pad = 0.15 * np.maximum(high - low, 1e-9)
        bounds = ((low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1]))
    (x0, x1), (y0, y1) = bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, density), np.linspace(y0, y1, density))
    U, V = _field_on_grid(f, float(t_span[0]), X, Y)
    U, V = U / (x1 - x0), V / (y1 - y0)  # directions in the square box of the axes
    speed = np.hypot(U, V)
    safe = np.where(speed > 0, speed, 1.0)
    with theme():
        fig = new_figure(6.5, 5.5)
        ax = fig.add_subplot()
        ax.set_box_aspect(1)
        field = ax.quiver(X, Y, U / safe, V / safe, color="#9e9e9e", pivot="mid", angles="uv", scale_units="width",
                          scale=density / 0.7, width=0.003)
        field.set_gid("direction-field")
        for i, curve in enumerate(curves):
            line, = ax.plot(curve[:, 0], curve[:, 1], linewidth=1.6, gid=f"trajectory-{i}",
                            label=f"from ({starts[i][0]:g}, {starts[i][1]:g})")
            ax.scatter([curve[0, 0]], [curve[0, 1]], color=line.get_color(), s=25, zorder=4)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.set_title(title or f"phase portrait, t from {t_span[0]:g} to {t_span[1]:g}")
        ax.legend(loc="best")
    fig.solutions = solutions
    return finish(fig, path)


def solution_curves(f: Callable, y0: Sequence[float], t_span: tuple[float, float] = (0.0, 10.0), *,
                    method: str = "dopri5", labels: Sequence[str] | None = None, exact: Callable | None = None,
                    title: str | None = None, path: str | Path | None = None) -> Figure:
    """Each component of the solution of y' = f(t, y), y(t₀) = y0 against t (lines of gid ``y<i>``), the
    solver's accepted steps as dots, and the exact solution dashed when ``exact(t)`` is given.

    >>> fig = cm.viz.solution_curves(lambda t, y: -0.5 * y, [1.0], (0, 5), exact=lambda t: np.exp(-0.5 * t))
    """
    res = solve(f, np.array(y0, dtype=np.float64), t_span, method=method, dense_output=method == "dopri5")
    ys = res.y.reshape(len(res.t), -1)
    names = list(labels) if labels is not None else [f"y{i}" for i in range(ys.shape[1])]
    with theme():
        fig = new_figure(7.0, 4.5)
        ax = fig.add_subplot()
        if res.sol is not None:
            ts = np.linspace(res.t[0], res.t[-1], 600)
            smooth = np.array([res.sol(t) for t in ts]).reshape(len(ts), -1)
        else:
            ts, smooth = res.t, ys
        for i in range(ys.shape[1]):
            line, = ax.plot(ts, smooth[:, i], linewidth=1.8, label=names[i], gid=f"y{i}")
            ax.plot(res.t, ys[:, i], linestyle="none", marker=".", markersize=4, color=line.get_color(),
                    gid=f"steps-y{i}")
        if exact is not None:
            reference = np.array([np.ravel(exact(t)) for t in ts])
            for i in range(reference.shape[1]):
                ax.plot(ts, reference[:, i], color="black", linestyle=":", linewidth=1.2,
                        label="exact" if i == 0 else None, gid=f"exact-y{i}")
        ax.set_xlabel("t")
        ax.set_title(title or f"{res.method}: {res.steps} steps ({res.rejected} rejected), {res.nfev} evaluations")
        ax.legend(loc="best")
    fig.solution = res
    return finish(fig, path)
