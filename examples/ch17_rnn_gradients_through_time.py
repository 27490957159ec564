"""Chapter 17 — Gradients through time in an RNN: vanishing, exploding, and gradient clipping.

    python examples/ch17_rnn_gradients_through_time.py            # full run (a few seconds)
    python examples/ch17_rnn_gradients_through_time.py --fast     # CI settings: shorter training

An RNN h_t = tanh(x_t W_ih + h_{t−1} W_hh + b) reads a noisy sine. Backpropagation through time sends the
gradient of the last step's loss back one step at a time,

    ∂L/∂h_{t−1} = (∂L/∂h_t ⊙ tanh'(a_t)) W_hhᵀ,

so its norm is multiplied by about ρ·tanh' per step, ρ the spectral radius of W_hh (here W_hh = ρ·Q with Q
orthogonal, so every singular value is ρ as well). We measure ‖∂L/∂h_t‖ for several ρ, then train with SGD
from a recurrent matrix with ρ = 2.5, with and without clipping the gradient norm.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from calcml import viz
from calcml.apps import rnn_dynamics


def through_time_chapter():
    print("1. ‖∂L/∂h_t‖ over 50 steps, L the squared error of the last prediction")
    # tiny inputs keep the tanh in its linear range (tanh' ≈ 1): each step back multiplies by exactly ρ
    linear = rnn_dynamics.through_time_study(radii=(0.8, 0.9, 1.0, 1.1, 1.2), scale=1e-6)
    # inputs of size 1 saturate the tanh (tanh' < 1): the factor per step falls below ρ
    saturated = rnn_dynamics.through_time_study(radii=(0.9, 1.5, 2.5, 3.0), scale=1.0)
    print(f"   {'ρ':>5} {'rate, linear range':>20} {'‖∂L/∂h_1‖/‖∂L/∂h_50‖':>24}")
    for study in linear:
        print(f"   {study.radius:5.2f} {study.rate:20.6f} {study.norms[0] / study.norms[-1]:24.3e}")
    print(f"   {'ρ':>5} {'rate, inputs of size 1':>24} {'‖∂L/∂h_1‖/‖∂L/∂h_50‖':>22}")
    for study in saturated:
        print(f"   {study.radius:5.2f} {study.rate:24.4f} {study.norms[0] / study.norms[-1]:22.3e}")
    print("   below 1 the gradient vanishes geometrically, above 1 it explodes; saturation slows both down")
    return linear, saturated


def clipping_chapter(steps: int):
    print(f"\n2. Next-value prediction with full-batch SGD (lr 0.1, {steps} steps), clipping ‖∇θ‖ to 5")
    runs = [rnn_dynamics.train_next_value(0.9, steps=steps),
            rnn_dynamics.train_next_value(2.5, steps=steps),
            rnn_dynamics.train_next_value(2.5, max_norm=5.0, steps=steps)]
    for run in runs:
        print(f"   {run}")
    # an update is lr·‖∇θ‖ long: with ‖∇θ‖ in the thousands one step throws the weights far away. Clipping
    # rescales ∇θ to norm ≤ 5 (same direction), so no step is longer than lr·5 = 0.5.
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="RNN gradient norms through time, and gradient clipping.")
    parser.add_argument("--fast", action="store_true", help="60 training steps instead of 200 (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for rnn_gradients_through_time.png")
    args = parser.parse_args(argv)
    linear, saturated = through_time_chapter()
    runs = clipping_chapter(steps=60 if args.fast else 200)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "rnn_gradients_through_time.png"
    viz.rnn_gradients(linear, saturated, runs, path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
