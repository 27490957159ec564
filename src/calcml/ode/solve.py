"""``solve``: an initial value problem y' = f(t, y), y(t0) = y0, on an interval, by a method of your choice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calcml.autodiff.tensor import as_float_array
from calcml.ode import arguments
from calcml.ode.adaptive import CONTROLLERS, ExplicitScheme, run_adaptive
from calcml.ode.dense import DenseSolution
from calcml.ode.errors import SolverInputError
from calcml.ode.events import EventTracker
from calcml.ode.fixed import check_grid_size, run_fixed, step_grid
from calcml.ode.rosenbrock import Rosenbrock23
from calcml.ode.tableaus import DOPRI5, EXPLICIT
from calcml.ode.trajectory import Recorder

METHODS = ("dopri5", "rk4", "euler", "rosenbrock23")


@dataclass
class OdeResult:
    """The solution: ``t`` (n,), ``y`` (n, *y0.shape), time first; ``sol(t)`` when dense_output=True."""

    t: np.ndarray
    y: np.ndarray
    method: str
    nfev: int
    steps: int
    rejected: int = 0
    njev: int = 0
    sol: DenseSolution | None = None
    t_events: list[np.ndarray] = field(default_factory=list)
    y_events: list[np.ndarray] = field(default_factory=list)
    status: str = "success"  # or "event": a terminal event stopped the solve

    def __repr__(self) -> str:
        return (f"OdeResult(method={self.method!r}, t=[{self.t[0]:g} … {self.t[-1]:g}] ({len(self.t)} points), "
                f"steps={self.steps}, rejected={self.rejected}, nfev={self.nfev}, status={self.status!r})")


class CountedField:
    """f with a call counter (nfev)."""

    def __init__(self, f: Callable):
        self.f = f
        self.calls = 0

    def __call__(self, t, y):
        self.calls += 1
        return self.f(t, y)


def check_method(method: str, allowed: Sequence[str], caller: str) -> None:
    if method not in allowed:
        raise SolverInputError(f"{caller}: method must be one of {', '.join(map(repr, allowed))}, not {method!r}.\n"
                         "  dopri5 is adaptive (rtol/atol), rk4 and euler take a fixed step (step=h), "
                         "rosenbrock23 is for stiff problems.")


def check_times(t_span: Sequence[float], t_eval: Any, caller: str) -> tuple[float, float, np.ndarray | None]:
    if np.ndim(t_span) != 1 or len(t_span) != 2:
        raise SolverInputError(f"{caller}: t_span must be (t0, t1), got {t_span!r}.")
    t0 = arguments.finite_number(t_span[0], "t_span[0]", caller)
    t1 = arguments.finite_number(t_span[1], "t_span[1]", caller)
    if t0 == t1:
        raise SolverInputError(f"{caller}: t_span = ({t0:g}, {t1:g}) is empty; give t1 ≠ t0.")
    if t_eval is None:
        return t0, t1, None
    t_eval = np.asarray(t_eval, dtype=float).ravel()
    arguments.finite_array(t_eval, "t_eval", caller)
    direction = np.sign(t1 - t0)
    steps = np.diff(t_eval) * direction
    if np.any(steps < 0) or np.any((t_eval - t0) * direction < 0) or np.any((t_eval - t1) * direction > 0):
        raise SolverInputError(f"{caller}: t_eval must be sorted in the direction of integration and lie inside "
                         f"t_span = ({t0:g}, {t1:g}); got values from {t_eval.min():g} to {t_eval.max():g}.")
    return t0, t1, t_eval


def check_options(method: str, rtol: Any, atol: Any, max_steps: Any, step: Any, first_step: Any,
                  caller: str) -> None:
    """The numbers that steer a solve: tolerances (adaptive methods), step sizes and max_steps."""
    arguments.count(max_steps, "max_steps", caller)
    if method in ("rk4", "euler"):
        if step is not None:
            arguments.positive_number(step, "step", caller, " step is the length of each step (its sign is "
                                      "taken from t_span).")
    else:
        arguments.tolerances(rtol, atol, caller)
    if first_step is not None:
        arguments.positive_number(first_step, "first_step", caller)


def solve(f: Callable, y0: Any, t_span: Sequence[float], method: str = "dopri5", rtol: float = 1e-6,
          atol: float = 1e-9, t_eval: Any = None, dense_output: bool = False,
          events: Callable | Sequence[Callable] | None = None, max_steps: int = 100_000,
          step: float | None = None, first_step: float | None = None, jac: Callable | None = None,
          controller: str = "classic") -> OdeResult:
    """Solve y' = f(t, y), y(t0) = y0 on t_span = (t0, t1) (t1 < t0 integrates backwards).

    ``method``: "dopri5" (Dormand–Prince 5(4), adaptive: rtol, atol), "rk4" or "euler" (fixed step ``step``,
    or one step per interval of ``t_eval``), "rosenbrock23" (stiff problems; J = ∂f/∂y by forward-mode
    autodiff, or ``jac(t, y)``). ``y`` may have any shape; ``f`` returns an array of that shape.

    ``controller``: "classic" (h ∝ err^(−1/5), as scipy) or "pi" (proportional–integral, smoother steps).
    ``events``: functions g(t, y) whose zeros are located on the dense output; attributes ``terminal`` and
    ``direction`` as in scipy. An explicit method that becomes stiff raises StiffnessError (naming the step
    size and the remedy) instead of crawling, and so does euler or rk4 when its fixed step is past the
    method's stability limit and the steps grow geometrically where the ODE decays (``instability.py``).
    ``max_steps`` bounds the work of every method (MaxStepsError; a fixed-step solve that would need more
    steps is refused before it starts).

    Refused before any work (SolverInputError, a ValueError): NaN or ±inf in y0, t_span, t_eval, rtol,
    atol, step or first_step; negative tolerances, or both zero; step ≤ 0. When f returns NaN or ±inf at
    an accepted state (or every attempt past some time does), NonFiniteError names that time and state.

    >>> res = cm.ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), rtol=1e-10)
    >>> res.y[-1]                                   # e^{-1}
    array([0.36787944])
    """
    check_method(method, METHODS, "solve")
    t0, t1, t_eval = check_times(t_span, t_eval, "solve")
    check_options(method, rtol, atol, max_steps, step, first_step, "solve")
    if controller not in CONTROLLERS:
        raise SolverInputError(f"solve: controller must be 'classic' or 'pi', not {controller!r}.")
    arguments.finite_array(y0, "y0", "solve")
    y0 = as_float_array(y0)
    shape = y0.shape
    stiff = method == "rosenbrock23"
    if stiff:  # the linear algebra wants a flat state vector
        state0 = y0.ravel()
        field = lambda t, y: np.reshape(f(t, np.reshape(y, shape)), -1)
    else:
        state0 = y0
        field = lambda t, y: np.asarray(f(t, y))
    counted = CountedField(field)
    tracker = EventTracker(_flat_events(events, shape) if stiff else events, t0, state0)
    recorder = Recorder(t0, state0, t_eval, tracker, dense_output)
    njev = 0
    if method in ("rk4", "euler"):
        if step is None and t_eval is None:
            example = abs(t1 - t0) / 100
            raise SolverInputError(f"solve: {method} takes a fixed step: give step=h (e.g. step={example:g}) "
                                   "or t_eval (then one step per interval).")
        check_grid_size(method, t0, t1, step, t_eval, max_steps)
        run_fixed(EXPLICIT[method], counted, y0, step_grid(t0, t1, step, t_eval), recorder)
    elif method == "dopri5":
        run_adaptive(ExplicitScheme(DOPRI5), counted, t0, y0, t1, rtol, atol, max_steps, recorder, first_step,
                     controller)
    else:
        scheme = Rosenbrock23(field, jac)
        run_adaptive(scheme, counted, t0, state0, t1, rtol, atol, max_steps, recorder, first_step,
                     controller)
        njev = scheme.njev
    run = recorder.run
    ys = np.stack(run.ys).reshape((len(run.ys),) + shape) if run.ys else np.zeros((0,) + shape)
    sol = None
    if dense_output:
        sol = DenseSolution(run.starts, run.widths,
                            [[np.reshape(q, shape) for q in qs] for qs in run.coefficients])
    t_events, y_events = tracker.arrays()
    y_events = [np.reshape(ye, (len(te),) + shape) for te, ye in zip(t_events, y_events)]
    return OdeResult(np.asarray(run.ts), ys, method, counted.calls, run.steps, run.rejected, njev, sol,
                     t_events, y_events, run.status)


def _flat_events(events, shape):
    """Event functions of the original shape, called with the flat state of the stiff solver."""
    if events is None:
        return None
    if callable(events):
        events = (events,)
    wrapped = []
    for g in events:
        def flat_g(t, y, g=g):
            return g(t, np.reshape(y, shape))
        flat_g.terminal = getattr(g, "terminal", False)
        flat_g.direction = getattr(g, "direction", 0.0)
        wrapped.append(flat_g)
    return wrapped
