"""Fixed-step explicit Runge–Kutta (Euler, classical RK4): a step size you choose, landing exactly on every
requested time. Runs on ndarrays and on Tensors alike."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.ode.arguments import first_bad, value_of
from calcml.ode.errors import MaxStepsError, NonFiniteError
from calcml.ode.instability import InstabilityWatch
from calcml.ode.tableaus import Tableau, combine, hermite_coefficients, rk_stages
from calcml.ode.trajectory import Recorder


def _marks(t0: float, t1: float, t_eval: np.ndarray | None) -> list[float]:
    return [t0] + ([] if t_eval is None else [float(s) for s in t_eval if s != t0 and s != t1]) + [t1]


def _steps_between(a: float, b: float, step: float | None) -> int:
    return 1 if step is None else max(1, math.ceil(abs(b - a) / step - 1e-9))


def check_grid_size(name: str, t0: float, t1: float, step: float | None, t_eval: np.ndarray | None,
                    max_steps: int) -> int:
    """The number of steps a fixed-step solve will take, counted before the grid is built:
    MaxStepsError when it exceeds ``max_steps`` (step=1e-300 must not allocate 10^300 times)."""
    marks = _marks(t0, t1, t_eval)
    total = 0
    for a, b in zip(marks[:-1], marks[1:]):
        total += _steps_between(a, b, step)
        if total > max_steps:
            needed = sum(_steps_between(a, b, step) for a, b in zip(marks[:-1], marks[1:]))
            raise MaxStepsError(
                f"{name} with step = {step:g} needs {needed:,} steps to cover [{t0:g}, {t1:g}], more than "
                f"max_steps = {max_steps:,}.\n  take a larger step, or raise max_steps if you mean it.")
    return total


def step_grid(t0: float, t1: float, step: float | None, t_eval: np.ndarray | None) -> np.ndarray:
    """t0, t1 and the requested times, each gap cut into equal steps no longer than ``step``."""
    marks = _marks(t0, t1, t_eval)
    grid = [t0]
    for a, b in zip(marks[:-1], marks[1:]):
        n = _steps_between(a, b, step)
        grid.extend(a + (b - a) * np.arange(1, n) / n)
        grid.append(b)  # exactly: a requested time is reached, not approximated
    return np.asarray(grid)


def check_finite(name: str, what: str, t: float, values: Any, y: Any, t_from: float) -> None:
    """NonFiniteError naming the times and the state when ``values`` (f, or the new state) holds NaN/±inf;
    ``y`` is the last finite state, at ``t_from``."""
    values = value_of(values)
    if not np.isfinite(values).all():  # the method, not np.all: this runs every step
        state = np.array2string(np.ravel(value_of(y))[:6], precision=6, threshold=6)
        raise NonFiniteError(
            f"{name}: {what} is not finite at t = {t:.10g} (entry{first_bad(values)}), coming from y = {state}"
            f"{' …' if np.size(value_of(y)) > 6 else ''} at t = {t_from:.10g}.\n"
            "  f returns NaN or ±inf there (a log or sqrt of a negative, a division by zero), or the solution "
            "blows up: with a fixed step, a smaller step may be needed to stay stable.")


def run_fixed(tableau: Tableau, f: Callable, y0: Any, grid: np.ndarray, recorder: Recorder) -> None:
    """Take one step per interval of ``grid``; the cubic Hermite interpolant serves dense output and events.

    Stops with NonFiniteError (naming t and y) as soon as the new state is NaN or ±inf (every stage's f
    enters it with a nonzero weight, so a NaN from f shows there; one check per step), and with
    StiffnessError when the steps grow geometrically past the method's stability limit (``instability.py``).
    """
    watch = InstabilityWatch(tableau.name, tableau.real_stability)
    y = y0
    k1 = f(grid[0], y)
    check_finite(tableau.name, "f(t, y)", grid[0], k1, y, grid[0])
    last = len(grid) - 2
    for i, (t, t_new) in enumerate(zip(grid[:-1], grid[1:])):
        h = t_new - t
        ks, _ = rk_stages(tableau, f, t, y, h, k1)
        y_new = combine(y, h, tableau.b, ks)
        check_finite(tableau.name, "the state", t_new, y_new, y, t)
        k_new = f(t_new, y_new) if (i < last or recorder.needs_dense) else None  # a NaN here shows in the next y
        if i == last and k_new is not None:  # ... except after the last step, where only the interpolant uses it
            check_finite(tableau.name, "f(t, y)", t_new, k_new, y_new, t_new)
        if k_new is not None and np.isfinite(value_of(k_new)).all():
            watch.step(t, h, y, y_new, k1, k_new)

        def coefficients(y=y, y_new=y_new, f0=k1, f1=k_new, h=h):
            return hermite_coefficients(y, y_new, f0, f1, h)

        if recorder.accept(t, h, y_new, coefficients):
            return
        y, k1 = y_new, k_new
