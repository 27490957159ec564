"""The book's chapter 9 — ODE solvers and their orders, stiffness, gradient flow, differentiable solves
(backpropagation vs the adjoint, the idea of Neural ODEs) — and the stochastic dynamics of chapter 20, each checked
against a closed form."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import ode, sde
from calcml.ode import problems
from calcml.tour.chapter import Chapter


def odes_and_gradient_flow() -> Chapter:
    """Chapter 9: solving ODEs, gradient descent as a discretized flow, and differentiating through a solve."""
    ch = Chapter("ODEs, gradient flow, Neural ODEs")
    ch.say("An ODE y' = f(t, y) is solved step by step; gradient descent is Euler's method on the gradient flow "
           "θ' = −∇L(θ); and a Neural ODE is trained by differentiating through the solver — by backpropagation "
           "through its steps or by the adjoint equation.")
    for section in (ode_solvers, stiffness, gradient_flow, differentiable_solves):
        ch.include(section())
    return ch


def ode_solvers() -> Chapter:
    """Euler, RK4 and adaptive dopri5 on y' = −y, their measured orders, and a period found by an event."""
    ch = Chapter("Solving an ODE: steps, orders and adaptivity")
    ch.say("y' = −y, y(0) = 1 has y(t) = e^{−t}. Halving the step divides a method of order p's error by 2^p.")
    rows, errors = [], {"euler": [], "rk4": []}
    for n in (10, 20, 40, 80):
        row = [str(n)]
        for method in ("euler", "rk4"):
            res = ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), method=method, step=1.0 / n)
            errors[method].append(abs(res.y[-1, 0] - np.exp(-1.0)))
            row.append(f"{errors[method][-1]:.3e}")
        rows.append(tuple(row))
    ch.table("error at t = 1", ("steps", "Euler", "RK4"), rows)
    for method, order in (("euler", 1), ("rk4", 4)):
        measured = np.log2(errors[method][-2] / errors[method][-1])
        ch.check(f"{method}: measured order log₂(e_40/e_80) ≈ {order}", measured, order, 0.05)
    res = ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), rtol=1e-10, atol=1e-12)
    ch.say(f"dopri5 chooses its own steps: {res.steps} steps, {res.nfev} evaluations for rtol = 1e-10.")
    ch.check("dopri5: y(1) = e^{−1}", res.y[-1, 0], np.exp(-1.0), 1e-10)
    vdp = problems.van_der_pol(mu=1.0, t_end=30.0)
    upward = lambda t, y: y[0]
    upward.direction = 1
    res = ode.solve(vdp.f, vdp.y0, vdp.t_span, rtol=1e-10, atol=1e-12, events=upward)
    period = np.diff(res.t_events[0])[-1]
    ch.say(f"Van der Pol (μ = 1): x crosses 0 upwards every {period:.10f} (an event located on dense output).")
    ch.check("Van der Pol limit-cycle period", period, problems.VAN_DER_POL_PERIOD, 1e-7)
    return ch


def stiffness() -> Chapter:
    """Robertson's kinetics: an explicit method is held down by stability; a linearly implicit one is not."""
    ch = Chapter("Stiffness")
    p = problems.robertson(t_end=40.0)
    try:
        ode.solve(p.f, p.y0, p.t_span)
        message = "dopri5 finished (unexpected)"
    except ode.StiffnessError as error:
        message = str(error).splitlines()[0]
    ch.say(message)
    res = ode.solve(p.f, p.y0, p.t_span, method="rosenbrock23", rtol=1e-6, atol=1e-10)
    ch.say(f"rosenbrock23 (W = I − h d J, J by forward-mode autodiff): {res.steps} steps, {res.njev} Jacobians; "
           f"y(40) = {np.array2string(res.y[-1], precision=6)}.")
    ch.check("dopri5 reports stiffness instead of crawling", float("stiff" in message), 1.0, 0.0)
    ch.check("y₁ + y₂ + y₃ = 1 is conserved", np.sum(res.y[-1]), 1.0, 1e-9)
    return ch


def gradient_flow() -> Chapter:
    """θ' = −∇L(θ) against gradient descent on L = ½θᵀAθ − bᵀθ, and the bound η < 2/λ_max."""
    ch = Chapter("Gradient flow and the step-size bound of gradient descent")
    A, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    loss = lambda th: 0.5 * th @ A @ th - b @ th
    star, theta0 = np.linalg.solve(A, b), np.array([2.0, 2.0])
    flow = ode.gradient_flow(loss, theta0, (0.0, 2.0))
    exact = star + np.linalg.eigh(A)[1] @ np.diag(np.exp(-2.0 * np.linalg.eigvalsh(A))) @ np.linalg.eigh(A)[1].T \
        @ (theta0 - star)
    ch.say("The flow solves to θ(t) = θ* + e^{−At}(θ₀ − θ*); gradient descent is Euler's method on it, step η.")
    path = ode.gradient_descent(loss, theta0, lr=0.05, steps=40)
    ch.check("gradient flow θ₁(2) = closed form", flow.y[-1, 0], exact[0], 1e-7)
    ch.check("GD after 40 steps of η = 0.05 vs flow at t = 2 (O(η) apart)", np.linalg.norm(path[-1] - exact), 0.0,
             0.05)
    report = ode.descent_stability(loss, star, theta0, steps=200)
    ch.say(f"{report}")
    ch.check("2/λ_max of the Hessian", report.bound, 2.0 / np.linalg.eigvalsh(A)[-1], 1e-12)
    ch.check("GD converges just below 2/λ_max and diverges just above",
             float(report.converges_below and report.diverges_above), 1.0, 0.0)
    return ch


def differentiable_solves() -> Chapter:
    """∂y(T)/∂w for y' = −wy two ways — backpropagation through dopri5 and the adjoint method — and their memory."""
    ch = Chapter("Differentiating through an ODE solve")
    f = lambda t, y, w: -w * y
    rows = []
    for adjoint in (False, True):
        g = cm.grad(lambda w: np.sum(ode.odeint(f, np.array([1.0]), [0.0, 2.0], w, adjoint=adjoint, rtol=1e-10,
                                                atol=1e-12)[-1]))(np.array(0.5))
        ch.check(f"{'adjoint' if adjoint else 'backprop'}: d/dw e^{{−2w}} at w = ½ is −2e^{{−1}}", g,
                 -2.0 * np.exp(-1.0), 1e-8)
        for n in (100, 1000):
            w = cm.Tensor(np.array(0.5), requires_grad=True)
            out = ode.odeint(f, np.array([1.0]), [0.0, 2.0], w, method="rk4", step=2.0 / n, adjoint=adjoint)
            nodes, nbytes = ode.saved_for_backward(out)
            rows.append(("adjoint" if adjoint else "backprop", str(n), str(nodes), str(nbytes)))
    ch.table("what the graph keeps for the backward pass", ("mode", "RK4 steps", "graph nodes", "bytes of arrays"),
             rows)
    ch.say("Backpropagation stores every stage of every step; the adjoint stores y at the requested times only and "
           "solves a' = −aᵀ∂f/∂y backwards.")
    ch.check("adjoint memory does not grow with the steps", float(rows[2][2] == rows[3][2]), 1.0, 0.0)
    return ch


def stochastic_dynamics() -> Chapter:
    """Ornstein–Uhlenbeck paths by Euler–Maruyama, and Langevin sampling with the score from cm.grad."""
    ch = Chapter("Stochastic differential equations and Langevin sampling")
    theta, mu, sigma = 2.0, 1.0, 0.5
    ts = np.linspace(0.0, 1.0, 201)
    paths = sde.euler_maruyama(lambda t, x: theta * (mu - x), lambda t, x: sigma, np.array([3.0]), ts, rng=0,
                               n_paths=20_000)
    x = paths[-1, :, 0]
    mean = mu + 2.0 * np.exp(-theta)
    var = sigma ** 2 * (1 - np.exp(-2 * theta)) / (2 * theta)
    ch.say(f"dX = θ(μ − X)dt + σdW: at t = 1 the sample mean {x.mean():.4f} (exact {mean:.4f}), "
           f"variance {x.var():.4f} (exact {var:.4f}).")
    ch.check("OU mean at t = 1 (Monte Carlo, 20 000 paths)", x.mean(), mean, 0.01)
    ch.check("OU variance at t = 1", x.var(), var, 0.01)
    chain = sde.langevin(lambda x: -0.5 * np.sum((x - 1.0) ** 2, axis=-1) / 4.0, np.zeros((2000, 1)), 0.5, 200,
                         rng=0, burn_in=200, mala=True)
    ch.say(f"MALA on N(1, 4): mean {chain.samples.mean():.3f}, variance {chain.samples.var():.3f}, "
           f"acceptance {chain.acceptance_rate.mean():.2f}.")
    ch.check("Langevin sample mean of N(1, 4)", chain.samples.mean(), 1.0, 0.05)
    ch.check("Langevin sample variance of N(1, 4)", chain.samples.var(), 4.0, 0.03)
    return ch
