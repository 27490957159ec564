"""Gradient flow vs gradient descent, the 2/λ_max bound, and a Neural ODE that learns a spiral."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import calcml as cm
from calcml import ode

A = np.array([[3.0, 1.0], [1.0, 2.0]])
B = np.array([1.0, -1.0])
THETA_STAR = np.linalg.solve(A, B)


def quadratic(theta):
    return 0.5 * theta @ A @ theta - B @ theta


def test_gradient_flow_on_a_quadratic_is_the_matrix_exponential():
    theta0 = np.array([2.0, 2.0])
    ts = np.linspace(0.0, 3.0, 7)
    res = ode.gradient_flow(quadratic, theta0, (0.0, 3.0), t_eval=ts)
    expected = np.stack([THETA_STAR + expm(-A * t) @ (theta0 - THETA_STAR) for t in ts])
    np.testing.assert_allclose(res.y, expected, atol=1e-8)


def test_gradient_descent_is_euler_on_the_flow():
    theta0 = np.array([2.0, 2.0])
    path = ode.gradient_descent(quadratic, theta0, lr=0.05, steps=40)
    euler = ode.solve(lambda t, th: -(A @ th - B), theta0, (0.0, 2.0), method="euler", step=0.05)
    np.testing.assert_allclose(path, euler.y, atol=1e-12)
    closed = np.stack([THETA_STAR + np.linalg.matrix_power(np.eye(2) - 0.05 * A, k) @ (theta0 - THETA_STAR)
                       for k in range(41)])
    np.testing.assert_allclose(path, closed, atol=1e-12)


def test_step_size_bound_two_over_lambda_max():
    report = ode.descent_stability(quadratic, THETA_STAR, np.array([2.0, 2.0]), steps=300, margin=0.02)
    lam = np.linalg.eigvalsh(A)[-1]
    assert report.lambda_max == pytest.approx(lam, rel=1e-12)
    assert report.bound == pytest.approx(2 / lam, rel=1e-12)
    assert report.converges_below and report.diverges_above
    # along the top eigenvector the error is multiplied by |1 − ηλ_max| = 1 ± 2·margin per step
    assert report.distance_above[-1] / report.distance_above[-2] == pytest.approx(1.04, rel=1e-6)
    assert report.distance_below[-1] / report.distance_below[-2] == pytest.approx(0.96, rel=1e-6)


def test_neural_ode_learns_a_spiral():
    spiral = np.array([[-0.1, -1.0], [1.0, -0.1]])
    ts = np.linspace(0.0, 4.0, 21)
    y0 = np.array([2.0, 0.0])
    target = ode.solve(lambda t, y: spiral @ y, y0, (0.0, 4.0), t_eval=ts, rtol=1e-10).y
    field = cm.nn.Sequential(cm.nn.Linear(2, 16, dtype=np.float64, rng=0), cm.nn.Tanh(),
                             cm.nn.Linear(16, 2, dtype=np.float64, rng=1))
    model = cm.nn.NeuralODE(field, method="rk4", step=0.2)
    optimizer = cm.optim.Adam(field.parameters(), lr=0.02)
    losses = []
    for _ in range(120):
        loss = np.mean((model(y0, ts) - target) ** 2)
        loss.backward()
        optimizer.step()
        for p in field.parameters():
            p.grad = None
        losses.append(float(loss.value))
    assert losses[-1] < losses[0] / 50, (losses[0], losses[-1])


def test_neural_ode_adjoint_gradient_matches_backprop():
    field = cm.nn.Sequential(cm.nn.Linear(2, 8, dtype=np.float64, rng=0), cm.nn.Tanh(),
                             cm.nn.Linear(8, 2, dtype=np.float64, rng=1))
    ts = np.linspace(0.0, 1.0, 4)
    grads = []
    for adjoint in (False, True):
        model = cm.nn.NeuralODE(field, adjoint=adjoint, rtol=1e-10, atol=1e-10)
        np.sum(model(np.array([1.0, -1.0]), ts) ** 2).backward()
        grads.append([p.grad.copy() for p in field.parameters()])
        for p in field.parameters():
            p.grad = None
    for bp, adj in zip(*grads):
        np.testing.assert_allclose(adj, bp, rtol=1e-5, atol=1e-8)
