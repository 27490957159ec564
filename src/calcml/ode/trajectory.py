"""What a solver loop produces, and how it records the solution at the requested times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calcml.ode.events import EventTracker, value_of
from calcml.ode.tableaus import horner


@dataclass
class Trajectory:
    """Times and states (ndarrays, or Tensors when the solve is traced), counters and dense segments."""

    ts: list[float] = field(default_factory=list)
    ys: list[Any] = field(default_factory=list)
    steps: int = 0
    rejected: int = 0
    starts: list[float] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)
    coefficients: list[list[Any]] = field(default_factory=list)
    status: str = "success"


class Recorder:
    """Collects the outputs of a solve: every step, or only the times in ``t_eval`` (by interpolation)."""

    def __init__(self, t0: float, y0: Any, t_eval: np.ndarray | None, events: EventTracker, dense_output: bool):
        self.run = Trajectory()
        self.t_eval = t_eval
        self.next_eval = 0
        self.events = events
        self.dense_output = dense_output
        self.direction = 1.0
        if t_eval is None:
            self._emit(t0, y0)
        else:
            self.direction = np.sign(t_eval[-1] - t0) if len(t_eval) > 1 else 1.0
            while self.next_eval < len(t_eval) and t_eval[self.next_eval] == t0:
                self._emit(t0, y0)
                self.next_eval += 1

    def _emit(self, t: float, y: Any) -> None:
        self.run.ts.append(float(t))
        self.run.ys.append(y)

    @property
    def needs_dense(self) -> bool:
        return self.dense_output or bool(self.events)

    def accept(self, t: float, h: float, y_new: Any, coefficients: Callable[[], list]) -> bool:
        """Record the step [t, t + h] ending at ``y_new``; return True when a terminal event stops the solve.

        ``coefficients()`` builds the step's interpolant only if something needs it.
        """
        run = self.run
        run.steps += 1
        t_new = t + h
        qs = None
        if self.needs_dense:
            qs = coefficients()
            if self.dense_output:
                run.starts.append(t)
                run.widths.append(h)
                run.coefficients.append(qs)
        stop = None
        if self.events:
            values = [value_of(q) for q in qs]
            stop = self.events.step(t, t_new, y_new, lambda s: horner(values, (s - t) / h))
        end = t_new if stop is None else stop
        if self.t_eval is None:
            if stop is None:
                self._emit(t_new, y_new)
            else:
                self._emit(stop, horner(qs, (stop - t) / h))
        else:
            t_eval = self.t_eval
            while self.next_eval < len(t_eval) and (t_eval[self.next_eval] - end) * self.direction <= 0:
                s = t_eval[self.next_eval]
                if s == t_new:
                    self._emit(s, y_new)
                else:
                    if qs is None:
                        qs = coefficients()
                    self._emit(s, horner(qs, (s - t) / h))
                self.next_eval += 1
        if stop is not None:
            run.status = "event"
            return True
        return False
