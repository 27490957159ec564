"""odeint: gradients by backpropagation through the solver and by the adjoint method, against each other,
finite differences and closed forms; the memory each keeps for the backward pass."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import calcml as cm
from calcml import ode

RNG = np.random.default_rng(0)
W0, B0, Y0 = RNG.standard_normal((2, 2)), RNG.standard_normal(2), np.array([1.0, 0.5])
TS = np.linspace(0.0, 2.0, 5)
WEIGHTS = RNG.standard_normal((5, 2))


def field(t, y, params):
    W, b = params
    return np.tanh(y @ W + b) + 0.1 * np.sin(t) * y


def loss(y0, W, b, adjoint, method="dopri5", tol=1e-10, step=None):
    y = ode.odeint(field, y0, TS, (W, b), method=method, adjoint=adjoint, rtol=tol, atol=tol, step=step)
    return np.sum(WEIGHTS * y)


def finite_differences(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        grad[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return grad


def test_output_shape_and_values_match_solve():
    y = ode.odeint(field, Y0, TS, (W0, B0))
    assert y.shape == (5, 2)
    ref = ode.solve(lambda t, y: field(t, y, (W0, B0)), Y0, (0.0, 2.0), t_eval=TS, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(y, ref.y, rtol=1e-12)


@pytest.mark.parametrize("method, step", [("dopri5", None), ("rk4", 0.05)])
def test_backprop_through_solver_matches_finite_differences(method, step):
    grads = cm.grad(loss, argnums=(0, 1, 2))(Y0, W0, B0, False, method, 1e-10, step)
    fd = [finite_differences(lambda y: loss(y, W0, B0, False, method, 1e-10, step), Y0),
          finite_differences(lambda w: loss(Y0, w, B0, False, method, 1e-10, step), W0),
          finite_differences(lambda b: loss(Y0, W0, b, False, method, 1e-10, step), B0)]
    for g, f in zip(grads, fd):
        np.testing.assert_allclose(g, f, rtol=1e-6, atol=1e-7)


def test_adjoint_matches_backprop_and_finite_differences():
    backprop = cm.grad(loss, argnums=(0, 1, 2))(Y0, W0, B0, False)
    adjoint = cm.grad(loss, argnums=(0, 1, 2))(Y0, W0, B0, True)
    fd = finite_differences(lambda w: loss(Y0, w, B0, False), W0)
    for a, b in zip(adjoint, backprop):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(adjoint[1], fd, rtol=1e-6, atol=1e-7)


def test_single_parameter_and_closed_form():
    # y' = −w y: y(T) = y0 e^{−wT};  ∂y(T)/∂w = −T y(T),  ∂y(T)/∂y0 = e^{−wT}
    for adjoint in (False, True):
        f = lambda y0, w: np.sum(ode.odeint(lambda t, y, w: -w * y, y0, [0.0, 2.0], w, adjoint=adjoint,
                                            rtol=1e-11, atol=1e-12)[-1])
        gy, gw = cm.grad(f, argnums=(0, 1))(np.array([1.5]), np.array(0.5))
        np.testing.assert_allclose(gw, -2.0 * 1.5 * np.exp(-1.0), rtol=1e-8)
        np.testing.assert_allclose(gy, [np.exp(-1.0)], rtol=1e-8)


def test_second_derivative_through_the_solver_and_adjoint_refuses():
    f = lambda w, adjoint: np.sum(ode.odeint(lambda t, y, w: -w * y, np.array([1.0]), [0.0, 2.0], w, method="rk4",
                                             step=0.01, adjoint=adjoint)[-1])
    second = cm.grad(cm.grad(lambda w: f(w, False)))(np.array(0.5))
    np.testing.assert_allclose(second, 4.0 * np.exp(-1.0), rtol=1e-8)   # d²/dw² e^{−2w} = 4e^{−2w}
    with pytest.raises(cm.UnsupportedTransformError, match="adjoint=False"):
        cm.grad(cm.grad(lambda w: f(w, True)))(np.array(0.5))


def _kept_for_backward(adjoint, n_steps):
    """(graph nodes, bytes they keep, bytes traced by tracemalloc) for a solve of n_steps RK4 steps."""
    gc.collect()
    tracemalloc.start()
    W = cm.Tensor(W0, requires_grad=True)
    before = tracemalloc.get_traced_memory()[0]
    out = ode.odeint(field, Y0, [0.0, 2.0], (W, B0), method="rk4", step=2.0 / n_steps, adjoint=adjoint)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    nodes, nbytes = ode.saved_for_backward(out)
    np.sum(out).backward()
    assert W.grad is not None and np.all(np.isfinite(W.grad))
    return nodes, nbytes, held


def test_adjoint_memory_does_not_grow_with_the_number_of_steps():
    bp100, bp1000 = _kept_for_backward(False, 100), _kept_for_backward(False, 1000)
    adj100, adj1000 = _kept_for_backward(True, 100), _kept_for_backward(True, 1000)
    print(f"\nbackprop  100 steps: {bp100}\nbackprop 1000 steps: {bp1000}\n"
          f"adjoint   100 steps: {adj100}\nadjoint  1000 steps: {adj1000}")
    assert bp1000[0] > 9 * bp100[0] and bp1000[1] > 9 * bp100[1] and bp1000[2] > 5 * bp100[2]
    assert adj100[:2] == adj1000[:2] and adj1000[0] == 1
    assert adj1000[2] < 2 * adj100[2] + 4096 and adj1000[2] < bp100[2] / 10


def test_adjoint_with_rk4_matches_backprop_with_rk4():
    bp = cm.grad(loss, argnums=1)(Y0, W0, B0, False, "rk4", 0.0, 0.001)
    adj = cm.grad(loss, argnums=1)(Y0, W0, B0, True, "rk4", 0.0, 0.001)
    np.testing.assert_allclose(adj, bp, rtol=1e-6)


def test_odeint_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        ode.odeint(field, Y0, TS, (W0, B0), method="rosenbrock23")
    with pytest.raises(ValueError, match="ts must"):
        ode.odeint(field, Y0, [0.0], (W0, B0))
