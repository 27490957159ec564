"""Chapter 4 — The chain rule is backpropagation: one neuron's loss, differentiated node by node.

    python examples/ch04_chain_rule_as_backpropagation.py          # full run
    python examples/ch04_chain_rule_as_backpropagation.py --fast   # CI settings (the same: it is small)

A neuron with weight w and bias b sees x and predicts σ(wx + b); its loss is L = (σ(wx + b) − y)². As a chain:

    z = w·x + b      a = σ(z)      L = (a − y)²
    ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w = 2(a − y) · σ(z)(1 − σ(z)) · x

Backpropagation computes exactly this product, from the output back: each node multiplies the gradient it
receives by its own local derivative and passes it on. ``cm.trace`` records the graph and explains every step.

What to look at: the backward pass printed by ``explain()`` — read it top to bottom, it is the product above
computed one factor at a time — and the graph drawn in chain_rule_as_backpropagation.svg. At w = 0.5, x = 2,
b = −1, y = 1 we get z = 0, a = ½, and ∂L/∂w = 2(−½)(¼)(2) = −½.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm

x, y = 2.0, 1.0


def loss(w, b):
    z = w * x + b
    a = 1 / (1 + np.exp(-z))
    return (a - y) ** 2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The chain rule as backpropagation, traced.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for chain_rule_as_backpropagation.svg")
    args = parser.parse_args(argv)

    w, b = 0.5, -1.0
    print(f"1. L(w, b) = (σ(w·x + b) − y)² at w = {w}, b = {b}, x = {x}, y = {y}: the traced graph")
    graph = cm.trace(loss, w, b)
    print(graph.explain())

    print("\n2. The same gradient as a product of local derivatives, by hand")
    z = w * x + b
    a = 1 / (1 + np.exp(-z))
    dL_da, da_dz, dz_dw, dz_db = 2 * (a - y), a * (1 - a), x, 1.0
    print(f"   z = {z}, a = σ(z) = {a}, L = {(a - y) ** 2}")
    print(f"   ∂L/∂a = 2(a − y) = {dL_da},  ∂a/∂z = σ(z)(1 − σ(z)) = {da_dz},  ∂z/∂w = x = {dz_dw},  ∂z/∂b = 1")
    by_hand = (dL_da * da_dz * dz_dw, dL_da * da_dz * dz_db)
    backprop = cm.grad(loss, argnums=(0, 1))(w, b)
    print(f"   ∂L/∂w = {by_hand[0]} by hand, {float(backprop[0])} by backpropagation")
    print(f"   ∂L/∂b = {by_hand[1]} by hand, {float(backprop[1])} by backpropagation")

    print("\n3. The same derivative symbolically, with the chain rule's steps")
    d = cm.derive("(sigmoid(w*x + b) - y)^2", "w")
    print("   " + d.text().replace("\n", "\n   "))
    print(f"   at the point: {float(d.at(w=w, b=b, x=x, y=y))}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "chain_rule_as_backpropagation.svg"
    cm.viz.graph(graph, path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
