"""A fixed-step explicit method past its stability limit is refused (StiffnessError), not returned as 1e95;
solutions that really grow, and steps inside the limit, integrate as before."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from calcml import ode
from calcml.ode.errors import NonFiniteError


@pytest.mark.parametrize("method, limit", [("euler", 2.0), ("rk4", 2.785)])
def test_a_stiff_decay_past_the_stability_limit_is_refused(method, limit):
    """y' = −1000 y, h = 0.01: h|λ| = 10; Euler would multiply by −9 per step and return 2.66e95 at t = 1."""
    with pytest.raises(ode.StiffnessError, match="rosenbrock23") as caught:
        ode.solve(lambda t, y: -1000 * y, np.array([1.0]), (0.0, 1.0), method=method, step=0.01)
    message = str(caught.value)
    assert f"step < {limit / 1000:.3g}" in message and "t = 0.01" in message


def test_forced_stiff_problem_and_oscillation_and_odeint_are_refused_too():
    with pytest.raises(ode.StiffnessError):
        ode.solve(lambda t, y: -1000 * (y - np.cos(t)), np.array([0.0]), (0.0, 1.0), method="euler", step=0.01)
    A = np.array([[0.0, 1.0], [-1e6, 0.0]])  # ω = 1000, h ω = 10: Euler multiplies by |1 + 10i| ≈ 10 per step
    with pytest.raises(ode.StiffnessError):
        ode.solve(lambda t, y: A @ y, np.array([1.0, 0.0]), (0.0, 1.0), method="euler", step=0.01)
    with pytest.raises(ode.StiffnessError):
        ode.solve(lambda t, y: np.array([-1000 * y[0], -y[1]]), np.ones(2), (0.0, 1.0), method="rk4", step=0.01)
    with pytest.raises(ode.StiffnessError):
        ode.odeint(lambda t, y, k: -k * y, np.array([1.0]), [0.0, 1.0], 1000.0, method="euler", step=0.01)


def test_the_same_problem_with_a_stable_step_or_a_stiff_solver_is_right():
    h = 0.0019  # h|λ| = 1.9 < 2: Euler's factor 1 − 1.9 = −0.9, exactly what the method gives
    sol = ode.solve(lambda t, y: -1000 * y, np.array([1.0]), (0.0, 1.0), method="euler", step=h)
    n = len(sol.t) - 1
    assert sol.y[-1, 0] == pytest.approx(np.prod(1 - 1000 * np.diff(sol.t)), rel=1e-9) and n == math.ceil(1 / h)
    stiff = ode.solve(lambda t, y: -1000 * y, np.array([1.0]), (0.0, 1.0), method="rosenbrock23")
    assert abs(stiff.y[-1, 0]) < 1e-6


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_growing_solutions_are_not_flagged(method):
    h = 0.5
    sol = ode.solve(lambda t, y: y, np.array([1.0]), (0.0, 20.0), method=method, step=h)
    factor = 1 + h if method == "euler" else sum(h ** j / math.factorial(j) for j in range(5))
    assert sol.y[-1, 0] == pytest.approx(factor ** 40, rel=1e-12)
    fast = ode.solve(lambda t, y: 50 * y, np.array([1.0]), (0.0, 10.0), method=method, step=0.1)  # h λ = 5
    assert np.isfinite(fast.y[-1, 0]) and fast.y[-1, 0] > 1e70


def test_a_growing_spiral_is_integrated():
    B = np.array([[1.0, -5.0], [5.0, 1.0]])  # λ = 1 ± 5i: grows like e^t while turning
    sol = ode.solve(lambda t, y: B @ y, np.array([1.0, 0.0]), (0.0, 5.0), method="rk4", step=0.01)
    np.testing.assert_allclose(sol.y[-1], expm(5 * B) @ np.array([1.0, 0.0]), rtol=2e-5)  # RK4's O(h⁴)


def test_a_blow_up_in_finite_time_is_still_a_non_finite_error_not_stiffness():
    with pytest.raises(NonFiniteError):
        ode.solve(lambda t, y: y * y, np.array([1.0]), (0.0, 2.0), method="euler", step=0.01)


def test_van_der_pol_with_rk4_is_not_flagged():
    p = ode.problems.van_der_pol(mu=1.0, t_end=30.0)
    sol = ode.solve(p.f, p.y0, p.t_span, method="rk4", step=0.01)
    ref = ode.solve(p.f, p.y0, p.t_span, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.y[-1], ref.y[-1], atol=1e-6)
