"""Tour chapters 1–6: the derivative, its rules, gradients, checking, Hessians, gradient descent."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml.tour.chapter import Chapter


def limit_definition() -> Chapter:
    """f'(x) = lim_{h→0} (f(x+h) − f(x))/h, watched as h shrinks, against the exact derivative."""
    ch = Chapter("The derivative as a limit")
    f, x0 = np.sin, 1.0
    exact = cm.grad(f)(x0)
    ch.say("f(x) = sin x at x = 1. The difference quotient (f(x+h) − f(x))/h approaches f'(1) = cos 1.")
    rows = []
    for k in range(1, 9):
        h = 10.0 ** -k
        quotient = (f(x0 + h) - f(x0)) / h
        rows.append((f"1e-{k}", f"{quotient:.12f}", f"{abs(quotient - exact):.2e}"))
    ch.table("forward difference quotients", ("h", "(f(1+h) − f(1))/h", "error"), rows)
    ch.say("The error falls like h (first order) until rounding, about ε/h, takes over near h = 1e-8.")
    ch.check("autodiff f'(1) = cos 1", exact, np.cos(1.0), 1e-15)
    return ch


def rules() -> Chapter:
    """Power, product, quotient and chain rules, computed by the engine on plain NumPy functions."""
    ch = Chapter("The rules of differentiation, computed")
    x = 1.3
    cases = [
        ("power", "x⁵", lambda x: x ** 5, 5 * x ** 4),
        ("product", "x² sin x", lambda x: x ** 2 * np.sin(x), 2 * x * np.sin(x) + x ** 2 * np.cos(x)),
        ("quotient", "eˣ / (1 + x²)", lambda x: np.exp(x) / (1 + x ** 2),
         (np.exp(x) * (1 + x ** 2) - np.exp(x) * 2 * x) / (1 + x ** 2) ** 2),
        ("chain", "tanh(x³)", lambda x: np.tanh(x ** 3), (1 - np.tanh(x ** 3) ** 2) * 3 * x ** 2),
    ]
    rows = []
    for rule, text, f, by_hand in cases:
        auto = cm.grad(f)(x)
        rows.append((rule, text, f"{auto:.12f}", f"{by_hand:.12f}"))
        ch.check(f"{rule} rule: d/dx {text} at x = {x}", auto, by_hand, 1e-13)
    ch.table(f"derivatives at x = {x}", ("rule", "f(x)", "calcml (autodiff)", "rule by hand"), rows)
    ch.say("Each f is ordinary NumPy code; cm.grad traces it and applies the chain rule backwards.")
    return ch


def gradients() -> Chapter:
    """Partial derivatives, the gradient and a directional derivative of f(x, y) = x²y + 3xy²."""
    ch = Chapter("Partial derivatives and the gradient")
    f = lambda p: p[0] ** 2 * p[1] + 3 * p[0] * p[1] ** 2
    p = np.array([2.0, 3.0])
    g = cm.grad(f)(p)
    ch.say("f(x, y) = x²y + 3xy²:  ∂f/∂x = 2xy + 3y²,  ∂f/∂y = x² + 6xy.")
    ch.say(f"At (2, 3): ∇f = ({g[0]:g}, {g[1]:g}).")
    u = np.array([3.0, 4.0]) / 5.0
    _, directional = cm.jvp(f, (p,), (u,))
    ch.say(f"In the direction u = (3/5, 4/5): D_u f = ∇f·u = {directional:g}  (one forward-mode pass).")
    ch.check("∂f/∂x at (2, 3) = 39", g[0], 39.0)
    ch.check("∂f/∂y at (2, 3) = 40", g[1], 40.0)
    ch.check("D_u f = 39·0.6 + 40·0.8", directional, 39 * 0.6 + 40 * 0.8)
    return ch


def gradient_check() -> Chapter:
    """Autodiff against central finite differences: trust, but verify."""
    ch = Chapter("Checking a gradient")
    x = np.array([0.5, -1.2, 2.0])
    f = lambda x: np.sum(np.tanh(x) ** 2 * np.exp(-x))
    report = cm.check_grad(f, x)
    ch.say("(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h ≈ ∂f/∂xᵢ with error O(h²).")
    rows = [(str(i), f"{a:.12f}", f"{n:.12f}") for i, (a, n) in
            enumerate(zip(report.autodiff[0], report.numeric[0]))]
    ch.table("f(x) = Σ tanh²(xᵢ) e^(−xᵢ)", ("i", "autodiff", "finite differences"), rows)
    ch.say(f"{report}")
    ch.check("largest relative error (must be below 1e-6)", report.max_rel_error, 0.0, 1e-6)
    return ch


def hessian() -> Chapter:
    """The Hessian of Rosenbrock's function at its minimum, by forward-over-reverse."""
    ch = Chapter("Second derivatives: the Hessian")
    rosenbrock = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    H = cm.hessian(rosenbrock)(np.array([1.0, 1.0]))
    eigenvalues = np.linalg.eigvalsh(H)
    ch.say("Rosenbrock f(x, y) = (1 − x)² + 100(y − x²)² at its minimum (1, 1):")
    ch.table("∇²f(1, 1)", ("", "∂/∂x", "∂/∂y"),
             [("∂/∂x", f"{H[0, 0]:g}", f"{H[0, 1]:g}"), ("∂/∂y", f"{H[1, 0]:g}", f"{H[1, 1]:g}")])
    ch.say(f"Eigenvalues {eigenvalues[0]:.4f} and {eigenvalues[1]:.1f}: both positive, so (1, 1) is a "
           f"minimum; their ratio {eigenvalues[1] / eigenvalues[0]:.0f} is why gradient descent crawls here.")
    ch.check("∂²f/∂x² = 1200x² − 400y + 2 = 802", H[0, 0], 802.0)
    ch.check("∂²f/∂x∂y = −400x = −400", H[0, 1], -400.0)
    ch.check("∂²f/∂y² = 200", H[1, 1], 200.0)
    return ch


def gradient_descent() -> Chapter:
    """θ ← θ − η L'(θ) on L(θ) = (θ − 3)²: the error shrinks by |1 − 2η| every step."""
    ch = Chapter("Gradient descent")
    loss = lambda theta: (theta - 3.0) ** 2
    step = cm.grad(loss)
    theta, lr = 0.0, 0.1
    rows = []
    for k in range(41):
        if k % 5 == 0:
            rows.append((str(k), f"{theta:.8f}", f"{loss(theta):.3e}"))
        theta = theta - lr * step(theta)
    ch.table("L(θ) = (θ − 3)², η = 0.1, θ₀ = 0", ("step", "θ", "L(θ)"), rows)
    ch.say("Each step multiplies the error θ − 3 by 1 − 2η = 0.8, so after k steps it is 3·0.8^k.")
    ch.check("θ after 41 steps = 3 − 3·0.8⁴¹", theta, 3 - 3 * 0.8 ** 41, 1e-12)
    return ch
