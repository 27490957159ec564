"""Chapter 10 — Loss functions and their derivatives: MSE, cross-entropy, hinge (and Huber, MAE).

    python examples/ch10_losses_and_their_derivatives.py          # full run
    python examples/ch10_losses_and_their_derivatives.py --fast   # CI settings (the same: it is small)

Training starts from ∂L/∂(prediction): the derivative of the loss is the first factor of every gradient.
Each loss has a short closed form for it:

    MSE             (1/n) Σ (ŷ − y)²                ∂/∂ŷ_i = 2(ŷ_i − y)/n
    cross-entropy   −(1/N) Σ log softmax(z)_(y)     ∂/∂z   = (softmax(z) − onehot(y))/N
    binary CE       softplus(z) − y·z               ∂/∂z   = σ(z) − y
    hinge           max(0, 1 − y·ŷ), y = ±1         ∂/∂ŷ   = −y if y·ŷ < 1, else 0

Here each formula is checked against calcml's backpropagation (cm.grad) on random data.

What to look at: the "max |formula − cm.grad|" column (rounding only), and in the picture how the losses
and their slopes differ — MSE's slope grows with the error, cross-entropy's saturates at −1 for a confident
mistake, hinge's is exactly zero once the margin is met.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.nn import losses


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def formulas_chapter() -> None:
    rng = np.random.default_rng(0)
    n, classes = 8, 4
    y_hat, y = rng.normal(size=n), rng.normal(size=n)
    z, labels = rng.normal(size=(n, classes)), rng.integers(0, classes, n)
    logit, bits = rng.normal(size=n), rng.integers(0, 2, n).astype(float)
    signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    cases = [
        ("MSE", lambda p: losses.mse(p, y), y_hat, 2 * (y_hat - y) / n),
        ("MAE", lambda p: losses.mae(p, y), y_hat, np.sign(y_hat - y) / n),
        ("Huber (δ = 1)", lambda p: losses.huber(p, y), y_hat, np.clip(y_hat - y, -1, 1) / n),
        ("cross-entropy", lambda p: losses.cross_entropy(p, labels), z, (softmax(z) - np.eye(classes)[labels]) / n),
        ("binary CE", lambda p: losses.binary_cross_entropy_with_logits(p, bits), logit, (sigmoid(logit) - bits) / n),
        ("hinge", lambda p: losses.hinge(p, signs), y_hat, np.where(signs * y_hat < 1, -signs, 0.0) / n),
    ]
    print(f"1. Each loss's derivative: the closed form against backpropagation ({n} samples, mean reduction)")
    print(f"   {'loss':<15}{'value':>10}{'max |formula − cm.grad|':>26}")
    for name, loss, point, formula in cases:
        value, gradient = cm.value_and_grad(loss)(point)
        print(f"   {name:<15}{float(value):10.5f}{np.max(np.abs(formula - gradient)):26.1e}")


def worked_example() -> None:
    print("\n2. One sample by hand: logits z = (2, 1, 0), true class 0")
    z = np.array([[2.0, 1.0, 0.0]])
    gradient = cm.grad(lambda z: losses.cross_entropy(z, np.array([0])))(z)[0]
    p = np.exp(z[0]) / np.exp(z[0]).sum()
    print(f"   softmax(z) = {np.round(p, 6)}, loss −log p₀ = {-np.log(p[0]):.6f}")
    print(f"   ∂L/∂z = softmax(z) − e₀ = {np.round(p - [1, 0, 0], 6)}")
    print(f"   cm.grad: ∂CE/∂z₀ = {gradient[0]:.10f}  (closed form e²/(e² + e + 1) − 1 = "
          f"{np.exp(2) / (np.exp(2) + np.e + 1) - 1:.10f})")


def draw(path: Path) -> None:
    # MSE, Huber, logistic and hinge against the error or margin, and their slopes by cm.grad; the hinge
    # slope's jump at m = 1 is drawn as a jump (open circles: one-sided limits, filled: the value cm.grad gives)
    cm.viz.losses(["mse", "huber", "logistic", "hinge"], path=path)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Losses and their derivatives, checked against cm.grad.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for losses_and_their_derivatives.png")
    args = parser.parse_args(argv)
    formulas_chapter()
    worked_example()
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "losses_and_their_derivatives.png")


if __name__ == "__main__":
    main()
