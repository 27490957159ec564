"""Bad input to the ODE solvers is refused before any work, and a right-hand side that turns NaN or
infinite stops the solve with the time and the state; ``max_steps`` bounds every method.

Each of these used to hang (NaN in y0, rtol=nan, f returning NaN) or report success (t_span=(0, nan)):
an alarm turns a hang into a failure instead of a stuck test run.
"""

from __future__ import annotations

import re
import signal
import time

import numpy as np
import pytest

import calcml as cm
from calcml import ode
from calcml.ode.errors import NonFiniteError, SolverInputError

decay = lambda t, y: -y


@pytest.fixture(autouse=True)
def no_hang():
    def stop(*_):
        raise TimeoutError("the solver did not return within 10 s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def refused_fast(call, match):
    """The call raises SolverInputError (a ValueError) matching ``match``, in well under a second."""
    start = time.perf_counter()
    with pytest.raises(SolverInputError, match=match) as caught:
        call()
    assert time.perf_counter() - start < 0.5
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, cm.CalcmlError)


@pytest.mark.parametrize("method", ode.METHODS)
@pytest.mark.parametrize("y0", [np.array([np.nan]), np.array([1.0, np.inf]), np.array([[1.0, -np.inf]])])
def test_non_finite_initial_state_is_refused(method, y0):
    calls = []
    f = lambda t, y: calls.append(t) or -y
    refused_fast(lambda: ode.solve(f, y0, (0.0, 1.0), method=method, step=0.1), r"y0 must be finite; y0\[")
    assert calls == []  # f never ran


@pytest.mark.parametrize("t_span, name", [((0.0, np.nan), r"t_span\[1\]"), ((np.nan, 1.0), r"t_span\[0\]"),
                                          ((0.0, np.inf), r"t_span\[1\]"), ((-np.inf, 0.0), r"t_span\[0\]")])
def test_non_finite_time_span_is_refused(t_span, name):
    refused_fast(lambda: ode.solve(decay, np.array([1.0]), t_span), name + " must be finite")


def test_non_finite_t_eval_is_refused():
    refused_fast(lambda: ode.solve(decay, np.array([1.0]), (0.0, 1.0), t_eval=[0.0, np.nan, 1.0]),
                 "t_eval must be finite")


@pytest.mark.parametrize("method", ["dopri5", "rosenbrock23"])
@pytest.mark.parametrize("rtol, atol, match", [
    (np.nan, 1e-9, "rtol must be a finite number ≥ 0"), (-1e-6, 1e-9, "rtol must be"),
    (np.inf, 1e-9, "rtol must be"), (1e-6, np.nan, "atol must be"), (1e-6, -1.0, "atol must be"),
    (1e-6, np.array([1e-9, np.nan]), "atol must be"), (0.0, 0.0, "both 0"),
])
def test_bad_tolerances_are_refused(method, rtol, atol, match):
    refused_fast(lambda: ode.solve(decay, np.array([1.0, 2.0]), (0.0, 1.0), method=method, rtol=rtol, atol=atol),
                 match)


@pytest.mark.parametrize("method", ["rk4", "euler"])
@pytest.mark.parametrize("step", [0.0, -0.1, np.nan, np.inf])
def test_bad_fixed_steps_are_refused(method, step):
    refused_fast(lambda: ode.solve(decay, np.array([1.0]), (0.0, 1.0), method=method, step=step), "step must be")


@pytest.mark.parametrize("first_step", [0.0, -1.0, np.nan])
def test_bad_first_step_is_refused(first_step):
    refused_fast(lambda: ode.solve(decay, np.array([1.0]), (0.0, 1.0), first_step=first_step), "first_step must be")


@pytest.mark.parametrize("max_steps", [0, -5, 2.5, None, True])
def test_bad_max_steps_is_refused(max_steps):
    refused_fast(lambda: ode.solve(decay, np.array([1.0]), (0.0, 1.0), max_steps=max_steps), "max_steps must be")


def test_zero_atol_with_a_zero_component_still_solves():
    """rtol-only control where a component is exactly 0 used to divide 0 by 0 in the error norm."""
    res = ode.solve(lambda t, y: np.array([-y[0], 0.0]), np.array([1.0, 0.0]), (0.0, 1.0), rtol=1e-8, atol=0.0)
    assert abs(res.y[-1, 0] - np.exp(-1.0)) < 1e-7 and res.y[-1, 1] == 0.0


@pytest.mark.parametrize("method", ["rk4", "euler"])
def test_fixed_step_methods_honour_max_steps_before_starting(method):
    calls = []
    f = lambda t, y: calls.append(t) or -y
    start = time.perf_counter()
    with pytest.raises(ode.MaxStepsError, match=r"needs 1,000 steps .* max_steps = 999"):
        ode.solve(f, np.array([1.0]), (0.0, 1.0), method=method, step=1e-3, max_steps=999)
    with pytest.raises(ode.MaxStepsError, match="max_steps = 100,000"):  # step=1e-300 would be 10^300 steps
        ode.solve(f, np.array([1.0]), (0.0, 1.0), method=method, step=1e-300)
    assert time.perf_counter() - start < 0.5 and calls == []
    assert ode.solve(f, np.array([1.0]), (0.0, 1.0), method=method, step=1e-3, max_steps=1000).steps == 1000


@pytest.mark.parametrize("method", ["dopri5", "rosenbrock23"])
def test_adaptive_methods_honour_max_steps(method):
    with pytest.raises(ode.MaxStepsError, match="max_steps = 7"):
        ode.solve(lambda t, y: np.cos(50 * t) * y, np.array([1.0]), (0.0, 10.0), method=method, max_steps=7)


@pytest.mark.parametrize("method", ode.METHODS)
def test_a_field_that_turns_nan_stops_with_the_time_and_state(method):
    """f is −y until t = 0.5, NaN after: the solve stops there, naming t ≈ 0.5 and y ≈ e^{−0.5}."""
    f = lambda t, y: -y if t < 0.5 else np.full_like(y, np.nan)
    with pytest.raises(NonFiniteError, match=r"(?s)not finite|non-finite") as caught:
        ode.solve(f, np.array([1.0]), (0.0, 1.0), method=method, step=0.01)
    message = str(caught.value)
    times = [float(s) for s in re.findall(r"t = ([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)", message)]
    assert times and all(abs(t - 0.5) < 0.02 for t in times), message
    states = [float(s) for s in re.findall(r"y0? = \[([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\]", message)]
    assert states and all(abs(y - np.exp(-0.5)) < 0.01 for y in states), message  # y(0.5) = e^{-0.5}


@pytest.mark.parametrize("method", ode.METHODS)
def test_a_field_non_finite_at_the_start_is_named(method):
    with pytest.raises(NonFiniteError, match=r"(?s)y0? = \[2.*t0? = 0|t0? = 0.*y0? = \[2"):
        ode.solve(lambda t, y: np.log(-y), np.array([2.0]), (0.0, 1.0), method=method, step=0.1)


def test_a_blow_up_in_finite_time_is_reported_not_returned():
    """y' = y², y(0) = 1 blows up at t = 1: the solve must not report success past it."""
    with pytest.raises(cm.CalcmlError) as caught:
        ode.solve(lambda t, y: y * y, np.array([1.0]), (0.0, 2.0))
    assert isinstance(caught.value, (ode.StepSizeError, NonFiniteError))
    with pytest.raises(NonFiniteError, match="t = "):
        ode.solve(lambda t, y: y * y, np.array([1.0]), (0.0, 2.0), method="rk4", step=0.01)


def test_odeint_refuses_bad_input_too():
    f = lambda t, y, w: -w * y
    refused_fast(lambda: ode.odeint(f, np.array([np.nan]), [0.0, 1.0], 1.0), "y0 must be finite")
    refused_fast(lambda: ode.odeint(f, np.array([1.0]), [0.0, np.nan], 1.0), "ts must be finite")
    refused_fast(lambda: ode.odeint(f, np.array([1.0]), [0.0, 1.0], 1.0, rtol=np.nan), "rtol")
    refused_fast(lambda: ode.odeint(f, np.array([1.0]), [0.0, 1.0], 1.0, method="rk4", step=-1.0), "step")
    with pytest.raises(ode.MaxStepsError):
        ode.odeint(f, np.array([1.0]), [0.0, 1.0], 1.0, method="euler", step=1e-3, max_steps=10)
    w = cm.Tensor(np.array(0.5), requires_grad=True)
    refused_fast(lambda: ode.odeint(f, cm.Tensor(np.array([np.inf])), [0.0, 1.0], w), "y0 must be finite")


def test_odeint_still_differentiates_after_the_checks():
    g = cm.grad(lambda w: np.sum(ode.odeint(lambda t, y, w: -w * y, np.array([1.0]), [0.0, 2.0], w,
                                            rtol=1e-10, atol=1e-12)[-1]))(0.5)
    assert abs(float(g) + 2 * np.exp(-1.0)) < 1e-8
