"""The book's chapters 13–15: backpropagation in matrix form, a two-layer network traced step by step, and
activation derivatives with vanishing and exploding gradients — each made of sections checked against closed
forms."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import nn
from calcml.apps import backprop_three_ways
from calcml.tour.chapter import Chapter


def matrix_backpropagation() -> Chapter:
    """Chapter 13: the backward pass of a layer is a pair of matrix products."""
    ch = Chapter("Backpropagation in matrix form")
    ch.say("For a layer Z = XW + b, the backward pass is two matrix products: ∂L/∂W = Xᵀ δ and ∂L/∂X = δ Wᵀ, with "
           "δ = ∂L/∂Z summed over the batch for b. A network's gradient is these products, layer by layer.")
    ch.include(backprop_by_hand())
    return ch


def backprop_by_hand() -> Chapter:
    """A 4–5–3 tanh network with softmax cross-entropy on a batch of 8: the δ-rule matrix products by hand against
    calcml's gradients."""
    ch = Chapter("By hand and by the engine")
    params = backprop_three_ways.init_params()
    X, y = backprop_three_ways.toy_batch()
    result = backprop_three_ways.three_ways(params, X, y, use_torch=False)
    ch.say("δ₂ = (softmax(Z₂) − Y)/n, ∂L/∂W₂ = A₁ᵀδ₂, δ₁ = δ₂W₂ᵀ ⊙ (1 − A₁²), ∂L/∂W₁ = Xᵀδ₁ — written in NumPy, "
           "against cm.grad of the same loss.")
    rows = []
    for name in params:
        hand, engine = result.grads["by hand"][name], result.grads["calcml"][name]
        rows.append((f"∂L/∂{name}", str(np.shape(hand)), f"{np.max(np.abs(hand - engine)):.1e}"))
        ch.check(f"∂L/∂{name}: matrix form by hand = cm.grad", np.max(np.abs(hand - engine)), 0.0, 1e-12)
    ch.table("largest difference, by hand vs calcml", ("gradient", "shape", "max |difference|"), rows)
    return ch


def two_layer_chapter() -> Chapter:
    """Chapter 14: a two-layer network, every node's value and gradient, and one gradient step."""
    ch = Chapter("A 2-layer network traced step by step")
    ch.say("Follow one example through a network with three tanh units: the forward values of every node, then the "
           "gradients flowing back, then the step they take.")
    ch.include(two_layer_network())
    return ch


def two_layer_network() -> Chapter:
    """Backpropagation through ŷ = W₂ᵀ tanh(W₁ᵀx + b₁) with L = (ŷ − y)², node by node, against the
    chain rule written out by hand; then one gradient step, against the first-order prediction."""
    ch = Chapter("A two-layer network, traced step by step")
    x, y = np.array([[0.5, -1.0]]), np.array([[0.8]])
    W1 = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]])
    b1 = np.array([0.05, -0.05, 0.1])
    W2 = np.array([[0.7], [-0.6], [0.2]])

    def loss(W1, b1, W2):
        h = np.tanh(x @ W1 + b1)
        return np.sum((h @ W2 - y) ** 2)

    ch.say("x = (0.5, −1), target y = 0.8; h = tanh(x W₁ + b₁) has 3 units; ŷ = h W₂; L = (ŷ − y)².")
    if hasattr(cm, "trace"):
        graph = cm.trace(loss, W1, b1, W2)
        ch.say("The traced graph — forward values, then the chain rule at every node:")
        ch.lines.extend(line for line in graph.explain().splitlines() if line.strip())
        g_W1, g_b1, g_W2 = (node.grad for node in graph.inputs)
    else:
        g_W1, g_b1, g_W2 = cm.grad(loss, argnums=(0, 1, 2))(W1, b1, W2)
    # the same gradients by hand: δ₂ = ∂L/∂ŷ, δ₁ = ∂L/∂(pre-activation)
    h = np.tanh(x @ W1 + b1)
    delta2 = 2 * (h @ W2 - y)
    delta1 = (delta2 @ W2.T) * (1 - h ** 2)
    by_hand = {"W₂": (g_W2, h.T @ delta2), "b₁": (g_b1, delta1[0]), "W₁": (g_W1, x.T @ delta1)}
    rows = []
    for name, (auto, hand) in by_hand.items():
        rows.append((f"∂L/∂{name}", *(np.array2string(g.ravel(), precision=6) for g in (auto, hand))))
        ch.check(f"backpropagated ∂L/∂{name} = hand-derived chain rule", np.max(np.abs(auto - hand)), 0.0, 1e-14)
    ch.table("gradients", ("", "calcml (backpropagation)", "by hand: δ₂ = 2(ŷ − y), δ₁ = δ₂W₂ᵀ ⊙ (1 − h²)"), rows)
    eta = 1e-3
    before = loss(W1, b1, W2)
    after = loss(W1 - eta * g_W1, b1 - eta * g_b1, W2 - eta * g_W2)
    squared_norm = sum(np.sum(g ** 2) for g in (g_W1, g_b1, g_W2))
    ch.say(f"One gradient step with η = {eta}: L goes from {before:.10f} to {after:.10f}; to first order it drops by "
           f"η‖∇L‖² = {eta * squared_norm:.10f}.")
    ch.check("L(θ − η∇L) = L(θ) − η‖∇L‖² + O(η²)", after, before - eta * squared_norm, 50 * eta ** 2 * squared_norm)
    return ch


def activations() -> Chapter:
    """Chapter 15: the derivatives of the activations, and why deep stacks of them shrink or grow gradients."""
    ch = Chapter("Activation derivatives, vanishing and exploding gradients")
    ch.say("Backpropagation multiplies one activation derivative per layer. σ′ ≤ ¼, so through sigmoids the gradient "
           "shrinks at least 4× per layer; tanh′ ≤ 1 and ReLU′ ∈ {0, 1} keep it, and weights larger than 1 make it "
           "explode.")
    ch.include(activation_derivatives())
    ch.include(deep_sigmoid_chain())
    return ch


def activation_derivatives() -> Chapter:
    """max σ′, tanh′ and ReLU′ on a grid, by cm.grad, against their closed forms."""
    ch = Chapter("The activations' derivatives")
    z = np.linspace(-6.0, 6.0, 1201)
    rows = []
    for name, phi, bound in (("sigmoid", nn.sigmoid, 0.25), ("tanh", np.tanh, 1.0), ("ReLU", nn.relu, 1.0)):
        slope = cm.grad(lambda z: np.sum(phi(z)))(z)
        rows.append((name, f"{slope.max():.12f}", f"{z[np.argmax(slope)]:g}", f"{slope[100]:.3e}"))
        ch.check(f"max {name}′ = {bound:g}", slope.max(), bound, 1e-12)
    ch.table("derivatives on [−6, 6] (cm.grad, elementwise)", ("activation", "max φ′", "at z", "φ′(−5)"), rows)
    sig = nn.sigmoid(z)
    ch.check("σ′(z) = σ(z)(1 − σ(z)) on the grid", np.max(np.abs(cm.grad(lambda z: np.sum(nn.sigmoid(z)))(z)
                                                                  - sig * (1 - sig))), 0.0, 1e-15)
    return ch


def deep_sigmoid_chain(depth: int = 20) -> Chapter:
    """d/dx of 20 nested sigmoids is the product of 20 derivatives σ′(z_k) ≤ ¼: at most 4⁻²⁰."""
    ch = Chapter("Twenty sigmoids deep")
    f = lambda x: _nested(nn.sigmoid, x, depth)
    x = 0.3
    derivative = cm.grad(f)(x)
    zs, product = [x], 1.0
    for _ in range(depth):
        s = 1 / (1 + np.exp(-zs[-1]))
        product *= s * (1 - s)
        zs.append(s)
    ch.say(f"f = σ∘σ∘…∘σ ({depth} times) at x = {x}: f′ = Πσ′(z_k) = {derivative:.6e}, below the bound "
           f"4⁻²⁰ = {0.25 ** depth:.3e} — the vanishing gradient in its simplest form.")
    ch.check("cm.grad of 20 nested sigmoids = the product of their derivatives", derivative / product, 1.0, 1e-12)
    ch.check("f′ ≤ 4⁻²⁰", min(derivative, 0.25 ** depth), derivative, 0.0)
    return ch


def _nested(phi, x, depth: int):
    """φ applied ``depth`` times to x."""
    for _ in range(depth):
        x = phi(x)
    return x
