"""Chapter 16 — Convolution as a discrete integral, and the gradient of a filter derived by hand.

    python examples/ch16_convolution_as_integral.py            # full run
    python examples/ch16_convolution_as_integral.py --fast     # CI settings: fewer grid spacings

1. The convolution of two functions is an integral, (f ∗ g)(t) = ∫ f(τ) g(t − τ) dτ. Sample both on a grid of
   spacing h and it becomes the sum h·Σ_k f(τ_k) g(t − τ_k): the discrete convolution of the samples, which
   is a quadrature rule for the integral. We measure how fast it converges for a Gaussian ∗ box, whose exact
   answer is a difference of two erf's.
2. A CNN's "convolution" is a correlation y[i] = Σ_a w[a] x[s·i + a]. The chain rule gives the gradient of
   its filter as another correlation — of the input with the output gradient — which we check against
   calcml's engine in 1-D and 2-D, with stride and padding.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.apps import convolution
from calcml.nn import convolve2d


def integral_chapter(hs: tuple[float, ...]) -> convolution.ConvergenceStudy:
    print("1. N(0, 0.5²) ∗ box[−1, 1]: the sum h·Σ f g against the exact integral (max error over the grid)")
    # "trapezoid": the box's two edge samples weigh ½, so the sum is the trapezoidal rule of
    # ∫_{t−1}^{t+1} N(τ) dτ (error ∝ h²); "riemann": they weigh 1, a Riemann sum (error ∝ h).
    study = convolution.convergence_study(hs=hs)
    print("   1-D")
    print("   " + str(study).replace("\n", "\n   "))
    plane = convolution.convergence_study(hs=hs[:3], dims=2)
    print("   2-D: N(0, 0.5² I) ∗ box[−1, 1]², as a double sum h²·ΣΣ f g")
    print("   " + str(plane).replace("\n", "\n   "))
    print(f"   observed orders (finest grids): trapezoid {study.orders('trapezoid')[-1]:.3f}, "
          f"Riemann {study.orders('riemann')[-1]:.3f}  — the rules' orders 2 and 1")
    return study


def gradient_chapter(rng: np.random.Generator) -> None:
    print("\n2. The gradient of a filter, by hand and by the engine (L = Σ g ⊙ y, so ∂L/∂y = g)")
    # 1-D: y = correlate(x, w) with stride 2 and padding 1, differentiated by calcml through the plain
    # NumPy sum in correlate1d (np.pad, slices, products)
    x, w = rng.standard_normal(16), rng.standard_normal(3)
    y = convolution.correlate1d(x, w, stride=2, padding=1)
    g = rng.standard_normal(y.shape)
    dx, dw = cm.grad(lambda x, w: np.sum(g * convolution.correlate1d(x, w, 2, 1)), argnums=(0, 1))(x, w)
    hand_w = convolution.filter_grad1d(x, g, 3, stride=2, padding=1)  # Σ_i g[i] x_p[2i + a]
    hand_x = convolution.input_grad1d(g, w, 16, stride=2, padding=1)  # the transposed convolution
    print(f"   1-D, stride 2, padding 1:  ∂L/∂w by hand {np.array2string(hand_w, precision=6)}")
    print(f"                              ∂L/∂w engine  {np.array2string(dw, precision=6)}")
    print(f"      max |hand − engine|: filter {np.max(np.abs(hand_w - dw)):.1e}, "
          f"input {np.max(np.abs(hand_x - dx)):.1e}")

    # 2-D: a batch of 2 images with 3 channels, 4 filters of 3×3, stride 2, padding 1, through cm.nn's fused
    # conv2d primitive (im2col + one matrix product): its VJP is a different computation from the hand sum
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal(np.shape(convolve2d(x, w, stride=2, padding=1)))
    dx, dw = cm.grad(lambda x, w: np.sum(g * convolve2d(x, w, stride=2, padding=1)), argnums=(0, 1))(x, w)
    hand_w = convolution.filter_grad2d(x, g, (3, 3), stride=2, padding=1)
    hand_x = convolution.input_grad2d(g, w, (9, 9), stride=2, padding=1)
    print(f"   2-D, x {x.shape}, w {w.shape}, stride 2, padding 1:")
    print(f"      max |hand − engine|: filter {np.max(np.abs(hand_w - dw)):.1e} "
          f"(of max |∂L/∂w| = {np.max(np.abs(dw)):.2f}), input {np.max(np.abs(hand_x - dx)):.1e}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convolution as a discrete integral; filter gradients by hand.")
    parser.add_argument("--fast", action="store_true", help="fewer grid spacings (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for convolution_as_integral.png")
    args = parser.parse_args(argv)
    hs = (0.2, 0.1, 0.05) if args.fast else (0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625)
    study = integral_chapter(hs)
    gradient_chapter(np.random.default_rng(0))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "convolution_as_integral.png"
    cm.viz.convolution_as_integral(path, study=study)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
