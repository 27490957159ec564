"""Fixed-step explicit Runge–Kutta (Euler, classical RK4): a step size you choose, landing exactly on every
requested time. Runs on ndarrays and on Tensors alike."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.ode.tableaus import Tableau, combine, hermite_coefficients, rk_stages
from calcml.ode.trajectory import Recorder


def step_grid(t0: float, t1: float, step: float | None, t_eval: np.ndarray | None) -> np.ndarray:
    """t0, t1 and the requested times, each gap cut into equal steps no longer than ``step``."""
    marks = [t0] + ([] if t_eval is None else [float(s) for s in t_eval if s != t0 and s != t1]) + [t1]
    grid = [t0]
    for a, b in zip(marks[:-1], marks[1:]):
        n = 1 if step is None else max(1, math.ceil(abs(b - a) / step - 1e-9))
        grid.extend(a + (b - a) * np.arange(1, n) / n)
        grid.append(b)  # exactly: a requested time is reached, not approximated
    return np.asarray(grid)


def run_fixed(tableau: Tableau, f: Callable, y0: Any, grid: np.ndarray, recorder: Recorder) -> None:
    """Take one step per interval of ``grid``; the cubic Hermite interpolant serves dense output and events."""
    y = y0
    k1 = f(grid[0], y)
    last = len(grid) - 2
    for i, (t, t_new) in enumerate(zip(grid[:-1], grid[1:])):
        h = t_new - t
        ks, _ = rk_stages(tableau, f, t, y, h, k1)
        y_new = combine(y, h, tableau.b, ks)
        k_new = f(t_new, y_new) if (i < last or recorder.needs_dense) else None

        def coefficients(y=y, y_new=y_new, f0=k1, f1=k_new, h=h):
            return hermite_coefficients(y, y_new, f0, f1, h)

        if recorder.accept(t, h, y_new, coefficients):
            return
        y, k1 = y_new, k_new
