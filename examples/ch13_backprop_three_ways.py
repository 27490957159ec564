"""Chapter 13 — Backpropagation in matrix form, three ways (by hand, calcml, PyTorch), one network.

    python examples/ch13_backprop_three_ways.py            # full run
    python examples/ch13_backprop_three_ways.py --fast     # CI settings (the same: it is small)

The network: Z₁ = X W₁ + b₁, A₁ = tanh(Z₁), Z₂ = A₁ W₂ + b₂, and the mean softmax cross-entropy of Z₂.
By hand, the chain rule in matrix form gives one line per gradient:

    ∂L/∂Z₂ = (softmax(Z₂) − Y)/N      ∂L/∂W₂ = A₁ᵀ ∂L/∂Z₂      ∂L/∂b₂ = Σ_rows ∂L/∂Z₂
    ∂L/∂Z₁ = (∂L/∂Z₂ W₂ᵀ) ⊙ (1 − A₁²)  ∂L/∂W₁ = Xᵀ ∂L/∂Z₁       ∂L/∂b₁ = Σ_rows ∂L/∂Z₁

calcml gets the same numbers from the forward pass written in plain NumPy (cm.grad traces it), and PyTorch
from the same network written with torch tensors (loss.backward()). In float64 all three agree to the last
few bits: the differences printed are rounding, ~1e-17.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import calcml as cm
from calcml.apps import backprop_three_ways as bp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Backpropagation by hand, by calcml and by PyTorch.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for backprop_three_ways.png")
    args = parser.parse_args(argv)

    params = bp.init_params(inputs=4, hidden=5, classes=3, seed=0)
    X, y = bp.toy_batch(n=8, inputs=4, classes=3, seed=1)
    if not bp.torch_available():
        print("PyTorch is not installed: comparing two ways (pip install torch for the third)")
    result = bp.three_ways(params, X, y)
    print(result)

    # calcml can also show its work: the graph of the loss as a function of W₂ alone, every node's forward
    # value and the chain-rule step that sends the gradient back through it. Spot the hand formulas in it:
    # v2 is Z₂ − b₂ = A₁W₂, its gradient ∂L/∂v2 is (P − Y)/N, and the last step is ∂L/∂W₂ = A₁ᵀ ∂L/∂Z₂.
    graph = cm.trace(lambda W2: bp.loss(params["W1"], params["b1"], W2, params["b2"], X, y), params["W2"])
    print("\ncalcml's graph of L(W₂) (the other weights held constant):")
    print(graph.explain())

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "backprop_three_ways.png"
    cm.viz.backprop_three_ways(result, path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
