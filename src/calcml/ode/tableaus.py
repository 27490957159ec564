"""Butcher tableaus of the explicit Runge–Kutta methods, and one explicit step written with plain
arithmetic, so that it runs on ndarrays (fast) and on Tensors (traced: backpropagation through the solver).

    k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j),   y_new = y + h Σ_i b_i k_i.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tableau:
    name: str
    order: int
    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]  # row i holds a_i0 … a_i,i-1
    b: tuple[float, ...]
    error: tuple[float, ...] = ()  # e_i = b_i − b̂_i: the local error estimate is h Σ e_i k_i
    dense: tuple[tuple[float, ...], ...] = ()  # dense[i][j]: y(t + θh) = y + h Σ_i k_i Σ_j dense[i][j] θ^(j+1)
    fsal: bool = False  # the last stage is f(t + h, y_new): the first stage of the next step
    real_stability: float = 0.0  # |R(z)| ≤ 1 on [−real_stability, 0]: the limit of h|λ| for a decaying mode

    @property
    def stages(self) -> int:
        return len(self.c)


EULER = Tableau("euler", 1, (0.0,), ((),), (1.0,), real_stability=2.0)  # |1 + z| ≤ 1

RK4 = Tableau("rk4", 4, (0.0, 0.5, 0.5, 1.0), ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
              (1 / 6, 1 / 3, 1 / 3, 1 / 6), real_stability=2.785293563405282)  # root of |Σ z^j/j!| = 1

# Dormand & Prince (1980), RK5(4)7M; the dense output of order 4 is Shampine's (1986).
DOPRI5 = Tableau(
    "dopri5", 5,
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    a=((),
       (1 / 5,),
       (3 / 40, 9 / 40),
       (44 / 45, -56 / 15, 32 / 9),
       (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
       (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
       (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)),
    b=(35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
    error=(-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40),
    dense=((1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432),
           (0.0, 0.0, 0.0, 0.0),
           (0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799),
           (0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072),
           (0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632),
           (0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844),
           (0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423)),
    fsal=True)

EXPLICIT = {t.name: t for t in (EULER, RK4, DOPRI5)}


def combine(y: Any, h: float, weights: Sequence[float], ks: Sequence[Any]) -> Any:
    """y + h Σ_j w_j k_j, skipping zero weights; h Σ_j w_j k_j when y is None.

    Works on ndarrays and on Tensors alike (then every operation is traced).
    """
    total = None
    for w, k in zip(weights, ks):
        if w:
            term = w * k
            total = term if total is None else total + term
    if total is None:
        return 0.0 * ks[0] if y is None else y
    return h * total if y is None else y + h * total


def rk_stages(tableau: Tableau, f: Callable, t: float, y: Any, h: float, k1: Any) -> tuple[list, list]:
    """The stage derivatives k_1 … k_s of one step, and the points they were evaluated at."""
    ks, points = [k1], [y]
    for c, row in zip(tableau.c[1:], tableau.a[1:]):
        point = combine(y, h, row, ks)
        points.append(point)
        ks.append(f(t + c * h, point))
    return ks, points


def dense_coefficients(tableau: Tableau, y: Any, h: float, ks: Sequence[Any]) -> list:
    """Q_0 … Q_4 with y(t + θh) = Σ_j Q_j θ^j over the step (the method's continuous extension)."""
    columns = np.asarray(tableau.dense).T
    return [y] + [combine(None, h, column, ks) for column in columns]


def hermite_coefficients(y0: Any, y1: Any, f0: Any, f1: Any, h: float) -> list:
    """The cubic through (y0, f0) at θ = 0 and (y1, f1) at θ = 1, as coefficients of θ^j."""
    dy = y1 - y0
    return [y0, h * f0, 3.0 * dy - h * (2.0 * f0 + f1), -2.0 * dy + h * (f0 + f1)]


def horner(coefficients: Sequence[Any], theta: float) -> Any:
    """Σ_j Q_j θ^j."""
    value = coefficients[-1]
    for q in reversed(coefficients[:-1]):
        value = q + theta * value
    return value
