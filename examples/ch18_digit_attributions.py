"""Chapter 18 — Which pixels made the network say "7"? Attributions of a digits classifier, and the features a
regression model is sensitive to.

    python examples/ch18_digit_attributions.py          # full run: 30 epochs, five test digits
    python examples/ch18_digit_attributions.py --fast   # CI settings: 8 epochs, three test digits

A trained network is a differentiable function of its input, so derivatives with respect to the *pixels* say how
the output depends on them. For the logit f(x) of the predicted class:

- saliency ∂f/∂x_i: how much f moves per unit change of pixel i, here, at this image;
- gradient × input x_i ∂f/∂x_i: the saliency weighed by the pixel's value (a dark pixel has x_i = 0 and gets 0);
- SmoothGrad: the saliency averaged over noisy copies x + ε, ε ~ N(0, σ²I) — less speckled;
- integrated gradients IG_i = (x_i − x'_i) ∫₀¹ ∂f/∂x_i(x' + α(x − x')) dα from a blank image x' = 0. By the
  fundamental theorem of calculus along the path, Σ_i IG_i = f(x) − f(x'): the attributions add up to the whole
  change of the output ("completeness"). The integral is a trapezoid rule, so the gap shrinks as 1/steps².

Then the articles' use: the sensitivity of a regression model to each input feature, mean |∂f/∂x_j| over the
data, on a network fitted to y = 3x₀ − 2x₁ + x₂² + noise with two extra features it should ignore.

What to look at: the completeness gaps (the key number: the largest, relative to |f(x) − f(0)|, below 10⁻³);
the picture, red pixels raise the class's logit and blue ones lower it; the feature ranking.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm


def classifier(epochs: int, data) -> cm.nn.Sequential:
    model = cm.nn.Sequential(cm.nn.Linear(64, 64, rng=0, dtype=np.float64), cm.nn.Tanh(),
                             cm.nn.Linear(64, 10, rng=1, dtype=np.float64))
    cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2),
                 (data.X_train.astype(np.float64), data.y_train), epochs=epochs, batch_size=64, progress=False)
    return model


def regression_sensitivity(epochs: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    y = 3 * X[:, 0] - 2 * X[:, 1] + X[:, 2] ** 2 + 0.1 * rng.standard_normal(400)
    model = cm.nn.Sequential(cm.nn.Linear(5, 32, rng=2, dtype=np.float64), cm.nn.Tanh(),
                             cm.nn.Linear(32, 1, rng=3, dtype=np.float64))
    history = cm.train.fit(model, cm.nn.losses.mse, cm.optim.Adam(model.parameters(), lr=1e-2), (X, y[:, None]),
                           epochs=epochs, batch_size=32, progress=False)
    sensitivity = cm.sensitivity.feature_sensitivity(lambda x: model(x)[0], X, names=[f"x{j}" for j in range(5)])
    print(f"   a 5 → 32 → 1 network fitted to y = 3x₀ − 2x₁ + x₂² + noise (training MSE {history.loss[-1]:.3f}):")
    print("   " + sensitivity.table().replace("\n", "\n   "))
    print(f"   the truth: mean |∂y/∂x| = 3, 2, E|2x₂| = {2 * np.sqrt(2 / np.pi):.3f}, 0, 0; x₂'s mean slope ≈ 0 "
          "because its effect changes sign at 0")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Attributions of a digits classifier; feature sensitivity.")
    parser.add_argument("--fast", action="store_true", help="8 epochs and three digits (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for digit_attributions.png")
    args = parser.parse_args(argv)

    data = cm.data.digits()
    epochs = 8 if args.fast else 30
    model = classifier(epochs, data)
    with cm.no_grad():
        predicted = np.asarray(model(data.X_test.astype(np.float64))).argmax(axis=1)
    accuracy = np.mean(predicted == data.y_test)
    print(f"1. A 64 → 64 → 10 tanh network after {epochs} epochs: test accuracy {accuracy:.2%}")

    picks = [int(np.flatnonzero(data.y_test == digit)[0]) for digit in (7, 3, 0, 4, 9)][:3 if args.fast else 5]
    images, titles = [], []
    maps: dict[str, list[np.ndarray]] = {"saliency": [], "gradient × input": [], "SmoothGrad": [],
                                         "integrated gradients": []}
    worst = 0.0
    print(f"   {'digit':>5s} {'class':>5s} {'f(x) − f(0)':>12s} {'Σ IG':>12s} {'gap, 16 steps':>14s} "
          f"{'gap, 128 steps':>15s}")
    for i in picks:
        x = data.X_test[i].astype(np.float64)
        k = int(predicted[i])

        def logit(x, k=k):
            return model(x)[k]

        coarse = cm.sensitivity.integrated_gradients(logit, x, steps=16)
        ig = cm.sensitivity.integrated_gradients(logit, x, steps=128)
        worst = max(worst, abs(ig.completeness_gap) / abs(ig.output_change))
        print(f"   {data.y_test[i]:5d} {k:5d} {ig.output_change:12.6f} {ig.attributions.sum():12.6f} "
              f"{coarse.completeness_gap:14.2e} {ig.completeness_gap:15.2e}")
        images.append(x)
        titles.append(f"digit {data.y_test[i]}, logit {k}")
        maps["saliency"].append(cm.sensitivity.saliency(logit, x))
        maps["gradient × input"].append(cm.sensitivity.gradient_x_input(logit, x))
        maps["SmoothGrad"].append(cm.sensitivity.smoothgrad(logit, x, noise=0.15, samples=50))
        maps["integrated gradients"].append(ig.attributions)
    print(f"   largest completeness gap |Σ IG − (f(x) − f(0))| / |f(x) − f(0)| with 128 steps: {worst:.2e} "
          "(the trapezoid rule's error: 8× the steps, ≈ 64× smaller)")

    print("\n2. Per-feature sensitivity of a regression model, mean over the data")
    regression_sensitivity(60 if args.fast else 200)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "digit_attributions.png"
    cm.viz.attributions(images, maps, titles=titles, image_shape=data.image_shape, path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
