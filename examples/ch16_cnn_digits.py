"""Chapter 16 — A CNN on the digits: the filters it learns and the gradients that taught them.

    python examples/ch16_cnn_digits.py            # full run: 30 epochs (≥ 97% test accuracy, a few seconds)
    python examples/ch16_cnn_digits.py --fast     # CI settings: 1 epoch

The network is calcml's digits recipe: a 3×3 convolution with 32 filters, ReLU, 2×2 max-pooling, a hidden
layer of 128 and 10 logits. The first layer's filters are 3×3 stencils slid over the 8×8 images; the gradient
of the loss with respect to a filter is the images correlated with the gradient at that filter's output map
(see examples/ch16_convolution_as_integral.py). We measure that gradient twice — by the engine's backward pass
through the whole network and by the correlation sum — before and after training, and draw it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import calcml as cm
from calcml.apps import cnn_digits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A CNN on the digits, with its filters and their gradients.")
    parser.add_argument("--fast", action="store_true", help="1 epoch instead of 30 (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for cnn_digits.png")
    args = parser.parse_args(argv)

    data = cm.data.digits()  # 1,797 images of 8×8, shipped with calcml
    print(f"{data.name}: {len(data.X_train)} training and {len(data.X_test)} test images of {data.image_shape}")
    study = cnn_digits.study(data, epochs=1 if args.fast else 30, seed=0)
    print(study.trained.model)
    print(study)
    # Reading the numbers (30 epochs, seed 0): training shrinks ‖∂L/∂w‖ from 0.73 to 0.002 — the training
    # loss is near a minimum — while the filters move by ‖Δw‖ ≈ 0.86 against ‖w‖ ≈ 8.4, about 10%: the
    # learned stencils still look like their random start in the picture. On 8×8 images a random first
    # layer is already a usable set of features; training adjusts it, and the gradients show where.
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "cnn_digits.png"
    cm.viz.cnn_filters(study.panels(), path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
