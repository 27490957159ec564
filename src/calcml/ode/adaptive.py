"""The adaptive step-size loop: an error estimate per step, a norm, and a controller.

    err = ‖ e / (atol + rtol · max(|y|, |y_new|)) ‖_RMS,    accept the step when err ≤ 1;
    h_new = h · clip(0.9 · err^(−α) · err_prev^β, 0.2, 10),   α = 1/(q+1) − 0.75 β,

where q is the order of the error estimate (4 for dopri5): the classic controller (β = 0, what
scipy's solve_ivp does) or Gustafsson's PI controller (β = 0.04, Hairer's DOPRI5), which smooths
the step sequence at the price of a few more steps. The first step follows Hairer, Nørsett &
Wanner (1993, II.4). The loop runs unchanged on ndarrays and on Tensors: step sizes are chosen from
values only, so when backpropagating through a solve, h is a constant (not differentiated).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from calcml.ode.arguments import first_bad
from calcml.ode.errors import MaxStepsError, NonFiniteError, SolverInputError, StepSizeError, StiffnessError
from calcml.ode.events import value_of
from calcml.ode.tableaus import DOPRI5, Tableau, dense_coefficients, rk_stages
from calcml.ode.trajectory import Recorder

SAFETY = 0.9
MIN_FACTOR, MAX_FACTOR = 0.2, 10.0
CONTROLLERS = {"classic": 0.0, "pi": 0.04}  # β of the error from the previous step
STIFF_H_LAMBDA = 3.25  # h|λ| beyond which dopri5's step is held down by stability (its region reaches ≈ 3.3)
STIFF_STEPS = 15  # Hairer's test: that many stability-limited steps (with fewer than 6 others between)
STIFF_REMAINING = 1000  # raise only if finishing at that step size would take more steps than this


class Attempt(NamedTuple):
    y_new: Any
    f_new: Any
    error: np.ndarray  # the local error estimate (values)
    coefficients: Callable[[], list]  # the step's continuous extension, built on demand
    h_lambda: float  # estimate of h·|λ| (stiffness probe); nan when the scheme has none
    nonfinite: tuple | None = None  # (t, y, f) of the first stage where f was NaN/±inf, if any


def first_nonfinite(times: list[float], points: list, values: list) -> tuple | None:
    """(t, y, f(t, y)) of the first stage whose f value is not finite; None when all are finite."""
    for t, y, v in zip(times, points, values):
        if not np.all(np.isfinite(v)):
            return t, value_of(y), v
    return None


def error_norm(error: np.ndarray, y: np.ndarray, y_new: np.ndarray, rtol: float, atol: float) -> float:
    """‖e / (atol + rtol·max(|y|, |y_new|))‖_RMS: below 1 means the step met the tolerance."""
    scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
    if np.min(scale) > 0:
        return float(np.sqrt(np.mean(np.square(error / scale))))
    # a component whose scale is 0 (atol = 0, y = 0) passes only with no error at all (never 0/0 = nan)
    error = np.abs(error)
    ratio = np.divide(error, scale, out=np.where(error == 0, 0.0, np.inf), where=scale > 0)
    return float(np.sqrt(np.mean(np.square(ratio))))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def initial_step(f: Callable, t0: float, y0: np.ndarray, f0: np.ndarray, direction: float, order: int,
                 rtol: float, atol: float) -> float:
    """A first step whose error is about the tolerance (Hairer, Nørsett & Wanner, II.4):
    h₀ = 0.01‖y₀‖/‖f₀‖, then h₁ from a second derivative estimate ‖f(t₀+h₀, y₀+h₀f₀) − f₀‖/h₀."""
    scale = atol + rtol * np.abs(y0)
    scale = np.where(scale > 0, scale, 1.0)  # atol = 0 and y0 = 0: measure that component absolutely
    d0, d1 = rms(y0 / scale), rms(f0 / scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    f1 = value_of(f(t0 + direction * h0, y0 + direction * h0 * f0))
    d2 = rms((f1 - f0) / scale) / h0
    if not np.isfinite(d2):  # f is not finite just past t0: start small, the loop will say where
        return h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, 1e-3 * h0)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
    h = min(100.0 * h0, h1)
    return h if np.isfinite(h) and h > 0 else 1e-6


class ExplicitScheme:
    """An embedded explicit Runge–Kutta pair (dopri5): a step, its error estimate and interpolant."""

    def __init__(self, tableau: Tableau = DOPRI5):
        self.tableau = tableau
        self.name = tableau.name
        self.error_order = tableau.order - 1

    def attempt(self, f: Callable, t: float, y: Any, h: float, f0: Any) -> Attempt:
        tab = self.tableau
        ks, points = rk_stages(tab, f, t, y, h, f0)
        values = [value_of(k) for k in ks]
        error = h * sum(e * k for e, k in zip(tab.error, values) if e)
        # Hairer's stiffness probe: the last two stages are at the same time, so
        # ‖k7 − k6‖ / ‖y7 − y6‖ estimates |λ| of the Jacobian (the Lipschitz constant along the step).
        dy = rms(value_of(points[-1]) - value_of(points[-2]))
        h_lambda = abs(h) * rms(values[-1] - values[-2]) / dy if dy > 0 else 0.0
        nonfinite = None
        if not np.isfinite(error).all():
            nonfinite = first_nonfinite([t + c * h for c in tab.c], points, values)
        return Attempt(points[-1], ks[-1], error, lambda: dense_coefficients(tab, y, h, ks), h_lambda, nonfinite)


def run_adaptive(scheme: Any, f: Callable, t0: float, y0: Any, t1: float, rtol: float, atol: float,
                 max_steps: int, recorder: Recorder, first_step: float | None = None,
                 controller: str = "classic") -> None:
    """Step from t0 to t1 (either direction), recording through ``recorder``; raise when the solve cannot finish."""
    if controller not in CONTROLLERS:
        raise SolverInputError(f"controller must be 'classic' or 'pi', not {controller!r}.")
    direction = 1.0 if t1 >= t0 else -1.0
    t, y = t0, y0
    f0 = f(t, y)
    y_val = value_of(y)
    if not np.all(np.isfinite(value_of(f0))):
        _nonfinite(scheme.name, (t0, y_val, value_of(f0)), t0, y_val, None)
    if first_step is None:
        h_abs = initial_step(f, t0, y_val, value_of(f0), direction, scheme.error_order, rtol, atol)
    else:
        h_abs = abs(first_step)
    beta = CONTROLLERS[controller]
    exponent = 1.0 / (scheme.error_order + 1) - 0.75 * beta
    previous_error = 1e-4
    stiff_count, nonstiff_count = 0, 0
    run = recorder.run
    while (t1 - t) * direction > 0:
        if run.steps >= max_steps:
            _too_many_steps(scheme.name, max_steps, t, t0, t1, h_abs, stiff_count)
        min_step = 16 * np.spacing(abs(t)) if t else 16 * np.finfo(float).tiny
        if h_abs < min_step:
            raise StepSizeError(
                f"{scheme.name}: the step size fell to h = {h_abs:.3g} at t = {t:.10g}, below what float64 "
                "resolves there.\n  either the solution blows up near this time (a finite-time singularity: "
                "stop before it), or the problem is severely stiff: use method='rosenbrock23'.")
        h_abs = min(h_abs, abs(t1 - t))
        if abs(t1 - t) - h_abs < min_step:  # do not leave a sliver at the end
            h_abs = abs(t1 - t)
        h = direction * h_abs
        rejected_before = False
        while True:
            attempt = scheme.attempt(f, t, y, h, f0)
            y_new_val = value_of(attempt.y_new)
            err = error_norm(attempt.error, y_val, y_new_val, rtol, atol)
            if err <= 1.0 and np.isfinite(err):
                break
            run.rejected += 1
            rejected_before = True
            factor = MIN_FACTOR if not np.isfinite(err) else max(MIN_FACTOR, SAFETY * err ** -exponent)
            h_abs *= factor
            if h_abs < min_step and attempt.nonfinite is not None:
                _nonfinite(scheme.name, attempt.nonfinite, t, y_val, h_abs)
            if h_abs < min_step:
                raise StepSizeError(
                    f"{scheme.name}: the step size fell to h = {h_abs:.3g} at t = {t:.10g}: every attempt was "
                    "rejected.\n"
                    "  the vector field may be non-finite or discontinuous here, the solution may blow up, "
                    "or the problem is severely stiff: use method='rosenbrock23'.")
            h = direction * h_abs
        factor = SAFETY * max(err, 1e-10) ** -exponent * previous_error ** beta
        factor = min(MAX_FACTOR, max(MIN_FACTOR, factor))
        if rejected_before:
            factor = min(factor, 1.0)
        previous_error = max(err, 1e-4)
        if recorder.accept(t, h, attempt.y_new, attempt.coefficients):
            return
        t = t + h
        y, f0, y_val = attempt.y_new, attempt.f_new, y_new_val
        if attempt.h_lambda > STIFF_H_LAMBDA:
            stiff_count, nonstiff_count = stiff_count + 1, 0
            remaining = abs(t1 - t) / h_abs
            if stiff_count >= STIFF_STEPS and remaining > STIFF_REMAINING:
                raise StiffnessError(
                    f"{scheme.name} stopped at t = {t:.6g}: the problem is stiff there. For the last {stiff_count} "
                    f"steps the step size h = {h_abs:.3g} was held down by stability (h·|λ| ≈ "
                    f"{attempt.h_lambda:.2f}, the edge of {scheme.name}'s stability region), not by accuracy; "
                    f"finishing [{t0:g}, {t1:g}] at that size would take about {remaining:.0f} more steps.\n"
                    "  use the stiff method: cm.ode.solve(f, y0, t_span, method='rosenbrock23'), which is "
                    "stable at any step size.")
        elif attempt.h_lambda == attempt.h_lambda:  # not nan
            nonstiff_count += 1
            if nonstiff_count == 6:
                stiff_count = 0
        h_abs *= factor


def _nonfinite(name: str, where: tuple, t: float, y: np.ndarray, h: float | None) -> None:
    """NonFiniteError naming where f turned NaN/±inf: the stage's time and state, and the last good point."""
    t_bad, y_bad, f_bad = where
    text = lambda v: np.array2string(np.ravel(v)[:6], precision=6, threshold=6) + (" …" if np.size(v) > 6 else "")
    if h is None:
        place = f"at the initial point t0 = {t_bad:.10g}, y0 = {text(y_bad)}"
    else:
        place = (f"at t = {t_bad:.10g}, y = {text(y_bad)}; every step past t = {t:.10g} (y = {text(y)}) met a "
                 f"non-finite value, down to h = {h:.3g}")
    raise NonFiniteError(
        f"{name}: f returned a non-finite value (f{first_bad(f_bad)}) {place}.\n"
        "  f is NaN or ±inf there (a log or sqrt of a negative, a division by zero, an overflow), or the "
        "solution blows up at that time: stop the solve before it, or fix f.")


def _too_many_steps(name: str, max_steps: int, t: float, t0: float, t1: float, h: float, stiff: int) -> None:
    hint = (f" The last {stiff} steps were limited by stability, not accuracy: the problem looks stiff."
            if stiff else "")
    raise MaxStepsError(
        f"{name} used max_steps = {max_steps} steps and reached only t = {t:.6g} of [{t0:g}, {t1:g}] "
        f"(last step h = {h:.3g}).{hint}\n  raise max_steps, loosen rtol/atol, or for a stiff problem use "
        "method='rosenbrock23'.")
