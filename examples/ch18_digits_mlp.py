"""Chapter 18 — Digit classification with a multilayer perceptron: the whole pipeline on real data.

    python examples/ch18_digits_mlp.py          # full run: 30 epochs (≥ 97% test accuracy, a few seconds)
    python examples/ch18_digits_mlp.py --fast   # CI settings: 10 epochs

The 1,797 handwritten digits (8×8 images) that ship with calcml are split into training and test images.
The network is calcml's MLP recipe: standardize the 64 pixels, a hidden layer of 512 ReLU units, 10 logits;
the loss is the softmax cross-entropy, whose gradient with respect to the logits is (softmax(z) − onehot)/N
(chapter 10: examples/ch10_losses_and_their_derivatives.py); Adam takes the steps, with a cosine learning-rate
schedule. Every gradient is calcml's backpropagation through plain NumPy operations.

What to look at: the test accuracy (images the network never saw during training), the digits it still gets
wrong, and the picture: loss and accuracy per epoch on the training images (solid) and on the test images
(dashed; the recipe evaluates the test split after every epoch), and the confusion matrix.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.train.recipes import train_classifier


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An MLP on the embedded handwritten digits.")
    parser.add_argument("--fast", action="store_true", help="10 epochs instead of 30 (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for digits_mlp.png")
    args = parser.parse_args(argv)

    data = cm.data.digits()  # shipped with calcml: no download
    print(f"{data.name}: {len(data.X_train)} training and {len(data.X_test)} test images of {data.image_shape}")
    epochs = 10 if args.fast else 30
    trained = train_classifier(data, "mlp", "adam", epochs=epochs, seed=0)
    print(trained.model)
    print(f"training: {trained.history.summary()} ({trained.seconds:.1f} s)")
    print(f"digits MLP: test accuracy {trained.test.accuracy:.2%} after {epochs} epochs ({trained.test})")

    with cm.no_grad():
        predicted = np.asarray(trained.model(data.X_test)).argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (data.y_test, predicted), 1)
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("      " + " ".join(f"{d:3d}" for d in range(10)))
    for d in range(10):
        print(f"   {d}: " + " ".join(f"{n:3d}" for n in confusion[d]))
    wrong = np.flatnonzero(predicted != data.y_test)
    print(f"{len(wrong)} of {len(data.y_test)} test images misread, e.g. "
          + ", ".join(f"{data.y_test[i]}→{predicted[i]}" for i in wrong[:6]))

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "digits_mlp.png"
    cm.viz.classifier(trained.history, data.y_test, predicted, path=path)  # curves and confusion matrix
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
