"""Chapter 14 — A two-layer network, traced step by step: forward values, backward gradients, one update.

    python examples/ch14_two_layer_network.py          # full run: 2,000 training steps on XOR
    python examples/ch14_two_layer_network.py --fast   # CI settings: 600 steps

The network ŷ = tanh(x W₁ + b₁) W₂ + b₂ with loss L = (ŷ − y)². Backpropagation, written by hand:

    δ₂ = ∂L/∂ŷ = 2(ŷ − y)            ∂L/∂W₂ = hᵀ δ₂      ∂L/∂b₂ = δ₂
    δ₁ = (δ₂ W₂ᵀ) ⊙ (1 − h²)         ∂L/∂W₁ = xᵀ δ₁      ∂L/∂b₁ = δ₁

``cm.trace`` records the same computation node by node; ``explain()`` prints each node's forward value and
the chain-rule step that sends the gradient back through it. Then one gradient step lowers the loss by
η‖∇L‖² to first order, and many steps teach the network XOR — which no network without a hidden layer can learn.

What to look at: the backward pass, one line per node, ending in the same numbers as the hand formulas; and
the picture: XOR's decision regions and the training loss.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm


def forward(x, W1, b1, W2, b2):
    h = np.tanh(x @ W1 + b1)
    return h @ W2 + b2


def loss(W1, b1, W2, b2, x, y):
    return np.mean((forward(x, W1, b1, W2, b2) - y) ** 2)


def traced_chapter() -> None:
    x, y = np.array([[0.5, -1.0]]), np.array([[0.8]])
    W1 = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]])
    b1 = np.array([0.05, -0.05, 0.1])
    W2 = np.array([[0.7], [-0.6], [0.2]])
    b2 = np.array([0.1])
    print("1. x = (0.5, −1), y = 0.8, three hidden tanh units: the traced graph")
    graph = cm.trace(lambda W1, b1, W2, b2: loss(W1, b1, W2, b2, x, y), W1, b1, W2, b2)
    print(graph.explain())

    print("\n2. The same gradients by the hand formulas")
    h = np.tanh(x @ W1 + b1)
    delta2 = 2 * (h @ W2 + b2 - y)
    delta1 = (delta2 @ W2.T) * (1 - h**2)
    hand = {"W1": x.T @ delta1, "b1": delta1[0], "W2": h.T @ delta2, "b2": delta2[0]}
    traced = dict(zip(hand, (node.grad for node in graph.inputs)))
    for name in hand:
        print(f"   ∂L/∂{name} = {np.array2string(hand[name].ravel(), precision=6)}")
    worst = max(np.max(np.abs(hand[k] - traced[k])) for k in hand)
    print(f"   max |backprop − by hand| = {worst:.1e}")

    eta = 1e-3
    params = (W1, b1, W2, b2)
    before = loss(*params, x, y)
    after = loss(*(p - eta * hand[k] for p, k in zip(params, hand)), x, y)
    drop = eta * sum(np.sum(g**2) for g in hand.values())
    print(f"\n3. One gradient step, η = {eta}: L {before:.10f} → {after:.10f}; "
          f"decrease {before - after:.3e}, first-order prediction η‖∇L‖² = {drop:.3e}")


def xor_chapter(steps: int) -> tuple:
    print(f"\n4. Learning XOR with 4 hidden units ({steps} steps of gradient descent, η = 0.1)")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[-1.0], [1.0], [1.0], [-1.0]])
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(2, 4)), np.zeros(4), rng.normal(size=(4, 1)) * 0.5, np.zeros(1)]
    step = cm.value_and_grad(lambda *p: loss(*p, X, Y), argnums=(0, 1, 2, 3))
    history = []
    for _ in range(steps):
        value, grads = step(*params)
        params = [p - 0.1 * g for p, g in zip(params, grads)]
        history.append(float(value))
    predictions = forward(X, *params).ravel()
    print(f"   loss {history[0]:.4f} → {history[-1]:.2e}; predictions {np.round(predictions, 3)} "
          f"for targets {Y.ravel()}")
    return params, np.array(history)


def draw(path: Path, params: list, history: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.5))
    gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 200), np.linspace(-0.5, 1.5, 200))
    z = forward(np.column_stack([gx.ravel(), gy.ravel()]), *params).reshape(gx.shape)
    image = ax.contourf(gx, gy, z, levels=20, cmap="coolwarm")
    ax.contour(gx, gy, z, levels=[0], colors="k")
    ax.scatter([0, 1], [0, 1], c="b", s=80, edgecolors="k", label="y = −1")
    ax.scatter([0, 1], [1, 0], c="r", s=80, edgecolors="k", label="y = +1")
    fig.colorbar(image, ax=ax, label="ŷ")
    ax.set(title="XOR: the network's output and its zero line", xlabel="x₁", ylabel="x₂")
    ax.legend(loc="upper center", fontsize=8)
    bx.semilogy(history)
    bx.set(title="training loss", xlabel="gradient-descent step", ylabel="mean squared error")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A two-layer network traced step by step, then trained on XOR.")
    parser.add_argument("--fast", action="store_true", help="600 training steps instead of 2,000")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for two_layer_network.png")
    args = parser.parse_args(argv)
    traced_chapter()
    params, history = xor_chapter(steps=600 if args.fast else 2000)
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "two_layer_network.png", params, history)


if __name__ == "__main__":
    main()
