"""Chapter 18 — Digit classification on real MNIST: a small CNN trained by calcml's engine, aiming at ≥ 99%.

This example needs the MNIST files, which calcml never downloads (the rest of the chapter runs on the digits
embedded in the package). Import the four files you have once — they are checked against the published sizes
and SHA-256 hashes and stored in calcml's data folder:

    calcml data fetch mnist --from ~/Downloads          # train-images-idx3-ubyte.gz and the three others
    python examples/ch18_mnist_cnn_real.py              # 4 epochs: about 5–10 minutes each on a laptop CPU
    python examples/ch18_mnist_cnn_real.py --data DIR   # or read the IDX files (or an mnist.npz) from DIR
    python examples/ch18_mnist_cnn_real.py --fast       # a smoke run: 2,000 images, 1 epoch (not 99%)

The settings are those of the classic MNIST convnets (Keras' and PyTorch's examples), which reach 99.0–99.3%
test accuracy within a few epochs: two 3×3 convolutions (32 and 64 maps, each followed by ReLU and 2×2
max-pooling), a 128-unit ReLU layer and 10 logits; inputs standardized with the training set's mean and
deviation; Adam (lr 1e-3) on batches of 64 with a cosine learning-rate schedule over 4 epochs. The ≥ 99% is
checked at the end of a full run. Measured on 2026-12-01 (the four files checked against the published
SHA-256 by `calcml data fetch`; a 2-core machine shared with other work): **99.09% test accuracy** (9,909 of
10,000), test loss 0.0276, in 38 minutes. This repository's tests have no MNIST files, so they run this
script's code path on small synthetic IDX files instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.train.recipes import ImageView

TARGET = 0.99


def mnist_cnn(seed: int = 0) -> cm.nn.Sequential:
    """conv 3×3 (32) → ReLU → pool → conv 3×3 (64) → ReLU → pool → 128 ReLU → 10 logits, for 28×28 digits."""
    rng = np.random.default_rng(seed)
    return cm.nn.Sequential(
        ImageView(28, 28),
        cm.nn.Conv2d(1, 32, 3, padding=1, rng=rng), cm.nn.ReLU(), cm.nn.MaxPool2d(2),    # 32 × 14 × 14
        cm.nn.Conv2d(32, 64, 3, padding=1, rng=rng), cm.nn.ReLU(), cm.nn.MaxPool2d(2),   # 64 × 7 × 7
        cm.nn.Flatten(), cm.nn.Linear(64 * 7 * 7, 128, rng=rng), cm.nn.ReLU(), cm.nn.Linear(128, 10, rng=rng),
    )


def load(data_dir: Path | None) -> cm.data.Dataset:
    """MNIST from ``data_dir``, or from where ``calcml data fetch mnist`` stored it; exits with the reason."""
    try:
        return cm.data.mnist(data_dir)
    except cm.data.DataFormatError as error:
        raise SystemExit(f"this example needs the MNIST files: {error}") from None


def draw(path: Path, history: cm.train.History, images: np.ndarray, truth: np.ndarray, guess: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 4))
    curve = fig.add_subplot(1, 3, 1)
    curve.semilogy(history.step_loss, lw=0.6)
    curve.set(title="training loss (cross-entropy) per step", xlabel="step (batch of 64)")
    grid = fig.add_gridspec(2, 8, left=0.4, right=0.98)
    for k in range(min(16, len(images))):
        ax = fig.add_subplot(grid[k // 8, k % 8])
        ax.imshow(images[k], cmap="gray_r")
        ax.set_title(f"{truth[k]}→{guess[k]}", fontsize=9, color="C3")
        ax.axis("off")
    if not len(images):
        fig.text(0.7, 0.5, "no test digit is misclassified", ha="center")
    fig.suptitle("a CNN on MNIST: the training loss, and test digits it gets wrong (true→predicted)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"picture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A small CNN on real MNIST (needs the files; nothing is downloaded).")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder of the IDX files or an mnist.npz (default: what `calcml data fetch` stored)")
    parser.add_argument("--fast", action="store_true", help="a smoke run: 2,000 training images, 1 epoch")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for mnist_cnn_real.png")
    args = parser.parse_args(argv)

    data = load(args.data)
    X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
    epochs = 1 if args.fast else args.epochs
    if args.fast:
        X_train, y_train = X_train[:2000], y_train[:2000]
    mean, deviation = X_train.mean(), X_train.std()          # one number each, as in the classic recipe
    X_train, X_test = (X_train - mean) / deviation, (X_test - mean) / deviation
    print(f"MNIST: {len(X_train):,} training and {len(X_test):,} test images of 28×28; {epochs} epoch(s)")

    model = mnist_cnn(seed=0)
    optimizer = cm.optim.Adam(model.parameters(), lr=1e-3)
    schedule = cm.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    history = cm.train.fit(model, cm.nn.losses.cross_entropy, optimizer, (X_train, y_train), epochs=epochs,
                           batch_size=64, seed=0, scheduler=schedule, progress=not args.fast)
    test = cm.train.evaluate(model, cm.nn.losses.cross_entropy, X_test, y_test)
    correct = round(test.accuracy * test.n)
    print(f"test accuracy {test.accuracy:.2%} ({correct:,}/{test.n:,}), test loss {test.loss:.4f}")

    with cm.no_grad():
        predicted = np.concatenate([np.argmax(np.asarray(model(X_test[i:i + 1000])), axis=1)
                                    for i in range(0, len(X_test), 1000)])
    wrong = np.flatnonzero(predicted != y_test)
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "mnist_cnn_real.png", history, data.X_test[wrong].reshape(-1, 28, 28), y_test[wrong],
         predicted[wrong])
    if not args.fast and len(y_test) == 10_000:
        verdict = "reached" if test.accuracy >= TARGET else "did NOT reach"
        print(f"{verdict} the {TARGET:.0%} this recipe is known for on MNIST's 10,000 test digits")


if __name__ == "__main__":
    main()
