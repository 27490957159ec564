"""Chapter 9 — Differential equations: solvers, gradient flow, differentiable solves and a Neural ODE.

    python examples/ch09_odes_and_neural_odes.py          # full run
    python examples/ch09_odes_and_neural_odes.py --fast   # CI settings: fewer training steps

An ODE y′ = f(t, y) says how a state changes; a solver builds y(t) step by step. Euler's method
y ← y + h f(t, y) has error O(h), RK4 O(h⁴). Gradient descent θ ← θ − η∇L is Euler's method on the gradient
flow θ′ = −∇L(θ). A solve can be differentiated — ∂y(T)/∂θ — by backpropagating through the steps or by the
adjoint ODE; a Neural ODE makes f itself a network and learns it from trajectories.

What to look at: the error columns (halving h halves Euler's error and divides RK4's by 16); the gradient of
the solution agreeing with its closed form; and the picture: the damped pendulum's phase portrait, every
trajectory spiralling into the rest state.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm


def solvers_chapter() -> None:
    print("1. y′ = −y, y(0) = 1: the error at t = 1 against e^(−1)")
    print(f"   {'h':>8}{'Euler':>12}{'RK4':>12}")
    for h in (0.1, 0.05, 0.025):
        errors = [abs(cm.ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), method=m, step=h).y[-1, 0]
                      - np.exp(-1)) for m in ("euler", "rk4")]
        print(f"   {h:8.3f}{errors[0]:12.3e}{errors[1]:12.3e}")
    adaptive = cm.ode.solve(lambda t, y: -y, np.array([1.0]), (0.0, 1.0), rtol=1e-10, atol=1e-12)
    print(f"   dopri5 (adaptive, rtol 1e-10): y(1) = {adaptive.y[-1, 0]:.12f} in {len(adaptive.t) - 1} steps, "
          f"e^(−1) = {np.exp(-1):.12f}")


def gradient_flow_chapter() -> None:
    print("\n2. Gradient flow θ′ = −∇L(θ) and gradient descent, L(θ) = (θ − 3)²")
    flow = cm.ode.gradient_flow(lambda th: np.sum((th - 3.0) ** 2), np.array([0.0]), (0.0, 1.0))
    print(f"   flow: θ(1) = {flow.y[-1, 0]:.10f}, closed form 3 − 3e^(−2) = {3 - 3 * np.exp(-2):.10f}")
    for lr in (0.1, 0.01):
        gd = cm.ode.gradient_descent(lambda th: np.sum((th - 3.0) ** 2), np.array([0.0]), lr, round(1 / lr))
        print(f"   gradient descent with η = {lr} for {round(1 / lr)} steps (time 1): θ = {gd[-1, 0]:.6f}")
    print("   smaller steps follow the flow more closely: gradient descent is Euler's method on the flow")


def differentiable_chapter() -> None:
    print("\n3. Differentiating a solve: y′ = −w·y, y(0) = 1, so y(2) = e^(−2w) and ∂y(2)/∂w = −2e^(−2w)")
    for adjoint in (False, True):
        w = cm.Tensor(np.array(0.5), requires_grad=True)
        y = cm.ode.odeint(lambda t, y, w: -w * y, np.array([1.0]), [0.0, 2.0], w, adjoint=adjoint, rtol=1e-10)
        np.sum(y[-1]).backward()
        way = "adjoint ODE" if adjoint else "backprop through the steps"
        print(f"   {way:<27} ∂y(2)/∂w = {float(w.grad):.10f}")
    print(f"   closed form                 ∂y(2)/∂w = {-2 * np.exp(-1.0):.10f}")


def neural_ode_chapter(steps: int) -> None:
    print(f"\n4. A Neural ODE learns the field of a spiral y′ = A y from one trajectory ({steps} Adam steps)")
    A = np.array([[-0.1, 1.0], [-1.0, -0.1]])
    ts = np.linspace(0.0, 3.0, 16)
    target = cm.ode.odeint(lambda t, y, A: y @ A.T, np.array([2.0, 0.0]), ts, A, method="rk4", step=0.1)
    dense = lambda n, m: cm.nn.Linear(n, m, rng=0, dtype=np.float64)  # noqa: E731
    field = cm.nn.Sequential(dense(2, 16), cm.nn.Tanh(), dense(16, 2))
    model = cm.nn.NeuralODE(field, method="rk4", step=0.1)
    optimizer = cm.optim.Adam(field.parameters(), lr=0.02)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = np.mean((model(np.array([2.0, 0.0]), ts) - target) ** 2)
        loss.backward()  # through every RK4 step of the solve, into the network's weights
        optimizer.step()
        losses.append(float(loss.value))
    print(f"   trajectory loss: {losses[0]:.4f} at the start, {losses[-1]:.4f} after {steps} steps")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ODE solvers, gradient flow, differentiable solves, a Neural ODE.")
    parser.add_argument("--fast", action="store_true", help="40 Neural-ODE training steps instead of 300")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for odes_and_neural_odes.png")
    args = parser.parse_args(argv)
    solvers_chapter()
    gradient_flow_chapter()
    differentiable_chapter()
    neural_ode_chapter(steps=40 if args.fast else 300)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "odes_and_neural_odes.png"

    def pendulum(t, y):  # θ″ = −sin θ − 0.25 θ′, as a system in (θ, ω)
        return np.array([y[1], -np.sin(y[0]) - 0.25 * y[1]])

    cm.viz.phase_portrait(pendulum, [(1.0, 0.0), (2.5, 0.0), (-3.0, 1.5), (0.0, 2.5)], (0.0, 20.0),
                          labels=("θ", "ω"), title="damped pendulum θ″ = −sin θ − 0.25 θ′", path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
