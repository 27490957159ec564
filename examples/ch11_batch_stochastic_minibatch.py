"""Chapter 11 — Gradient descent: batch, stochastic and mini-batch, and the 1 − ηλ contraction.

    python examples/ch11_batch_stochastic_minibatch.py          # full run
    python examples/ch11_batch_stochastic_minibatch.py --fast   # CI settings: fewer epochs

Batch gradient descent uses the gradient of the whole data set per step, stochastic gradient descent one
sample's, mini-batch a few samples': cheaper, noisier steps that reach the same minimum.

    gradient descent   θ ← θ − η g

On a quadratic with Hessian eigenvalues λ, gradient descent multiplies the error along each eigenvector by
1 − ηλ per step. What to look at: that factor measured (0.95 for η = 0.05, λ = 1), and the picture: the path
of gradient descent on ½(x² + 20y²) — one step kills y, then it crawls along x. (Momentum, AdaGrad, RMSProp and
Adam: examples/ch12_momentum_adagrad_rmsprop_adam.py.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.optim.race import race


def batch_chapter(epochs: int) -> None:
    print("1. Linear regression three ways; the normal equations XᵀX w = Xᵀy give the exact minimizer")
    sample = cm.data.linear_regression(n=256, n_features=3, noise=0.1, seed=0)
    design = np.column_stack([sample.X, np.ones(len(sample.X))])
    exact = np.linalg.lstsq(design, sample.y, rcond=None)[0]
    print(f"   {'':<22}{'batch size':>11}{'updates':>9}{'final loss':>12}{'‖w − w*‖':>11}")
    for name, batch_size, lr in (("batch GD", None, 0.1), ("mini-batch SGD", 16, 0.05), ("stochastic GD", 1, 0.01)):
        model = cm.nn.Linear(3, 1, rng=0, dtype=np.float64)
        history = cm.train.fit(model, cm.nn.losses.mse, cm.optim.SGD(model.parameters(), lr=lr),
                               (sample.X, sample.y[:, None]), epochs=epochs, batch_size=batch_size, progress=False)
        w = np.append(model.weight.value[:, 0], model.bias.value[0])
        updates = epochs * (1 if batch_size is None else -(-len(sample.X) // batch_size))
        print(f"   {name:<22}{str(batch_size or len(sample.X)):>11}{updates:>9}{history.loss[-1]:12.5f}"
              f"{np.linalg.norm(w - exact):11.2e}")
    print("   SGD's last steps still jitter around w* (noise ∝ η): decay η, or average, to settle")


def contraction_chapter() -> object:
    print("\n2. Gradient descent on f = ½(x² + 20y²): Hessian eigenvalues λ = 1 and 20, η = 0.05")
    run = race("quadratic", ["gd"], start=(-4.5, 1.5), lr=0.05, steps=40).runs[0]
    x = run.path[:, 0]
    print(f"   along y: 1 − ηλ = 1 − 0.05·20 = 0 — y is exactly 0 after one step: y₁ = {run.path[1, 1]}")
    print(f"   along x: GD measured contraction per step: {x[-1] / x[-2]:.10f} (theory 1 − ηλ = 0.95)")
    print(f"   the slow direction sets the pace: {run.steps} steps leave f = {run.final_loss:.3e}")
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Batch, stochastic and mini-batch gradient descent.")
    parser.add_argument("--fast", action="store_true", help="fewer epochs (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for batch_stochastic_minibatch.png")
    args = parser.parse_args(argv)
    batch_chapter(epochs=20 if args.fast else 100)
    contraction_chapter()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "batch_stochastic_minibatch.png"
    cm.viz.loss_surface(race("quadratic", ["gd"], start=(-4.5, 1.5), lr=0.05, steps=40), path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
