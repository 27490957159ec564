"""Events: times where g(t, y(t)) = 0, found by root finding on the step's continuous extension.

As in ``scipy.integrate.solve_ivp``: an event function may carry ``terminal`` (True, or a count of
occurrences after which the solve stops) and ``direction`` (> 0: only upward crossings of zero, < 0:
only downward, 0: both).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor


def value_of(x: Any) -> np.ndarray:
    """The plain array behind ``x`` (a Tensor's value; anything else as an array)."""
    return x.value if type(x) is Tensor else np.asarray(x)


def find_root(g: Callable[[float], float], a: float, b: float, ga: float, gb: float) -> float:
    """A zero of g in [a, b] given g(a)·g(b) < 0, by the Illinois variant of regula falsi
    (superlinear, and the bracket always shrinks to the root), to the resolution of float64."""
    side = 0
    c = a
    for _ in range(200):
        c = (a * gb - b * ga) / (gb - ga)
        gc = g(c)
        if gc == 0.0:
            return c
        if np.sign(gc) == np.sign(gb):
            b, gb = c, gc
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            a, ga = c, gc
            if side == 1:
                gb *= 0.5
            side = 1
        if abs(b - a) <= 4.0 * np.finfo(float).eps * max(abs(a), abs(b), 1e-300):
            break
    return c


def _crossed(before: float, after: float, direction: float) -> bool:
    up = before < 0.0 <= after
    down = before > 0.0 >= after
    return (up and direction >= 0) or (down and direction <= 0)


class EventTracker:
    """Watches the sign of every event function across each accepted step."""

    def __init__(self, events: Callable | Sequence[Callable] | None, t0: float, y0: Any):
        if events is None:
            events = ()
        elif callable(events):
            events = (events,)
        self.events = list(events)
        self.last = [float(g(t0, value_of(y0))) for g in self.events]
        self.counts = [0] * len(self.events)
        self.t_events: list[list[float]] = [[] for _ in self.events]
        self.y_events: list[list[np.ndarray]] = [[] for _ in self.events]

    def __bool__(self) -> bool:
        return bool(self.events)

    def step(self, t: float, t_new: float, y_new: Any, interpolate: Callable[[float], np.ndarray]) -> float | None:
        """Record the events inside (t, t_new]; return the time of a terminal one, or None.

        ``interpolate(s)`` gives the solution's values at time s inside the step.
        """
        now = [float(g(t_new, value_of(y_new))) for g in self.events]
        found = []
        for i, (g, before, after) in enumerate(zip(self.events, self.last, now)):
            if _crossed(before, after, float(getattr(g, "direction", 0.0))):
                root = find_root(lambda s, g=g: float(g(s, interpolate(s))), t, t_new, before, after)
                found.append((root, i))
        self.last = now
        found.sort(key=lambda item: item[0] * np.sign(t_new - t))
        for root, i in found:
            self.t_events[i].append(root)
            self.y_events[i].append(interpolate(root))
            self.counts[i] += 1
            terminal = int(getattr(self.events[i], "terminal", False))
            if terminal and self.counts[i] >= terminal:
                return root
        return None

    def arrays(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return ([np.asarray(ts, dtype=float) for ts in self.t_events],
                [np.asarray(ys) for ys in self.y_events])
