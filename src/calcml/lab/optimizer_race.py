"""The optimizer race panel: the surfaces and runs of ``calcml.optim.race``, shaped for the page.

Built-in surfaces come from ``race.SURFACES``; a typed f(x, y) is read by the lab's cached, time-limited
reader and becomes a ``race.Surface``. Each optimizer runs with ``race.run_optimizer`` from the same start;
a run ends early when it diverges or when Newton meets an indefinite Hessian, and the race as a whole
stops starting new runs once its wall-clock budget is spent. ``race_view`` widens the view to take in the
points a run visited outside it (Newton's early steps on Rosenbrock), so that no path leaves the plot.
"""

from __future__ import annotations

import time

import numpy as np

from calcml.lab.errors import LabInputError
from calcml.lab.functions import evaluate, finite_list, finite_number, read_function
from calcml.optim import race

RACE_SECONDS = 4.0  # after this, the remaining optimizers of a race are not started
TOLERANCE = 1e-8
MAX_ZOOM_OUT = 10.0  # a view grows to at most this many times its width to show a path
MARGIN = 0.05
ENDINGS = {"converged": "reached the minimum", "unconverged": "ran every step",
           "diverged": "diverged: lower the learning rate", "failed": "stopped"}


def surface_catalog() -> list[dict]:
    """The built-in surfaces as the page lists them."""
    return [{"name": s.name, "title": s.name, "expr": s.expression, "x_range": s.bounds[0], "y_range": s.bounds[1],
             "start": s.start, "minima": s.minima, "lr": s.lr, "adaptive_lr": s.adaptive_lr}
            for s in race.SURFACES.values()]


def optimizer_catalog() -> list[dict]:
    """The optimizers the race can run, with a default learning rate for the page."""
    defaults = race.SURFACES["rosenbrock"]
    return [{"name": name, "label": entry.label, "lr": race.learning_rate_for(name, None, defaults)}
            for name, entry in race.OPTIMIZERS.items()]


def resolve_surface(name: str | None, expr: str | None, x_range: tuple[float, float] | None,
                    y_range: tuple[float, float] | None) -> race.Surface:
    """A built-in surface by ``name`` (its own view unless ranges are given), or a typed f(x, y)."""
    for low, high in (r for r in (x_range, y_range) if r is not None):
        if not low < high:
            raise LabInputError(f"a view range needs low < high; got [{low:g}, {high:g}].", "domain")
    if name is not None:  # only a built-in name here: formulas arrive as ``expr``, through the lab's reader
        chosen = race.SURFACES.get(name)
        if chosen is None:
            raise LabInputError(f"no built-in surface {name!r}; choose one of: {', '.join(race.SURFACES)}, "
                                "or type a function of x and y.", "domain")
        bounds = (x_range or chosen.bounds[0], y_range or chosen.bounds[1])
        return chosen if bounds == chosen.bounds else _with_bounds(chosen, bounds)
    _, g = read_function(expr, ["x", "y"], "the surface")
    bounds = (x_range or (-3.0, 3.0), y_range or (-3.0, 3.0))
    return race.Surface("custom", expr, lambda x, y: g(x, y) + 0.0 * x, bounds,
                        start=(bounds[0][0] + 0.2 * (bounds[0][1] - bounds[0][0]),
                               bounds[1][0] + 0.8 * (bounds[1][1] - bounds[1][0])))


def _with_bounds(surface: race.Surface, bounds) -> race.Surface:
    return race.Surface(surface.name, surface.expression, surface.f, bounds, surface.start, surface.minima,
                        surface.minimum_value, surface.lr, surface.adaptive_lr, surface.log_scale)


def surface_grid(surface: race.Surface, points: int) -> dict:
    """f on a points × points grid over the view; ``display`` is log(1 + f − min f), which shows valleys."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = np.linspace(x0, x1, points), np.linspace(y0, y1, points)
    z = evaluate(surface.f, x[None, :], y[:, None])
    finite = np.isfinite(z)
    display = np.log1p(z - z[finite].min()) if finite.any() else z
    return {"name": surface.name, "expr": surface.expression, "x_range": surface.bounds[0],
            "y_range": surface.bounds[1], "start": surface.start, "minima": surface.minima,
            "x": finite_list(x), "y": finite_list(y), "z": finite_list(z), "display": finite_list(display)}


def run_race(surface: race.Surface, start: tuple[float, float], runs: list[tuple[str, float]],
             steps: int) -> list[dict]:
    """One trajectory per (optimizer, learning rate) from ``start``: points, losses and how it ended."""
    try:
        names = [race.optimizer_name(name) for name, _ in runs]
    except race.RaceError as error:
        raise LabInputError(str(error), "domain") from None
    answers = []
    deadline = time.perf_counter() + RACE_SECONDS
    for name, (_, lr) in zip(names, runs):
        if time.perf_counter() > deadline:
            answers.append({"optimizer": name, "lr": lr, "path": [list(start)], "loss": [], "status": "skipped",
                            "message": f"not run: the race's {RACE_SECONDS:g} s budget was spent",
                            "final_loss": None, "steps": 0})
            continue
        try:
            run = race.run_optimizer(surface, name, np.array(start, dtype=float), lr, steps, TOLERANCE)
        except race.RaceError as error:
            raise LabInputError(str(error), "domain") from None
        ending = ENDINGS.get(run.status, run.status)
        answers.append({
            "optimizer": name, "label": run.label, "lr": lr, "path": finite_list(run.path),
            "loss": finite_list(run.losses), "status": run.status,
            "message": f"{ending} ({run.reason})" if run.reason else ending,
            "final_loss": finite_number(run.losses[-1]) if len(run.losses) else None, "steps": run.steps,
            "steps_to_tolerance": run.steps_to_tolerance,
        })
    return answers


def race_view(surface: race.Surface, answers: list[dict]) -> dict:
    """The ranges that show every run that did not diverge: the surface's view, widened on the side a path left
    it (with a 5% margin) to take in the points visited outside, but to at most MAX_ZOOM_OUT times its width.
    A diverged run is left to leave the view: its table row says so."""
    view = {}
    for axis, name in enumerate(("x_range", "y_range")):
        low, high = surface.bounds[axis]
        coords = [point[axis] for run in answers if run["status"] != "diverged" for point in run["path"]
                  if point[axis] is not None]
        lo, hi = min([low, *coords]), max([high, *coords])
        room, margin = (MAX_ZOOM_OUT - 1) / 2 * (high - low), MARGIN * (hi - lo)
        if lo < low:
            lo = max(lo - margin, low - room)
        if hi > high:
            hi = min(hi + margin, high + room)
        view[name] = [float(lo), float(hi)]
    return view
