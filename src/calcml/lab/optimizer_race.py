"""The optimizer race of the lab: built-in 2-D surfaces and typed ones, trajectories of cm.optim's optimizers.

A thin adapter: it keeps to what the page needs (a surface's contour grid, one trajectory per optimizer
from one start point) until ``calcml.optim.race`` provides the same, and then defers to it.

Each optimizer minimizes f(w₀, w₁) from the same start. A run stops early when it diverges (a loss or
a coordinate that is not finite or beyond ±1e8) or when the race's time budget is spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from calcml import optim
from calcml.autodiff.errors import CalcmlError
from calcml.autodiff.tensor import Tensor
from calcml.lab.engine_lock import ENGINE_LOCK
from calcml.lab.errors import LabInputError
from calcml.lab.functions import evaluate, finite_list, finite_number, read_function

RACE_SECONDS = 4.0  # wall-clock budget of one race, all optimizers together
DIVERGED = 1e8


@dataclass(frozen=True)
class SurfaceSpec:
    """A built-in surface: its formula (read by the same safe parser as typed ones), view and start."""

    name: str
    title: str
    expr: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float] | None


SURFACES = {
    spec.name: spec
    for spec in (
        SurfaceSpec("quadratic", "ill-conditioned quadratic", "x^2/2 + 10 y^2", (-4, 4), (-2, 2), (-3.5, 1.5), (0, 0)),
        SurfaceSpec("rosenbrock", "Rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2", (-2, 2), (-1, 3), (-1.2, 1.0), (1, 1)),
        SurfaceSpec("himmelblau", "Himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", (-5, 5), (-5, 5), (0, 0), (3, 2)),
        SurfaceSpec("beale", "Beale", "(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2",
                    (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), (3, 0.5)),
        SurfaceSpec("saddle", "saddle x² − y²", "x^2 - y^2", (-2, 2), (-2, 2), (-1.5, 0.01), None),
    )
}

# name -> (how it is built from a learning rate, default learning rate)
OPTIMIZERS: dict[str, tuple[Callable, float]] = {
    "gd": (lambda w, lr: optim.SGD([w], lr=lr), 1e-3),
    "momentum": (lambda w, lr: optim.SGD([w], lr=lr, momentum=0.9), 1e-3),
    "nesterov": (lambda w, lr: optim.SGD([w], lr=lr, momentum=0.9, nesterov=True), 1e-3),
    "adagrad": (lambda w, lr: optim.Adagrad([w], lr=lr), 0.5),
    "rmsprop": (lambda w, lr: optim.RMSprop([w], lr=lr), 0.01),
    "adam": (lambda w, lr: optim.Adam([w], lr=lr), 0.05),
    "newton": (lambda w, lr: optim.Newton([w], lr=lr, damping=1e-3), 1.0),
}


@dataclass(frozen=True)
class Surface:
    """A surface to race on: ``f(x, y)`` works on arrays and on calcml Tensors."""

    name: str
    expr: str
    f: Callable
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float] | None


def surface_catalog() -> list[dict]:
    """The built-in surfaces and optimizers as the page lists them."""
    return [{"name": s.name, "title": s.title, "expr": s.expr, "x_range": s.x_range, "y_range": s.y_range,
             "start": s.start, "minimum": s.minimum} for s in SURFACES.values()]


def resolve_surface(name: str | None, expr: str | None, x_range: tuple[float, float] | None,
                    y_range: tuple[float, float] | None) -> Surface:
    """A built-in surface by ``name``, or a typed function ``expr`` of x and y (with the given view)."""
    if (name is None) == (expr is None):
        raise LabInputError("give either a built-in surface name or a function of x and y, not both/neither.")
    if name is not None:
        spec = SURFACES.get(name)
        if spec is None:
            raise LabInputError(f"unknown surface {name!r}; choose one of: {', '.join(SURFACES)}.", "domain")
        _, f = read_function(spec.expr, ["x", "y"])
        return Surface(spec.name, spec.expr, f, x_range or spec.x_range, y_range or spec.y_range, spec.start,
                       spec.minimum)
    _, f = read_function(expr, ["x", "y"], "the surface")
    x_range, y_range = x_range or (-3.0, 3.0), y_range or (-3.0, 3.0)
    start = (x_range[0] + 0.2 * (x_range[1] - x_range[0]), y_range[0] + 0.8 * (y_range[1] - y_range[0]))
    return Surface("custom", expr, f, x_range, y_range, start, None)


def surface_grid(surface: Surface, points: int) -> dict:
    """f on a points × points grid over the view; ``display`` is log(1 + f − min f), which shows valleys."""
    for low, high in (surface.x_range, surface.y_range):
        if not low < high:
            raise LabInputError(f"a view range needs low < high; got [{low:g}, {high:g}].", "domain")
    x = np.linspace(*surface.x_range, points)
    y = np.linspace(*surface.y_range, points)
    z = evaluate(surface.f, x[None, :], y[:, None])
    finite = np.isfinite(z)
    display = np.log1p(z - z[finite].min()) if finite.any() else z
    return {"name": surface.name, "expr": surface.expr, "x_range": surface.x_range, "y_range": surface.y_range,
            "start": surface.start, "minimum": surface.minimum,
            "x": finite_list(x), "y": finite_list(y), "z": finite_list(z), "display": finite_list(display)}


def run_race(surface: Surface, start: tuple[float, float], runs: list[tuple[str, float]], steps: int) -> list[dict]:
    """One trajectory per (optimizer, learning rate) from ``start``: points, losses and how it ended."""
    for name, _ in runs:
        if name not in OPTIMIZERS:
            raise LabInputError(f"unknown optimizer {name!r}; choose from: {', '.join(OPTIMIZERS)}.", "domain")
    with ENGINE_LOCK:
        deadline = time.perf_counter() + RACE_SECONDS
        return [_run_one(surface.f, start, name, lr, steps, deadline) for name, lr in runs]


def _run_one(f: Callable, start: tuple[float, float], name: str, lr: float, steps: int, deadline: float) -> dict:
    w = Tensor(np.array(start, dtype=float), requires_grad=True)
    loss_of = lambda w: f(w[0], w[1])
    try:
        optimizer = OPTIMIZERS[name][0](w, lr)
    except CalcmlError as error:
        raise LabInputError(str(error), "domain") from None
    path, losses = [list(start)], [finite_number(_value(f, start))]
    status, message = "finished", ""
    with np.errstate(all="ignore"):
        for _ in range(steps):
            if time.perf_counter() > deadline:
                status, message = "time", f"stopped after {len(path) - 1} steps: the race's {RACE_SECONDS:g} s budget"
                break
            try:
                if name == "newton":
                    optimizer.step(loss_of)
                else:
                    optimizer.zero_grad()
                    loss_of(w).backward()
                    optimizer.step()
            except CalcmlError as error:
                status, message = "error", str(error).splitlines()[0]
                break
            point = w.value.tolist()
            value = _value(f, point)
            if not (np.all(np.isfinite(point)) and np.isfinite(value) and np.max(np.abs(point)) < DIVERGED):
                status, message = "diverged", f"diverged at step {len(path)}: lower the learning rate"
                break
            path.append(point)
            losses.append(float(value))
    return {"optimizer": name, "lr": lr, "path": path, "loss": losses, "status": status, "message": message,
            "final_loss": losses[-1], "steps": len(path) - 1}


def _value(f: Callable, point) -> float:
    with np.errstate(all="ignore"):
        return float(evaluate(f, np.asarray(point[0], float), np.asarray(point[1], float)))
