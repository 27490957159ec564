"""cm.ode.solve against closed forms, conserved quantities, scipy references and measured orders."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from calcml import ode
from calcml.ode import problems
from calcml.ode.events import EventTracker
from calcml.ode.fixed import run_fixed, step_grid
from calcml.ode.tableaus import DOPRI5, EULER, RK4
from calcml.ode.trajectory import Recorder


@pytest.mark.parametrize("method, options, tol", [
    ("dopri5", dict(rtol=1e-10, atol=1e-12), 1e-9),
    ("rk4", dict(step=0.01), 1e-9),
    ("euler", dict(step=1e-4), 1e-4),
    ("rosenbrock23", dict(rtol=1e-7, atol=1e-10), 1e-5),  # order 2: the global error exceeds rtol
])
def test_exponential_decay(method, options, tol):
    res = ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 2.0), method=method, **options)
    assert res.y.shape == (len(res.t), 1)
    assert abs(res.y[-1, 0] - np.exp(-2.0)) < tol
    assert np.max(np.abs(res.y[:, 0] - np.exp(-res.t))) < tol


def test_harmonic_oscillator_conserves_energy_and_follows_cos():
    p = problems.harmonic_oscillator(omega=2.0)
    res = ode.solve(p.f, p.y0, (0.0, 50.0), rtol=1e-10, atol=1e-12)
    energy = p.invariant(res.t, res.y)
    assert np.max(np.abs(energy - 2.0)) < 1e-8   # ½·0² + ½·4·1² = 2
    assert np.max(np.abs(res.y - p.exact(res.t))) < 1e-7


def test_linear_system_matches_the_matrix_exponential():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4)) - 2 * np.eye(4)
    y0 = rng.standard_normal(4)
    ts = np.linspace(0.0, 3.0, 7)
    res = ode.solve(lambda t, y: A @ y, y0, (0.0, 3.0), t_eval=ts, rtol=1e-11, atol=1e-13)
    expected = np.stack([expm(A * t) @ y0 for t in ts])
    np.testing.assert_allclose(res.t, ts)
    np.testing.assert_allclose(res.y, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("problem", problems.DETEST_A, ids=lambda p: p.name.split(":")[0])
def test_detest_class_a(problem):
    res = ode.solve(problem.f, problem.y0, problem.t_span, rtol=1e-10, atol=1e-12)
    if problem.exact is not None:
        np.testing.assert_allclose(res.y, problem.exact(res.t), rtol=1e-8, atol=1e-10)
    else:  # A5: ln r + θ is constant (homogeneous equation), and a tight reference agrees
        invariant = problem.invariant(res.t, res.y)
        assert np.max(np.abs(invariant - (np.log(4.0) + np.pi / 2))) < 1e-8
        ref = solve_ivp(problem.f, problem.t_span, problem.y0, method="DOP853", rtol=1e-13, atol=1e-13)
        assert abs(res.y[-1, 0] - ref.y[0, -1]) < 1e-7


def test_van_der_pol_period_from_events():
    p = problems.van_der_pol(mu=1.0, t_end=40.0)
    upward = lambda t, y: y[0]
    upward.direction = 1
    res = ode.solve(p.f, p.y0, p.t_span, rtol=1e-10, atol=1e-12, events=upward)
    periods = np.diff(res.t_events[0])
    assert len(periods) >= 4
    assert abs(periods[-1] - problems.VAN_DER_POL_PERIOD) < 1e-7
    assert np.all(np.abs(res.y_events[0][:, 0]) < 1e-9)   # y really crosses zero there


def test_lotka_volterra_invariant_is_conserved():
    p = problems.lotka_volterra()
    res = ode.solve(p.f, p.y0, p.t_span, rtol=1e-10, atol=1e-12)
    invariant = p.invariant(res.t, res.y)
    assert np.ptp(invariant) < 1e-7
    loose = ode.solve(p.f, p.y0, p.t_span, rtol=1e-3, atol=1e-6)
    assert np.ptp(p.invariant(loose.t, loose.y)) > 100 * np.ptp(invariant)  # the check can fail


def _fixed_step_error(tableau, n_steps):
    p = problems.harmonic_oscillator(omega=1.0)
    recorder = Recorder(0.0, p.y0, None, EventTracker(None, 0.0, p.y0), False)
    run_fixed(tableau, p.f, p.y0, step_grid(0.0, 2.0, 2.0 / n_steps, None), recorder)
    return np.max(np.abs(recorder.run.ys[-1] - p.exact(2.0)))


@pytest.mark.parametrize("tableau, order, steps", [(EULER, 1, 200), (RK4, 4, 20), (DOPRI5, 5, 10)])
def test_measured_convergence_order(tableau, order, steps):
    errors = [_fixed_step_error(tableau, n) for n in (steps, 2 * steps, 4 * steps)]
    measured = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(measured - order) < 0.25), measured


def test_dense_output_is_accurate_between_steps():
    res = ode.solve(lambda t, y: y * np.cos(t), np.array([1.0]), (0.0, 10.0), rtol=1e-9, atol=1e-12,
                    dense_output=True)
    ts = np.linspace(0.0, 10.0, 301)
    np.testing.assert_allclose(res.sol(ts)[:, 0], np.exp(np.sin(ts)), rtol=1e-7)
    assert res.sol(3.3).shape == (1,)
    with pytest.raises(ValueError, match="dense output"):
        res.sol(11.0)


def test_terminal_event_and_direction():
    p = problems.harmonic_oscillator(omega=2.0)
    falling = lambda t, y: y[0]
    falling.terminal, falling.direction = True, -1
    res = ode.solve(p.f, p.y0, (0.0, 10.0), rtol=1e-10, atol=1e-12, events=falling)
    assert res.status == "event"
    assert abs(res.t[-1] - np.pi / 4) < 1e-9     # cos 2t first falls through 0 at t = π/4
    rising = lambda t, y: y[0]
    rising.direction = 1
    res = ode.solve(p.f, p.y0, (0.0, 10.0), rtol=1e-10, atol=1e-12, events=rising)
    np.testing.assert_allclose(res.t_events[0], 3 * np.pi / 4 + np.pi * np.arange(3), atol=1e-9)


def test_backwards_in_time_and_matrix_shaped_state():
    A = np.array([[0.0, 1.0], [-1.0, 0.0]])
    y1 = np.eye(2)
    res = ode.solve(lambda t, Y: A @ Y, y1, (1.0, 0.0), rtol=1e-11, atol=1e-13)
    assert res.y.shape == (len(res.t), 2, 2)
    np.testing.assert_allclose(res.y[-1], expm(-A), atol=1e-9)


@pytest.mark.parametrize("problem", [problems.van_der_pol(), problems.lotka_volterra(), problems.arenstorf(),
                                     *problems.DETEST_A], ids=lambda p: p.name.split(":")[0])
@pytest.mark.parametrize("rtol", [1e-4, 1e-8])
def test_step_counts_within_20_percent_of_scipy(problem, rtol):
    ours = ode.solve(problem.f, problem.y0, problem.t_span, rtol=rtol, atol=rtol * 1e-2)
    pi = ode.solve(problem.f, problem.y0, problem.t_span, rtol=rtol, atol=rtol * 1e-2, controller="pi")
    scipy_steps = len(solve_ivp(problem.f, problem.t_span, problem.y0, rtol=rtol, atol=rtol * 1e-2).t) - 1
    assert abs(ours.steps / scipy_steps - 1) <= 0.2
    assert abs(pi.steps / scipy_steps - 1) <= 0.35


def test_stiff_method_solves_robertson_where_dopri5_names_stiffness():
    p = problems.robertson(t_end=40.0)
    with pytest.raises(ode.StiffnessError, match="(?s)stiff.*h = .*rosenbrock23"):
        ode.solve(p.f, p.y0, p.t_span)
    res = ode.solve(p.f, p.y0, p.t_span, method="rosenbrock23", rtol=1e-6, atol=1e-10)
    ref = solve_ivp(p.f, p.t_span, p.y0, method="Radau", rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.y[-1], ref.y[:, -1], rtol=1e-4, atol=1e-9)
    assert np.max(np.abs(np.sum(res.y, axis=1) - 1.0)) < 1e-9
    assert res.steps < 500 and res.njev == res.steps   # one Jacobian per accepted step, reused on rejection


def test_stiff_van_der_pol_mu_1000():
    p = problems.van_der_pol(mu=1000.0, t_end=3.0)
    with pytest.raises(ode.StiffnessError):
        ode.solve(p.f, p.y0, p.t_span)
    res = ode.solve(p.f, p.y0, p.t_span, method="rosenbrock23", rtol=1e-7, atol=1e-10)
    ref = solve_ivp(p.f, p.t_span, p.y0, method="Radau", rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(res.y[-1], ref.y[:, -1], rtol=1e-5)
    assert res.steps < 500


def test_rosenbrock_with_a_user_jacobian():
    A = np.array([[-1000.0, 0.0], [1.0, -1.0]])
    res = ode.solve(lambda t, y: A @ y, np.array([1.0, 0.0]), (0.0, 1.0), method="rosenbrock23",
                    jac=lambda t, y: A, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(res.y[-1], expm(A) @ np.array([1.0, 0.0]), rtol=1e-5, atol=1e-12)


def test_max_steps_and_blow_up_give_errors_not_hangs():
    with pytest.raises(ode.MaxStepsError, match="max_steps = 10"):
        ode.solve(lambda t, y: np.cos(t) * y, np.array([1.0]), (0.0, 100.0), max_steps=10)
    with pytest.raises(ode.StepSizeError, match="step size"):
        ode.solve(lambda t, y: y ** 2, np.array([1.0]), (0.0, 2.0))   # y = 1/(1 − t) blows up at t = 1


def test_option_errors():
    with pytest.raises(ValueError, match="step=h"):
        ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), method="rk4")
    with pytest.raises(ValueError, match="method must be one of"):
        ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), method="rk45")
    with pytest.raises(ValueError, match="t_eval"):
        ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), t_eval=[0.5, 0.2])
