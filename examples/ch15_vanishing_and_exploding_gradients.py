"""Chapter 15 — Activation derivatives, and vanishing or exploding gradients in a 20-layer network.

    python examples/ch15_vanishing_and_exploding_gradients.py          # full run: 30 epochs of training
    python examples/ch15_vanishing_and_exploding_gradients.py --fast   # CI settings: 10 epochs

Backpropagation through L layers multiplies the gradient by each layer's Jacobian, W_kᵀ diag(φ′(z_k)). The
activation's derivative is one factor per layer: σ′(z) = σ(z)(1 − σ(z)) ≤ ¼, tanh′(z) = 1 − tanh²(z) ≤ 1,
ReLU′(z) ∈ {0, 1}. With sigmoids and Xavier weights the gradient shrinks about fourfold per layer, so after
20 layers the first layer's gradient is ~10⁻¹⁰ of the last one's: it does not learn (vanishing). With ReLU
and He initialization the factors average to 1 and the gradient keeps its size; weights too large make
the product grow instead (exploding).

What to look at: ``GradNormMonitor``'s diagnosis of each network, and the picture: ‖∂L/∂W_k‖ per layer on a
log scale — a straight falling line for the sigmoid network (a constant factor per layer), a flat one for ReLU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml import nn

DEPTH, WIDTH = 20, 32


def derivatives_chapter() -> None:
    print("1. The activations' derivatives, by cm.grad on a grid of 10,001 points in [−10, 10]")
    z = np.linspace(-10, 10, 10_001)
    for name, phi in (("sigmoid", nn.sigmoid), ("tanh", np.tanh), ("ReLU", nn.relu)):
        slope = cm.grad(lambda z: np.sum(phi(z)))(z)  # elementwise: ∂Σφ(z_i)/∂z_i = φ′(z_i)
        print(f"   {name:<8} max φ′ = {slope.max():.10f} at z = {z[np.argmax(slope)]:g}; φ′(−5) = {slope[2500]:.2e}")
    print("   σ′ ≤ ¼ everywhere: at best, each sigmoid layer divides the gradient by 4")


def deep_network(activation: str, init: str, seed: int = 0) -> nn.Sequential:
    layers: list = []
    sizes = [64] + [WIDTH] * (DEPTH - 1) + [10]
    rng = np.random.default_rng(seed)
    for k in range(DEPTH):
        layers.append(nn.Linear(sizes[k], sizes[k + 1], init=init, rng=rng))
        if k < DEPTH - 1:
            layers.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    return nn.Sequential(*layers)


def depth_chapter(epochs: int) -> dict:
    print(f"\n2. {DEPTH} layers of width {WIDTH} on the digits: one backward pass, then {epochs} epochs of Adam")
    data = cm.data.digits()
    X = (data.X_train - data.X_train.mean(0)) / (data.X_train.std(0) + 1e-8)
    records = {}
    for activation, init in (("sigmoid", "xavier_uniform"), ("ReLU", "he_uniform")):
        model = deep_network(activation, init)
        monitor = cm.train.GradNormMonitor(warn=False)
        nn.losses.cross_entropy(model(X[:256]), data.y_train[:256]).backward()
        norms = monitor.record(model)
        report = monitor.report()
        print(f"   {activation} ({init}): first/last layer gradient ratio {report.first_to_last:.1e}")
        print("      " + report.message.replace("\n", "\n      "))
        history = cm.train.fit(model, nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-3),
                               (X, data.y_train), epochs=epochs, batch_size=32, progress=False, blas_threads=1)
        print(f"      after {epochs} epochs: training loss {history.loss[-1]:.3f}, "
              f"accuracy {history.accuracy[-1]:.1%}")
        records[activation] = np.array(list(norms.values()))
    quarter = 0.25 ** (DEPTH - 1)
    print(f"   for scale: (¼)^{DEPTH - 1} = {quarter:.1e}, the bound from σ′ alone")
    return records


def draw(path: Path, records: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for activation, norms in records.items():
        ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", label=activation)
    ax.set(title=f"‖∂L/∂θ_k‖ of each layer of a {DEPTH}-layer network, at initialization",
           xlabel="layer k (1 = next to the input)", ylabel="gradient norm")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Activation derivatives and vanishing/exploding gradients.")
    parser.add_argument("--fast", action="store_true", help="10 training epochs instead of 30 (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for vanishing_and_exploding_gradients.png")
    args = parser.parse_args(argv)
    derivatives_chapter()
    records = depth_chapter(epochs=10 if args.fast else 30)
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "vanishing_and_exploding_gradients.png", records)


if __name__ == "__main__":
    main()
