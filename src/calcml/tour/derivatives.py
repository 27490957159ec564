"""The book's chapters 1–4: limits and continuity (of activations), derivative rules, partial derivatives and
gradients, and the chain rule as backpropagation — each made of sections checked against closed forms."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml.tour.chapter import Chapter


def limits_and_continuity() -> Chapter:
    """Chapter 1: the derivative as a limit, and the limits that make activations continuous or not."""
    ch = Chapter("Limits and continuity")
    ch.say("A limit is what a function approaches; a derivative is the limit of difference quotients. Both decide "
           "which activation functions gradient descent can use.")
    ch.include(limit_definition())
    ch.include(activation_limits())
    return ch


def activation_limits() -> Chapter:
    """One-sided difference quotients at 0 of the step, ReLU and the sigmoid: a jump, a kink and a smooth curve."""
    ch = Chapter("Limits of activations: a jump, a kink, a smooth curve")
    step = lambda z: np.where(z >= 0, 1.0, 0.0)
    relu = lambda z: np.maximum(z, 0.0)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    rows = []
    for name, f in (("step", step), ("ReLU", relu), ("sigmoid", sigmoid)):
        h = 1e-6
        left, right = (f(0.0) - f(-h)) / h, (f(h) - f(0.0)) / h
        rows.append((name, f"{f(-h):.6f}", f"{f(h):.6f}", f"{left:.6g}", f"{right:.6g}"))
    ch.table("at z = 0, h = 1e-6", ("activation", "f(−h)", "f(h)", "left quotient", "right quotient"), rows)
    ch.say("The step jumps (not continuous: its quotients blow up like 1/h); ReLU is continuous with a kink "
           "(left slope 0, right slope 1: not differentiable at 0, calcml uses the subgradient 0); the sigmoid is "
           "smooth, σ'(0) = σ(0)(1 − σ(0)) = ¼.")
    h = 1e-5
    ch.check("σ'(0) by the central quotient (σ(h) − σ(−h))/2h = ¼", (sigmoid(h) - sigmoid(-h)) / (2 * h), 0.25, 1e-9)
    ch.check("ReLU's right slope at 0 is 1", (relu(h) - relu(0.0)) / h, 1.0, 0.0)
    ch.check("ReLU's left slope at 0 is 0", (relu(0.0) - relu(-h)) / h, 0.0, 0.0)
    ch.check("cm.grad(ReLU)(0) = 0 (the subgradient convention)", cm.grad(lambda z: np.maximum(z, 0.0))(0.0), 0.0, 0.0)
    return ch


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


def derivative_rules() -> Chapter:
    """Chapter 2: the power, product, quotient and chain rules, computed, and a derivative with its steps."""
    ch = Chapter("Derivative rules")
    ch.say("Four rules differentiate every formula built from elementary functions; calcml applies them "
           "symbolically (with their steps) and automatically (on NumPy code), and the two agree.")
    ch.include(rules())
    ch.include(derivative_steps())
    return ch


def derivative_steps() -> Chapter:
    """cm.derive's steps for d/dx sin(x²), its result evaluated at x = 1 against cm.grad and the closed form."""
    ch = Chapter("A derivative with its steps")
    d = cm.derive("sin(x^2)", "x")
    ch.say(f"d/dx sin(x²) = {d.result}: the chain rule, then the sine and power rules.")
    ch.lines.extend("  " + line for line in d.text().splitlines() if line.strip())
    (x,) = d.result.free_symbols
    symbolic = float(d.result.subs(x, 1.0))
    ch.check("symbolic d/dx sin(x²) at 1 = 2 cos 1", symbolic, 2 * np.cos(1.0), 1e-14)
    ch.check("cm.grad of np.sin(x**2) at 1 = 2 cos 1", cm.grad(lambda x: np.sin(x ** 2))(1.0), 2 * np.cos(1.0), 1e-14)
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


def partial_derivatives() -> Chapter:
    """Chapter 3: partial derivatives, the gradient, a directional derivative, and checking a gradient."""
    ch = Chapter("Partial derivatives, gradients and directional derivatives")
    ch.say("A function of many inputs has a partial derivative in each; together they form the gradient, which "
           "points uphill, and every directional derivative is its dot product with the direction.")
    ch.include(gradients())
    ch.include(gradient_check())
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


def chain_rule() -> Chapter:
    """Chapter 4: the chain rule, applied node by node backwards through a neuron's graph, is backpropagation."""
    ch = Chapter("The chain rule as backpropagation")
    ch.say("Backpropagation is the chain rule applied from the loss backwards: each node multiplies the gradient "
           "arriving from above by its own local derivative.")
    ch.include(one_neuron())
    return ch


def neuron_loss(w, b, x: float = 2.0, y: float = 1.0):
    """L(w, b) = (σ(wx + b) − y)² for one sigmoid neuron and one example."""
    return (1 / (1 + np.exp(-(w * x + b))) - y) ** 2


def one_neuron() -> Chapter:
    """One sigmoid neuron's loss, traced: every node's value and gradient, against the product of local
    derivatives written by hand."""
    ch = Chapter("One neuron, node by node")
    w, b, x = 0.5, -1.0, 2.0
    graph = cm.trace(neuron_loss, w, b)
    ch.say("L = (σ(wx + b) − y)² with x = 2, y = 1, w = ½, b = −1: z = 0, a = σ(0) = ½.")
    ch.say("The traced graph — forward values, then the chain rule at every node:")
    ch.lines.extend(line for line in graph.explain().splitlines() if line.strip())
    dw, db = (float(node.grad) for node in graph.inputs)
    a = 0.5
    ch.say("By hand: ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w = 2(a − y) · a(1 − a) · x.")
    ch.check("∂L/∂w = 2(½ − 1)(¼)(2) = −½", dw, 2 * (a - 1) * a * (1 - a) * x, 1e-15)
    ch.check("∂L/∂b = 2(½ − 1)(¼) = −¼", db, 2 * (a - 1) * a * (1 - a), 1e-15)
    return ch
