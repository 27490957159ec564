"""Chapter 11 — Gradient descent and its variants: batch, stochastic, mini-batch; momentum, AdaGrad, RMSProp, Adam.

    python examples/11_gradient_descent_and_optimizers.py          # full run
    python examples/11_gradient_descent_and_optimizers.py --fast   # CI settings: shorter races

Batch gradient descent uses the gradient of the whole data set per step, stochastic gradient descent one
sample's, mini-batch a few samples': cheaper, noisier steps that reach the same minimum. The optimizers differ
in what they do with the gradient g:

    gradient descent   θ ← θ − η g
    momentum           v ← μ v + g;  θ ← θ − η v                     (a heavy ball: speeds up along valleys)
    AdaGrad            s ← s + g²;   θ ← θ − η g / (√s + ε)          (per-coordinate steps, shrinking)
    RMSProp            s ← ρ s + (1 − ρ) g²;  θ ← θ − η g / (√s + ε)  (a moving average instead of the sum)
    Adam               momentum and RMSProp together, with bias correction

On a quadratic with Hessian eigenvalues λ, gradient descent multiplies the error along each eigenvector by
1 − ηλ per step. What to look at: that factor measured (0.95 for η = 0.05, λ = 1), and the picture: the
optimizers racing on Rosenbrock's valley from the same start.
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


def contraction_chapter() -> None:
    print("\n2. Gradient descent on f = ½(x² + 20y²): Hessian eigenvalues λ = 1 and 20, η = 0.05")
    run = race("quadratic", ["gd"], start=(-4.5, 1.5), lr=0.05, steps=40).runs[0]
    x = run.path[:, 0]
    print(f"   along y: 1 − ηλ = 1 − 0.05·20 = 0 — y is exactly 0 after one step: y₁ = {run.path[1, 1]}")
    print(f"   along x: GD measured contraction per step: {x[-1] / x[-2]:.10f} (theory 1 − ηλ = 0.95)")
    print(f"   the slow direction sets the pace: {run.steps} steps leave f = {run.final_loss:.3e}")


def race_chapter(steps: int) -> object:
    print(f"\n3. A race on Rosenbrock's valley, {steps} steps from (−1.2, 1)")
    result = race("rosenbrock", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"], start=(-1.2, 1.0),
                  lr={"gd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.1},
                  steps=steps, tolerance=1e-6)
    print(f"   {'optimizer':<14}{'η':>7}{'final f':>12}{'steps to f ≤ 1e-6':>20}  outcome")
    for label, lr, final, reached, outcome in result.rows():
        print(f"   {label:<14}{lr:>7}{final:>12}{reached:>20}  {outcome}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Batch/stochastic/mini-batch descent and optimizers compared.")
    parser.add_argument("--fast", action="store_true", help="fewer epochs and race steps (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for gradient_descent_and_optimizers.png")
    args = parser.parse_args(argv)
    batch_chapter(epochs=20 if args.fast else 100)
    contraction_chapter()
    result = race_chapter(steps=1_000 if args.fast else 5_000)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gradient_descent_and_optimizers.png"
    cm.viz.loss_surface(result, path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
