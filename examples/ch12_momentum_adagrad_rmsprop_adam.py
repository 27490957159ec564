"""Chapter 12 — Momentum, AdaGrad, RMSProp and Adam: what each optimizer does with the gradient.

    python examples/ch12_momentum_adagrad_rmsprop_adam.py          # full run
    python examples/ch12_momentum_adagrad_rmsprop_adam.py --fast   # CI settings: a shorter race

The optimizers differ in what they do with the gradient g:

    gradient descent   θ ← θ − η g
    momentum           v ← μ v + g;  θ ← θ − η v                     (a heavy ball: speeds up along valleys)
    AdaGrad            s ← s + g²;   θ ← θ − η g / (√s + ε)          (per-coordinate steps, shrinking)
    RMSProp            s ← ρ s + (1 − ρ) g²;  θ ← θ − η g / (√s + ε)  (a moving average instead of the sum)
    Adam               momentum and RMSProp together, with bias correction

What to look at: the first step of AdaGrad and Adam moves every coordinate by η, whatever the gradient's scale
(g/√(g²) = ±1) — gradient descent's step is η·g; and the picture: the optimizers racing on Rosenbrock's valley
from the same start.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.optim.race import race


def first_step_chapter(lr: float = 0.01) -> None:
    print(f"1. One step of each optimizer from θ = (1, 1) on L = 1000θ₁² + 0.001θ₂², η = {lr}")
    print("   the gradient is (2000, 0.002): its two coordinates differ by a factor of 10⁶")
    loss = lambda theta: 1000.0 * theta[0] ** 2 + 0.001 * theta[1] ** 2
    makers = {"SGD": cm.optim.SGD, "momentum": lambda p, lr: cm.optim.SGD(p, lr=lr, momentum=0.9),
              "AdaGrad": cm.optim.Adagrad, "RMSProp": cm.optim.RMSprop, "Adam": cm.optim.Adam}
    for name, make in makers.items():
        theta = cm.Tensor(np.ones(2), requires_grad=True)
        optimizer = make([theta], lr=lr)
        loss(theta).backward()
        optimizer.step()
        step = np.ones(2) - theta.value
        print(f"   {name:<9} step Δθ = ({step[0]:.6g}, {step[1]:.6g})")
        if name == "Adam":
            print(f"   Adam's first step per coordinate: |Δθ₂| = {abs(step[1]):.10f} "
                  "(= η: bias correction makes m̂/√v̂ = ±1)")
    print("   RMSProp has no bias correction: its first step is η/√(1 − ρ) = 10η for ρ = 0.99")
    print("   AdaGrad and Adam rescale each coordinate by its own gradient size; SGD's steps differ by 10⁶")


def race_chapter(steps: int) -> object:
    print(f"\n2. A race on Rosenbrock's valley, {steps} steps from (−1.2, 1)")
    result = race("rosenbrock", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"], start=(-1.2, 1.0),
                  lr={"gd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.1},
                  steps=steps, tolerance=1e-6)
    print(f"   {'optimizer':<14}{'η':>7}{'final f':>12}{'steps to f ≤ 1e-6':>20}  outcome")
    for label, lr, final, reached, outcome in result.rows():
        print(f"   {label:<14}{lr:>7}{final:>12}{reached:>20}  {outcome}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Momentum, AdaGrad, RMSProp and Adam compared.")
    parser.add_argument("--fast", action="store_true", help="a shorter race (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for momentum_adagrad_rmsprop_adam.png")
    args = parser.parse_args(argv)
    first_step_chapter()
    result = race_chapter(steps=1_000 if args.fast else 5_000)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "momentum_adagrad_rmsprop_adam.png"
    cm.viz.loss_surface(result, path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
