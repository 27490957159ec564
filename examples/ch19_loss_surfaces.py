"""Chapter 19 — Pictures of loss surfaces: what the learning rate does.

    python examples/ch19_loss_surfaces.py          # full run
    python examples/ch19_loss_surfaces.py --fast   # CI settings (the same: it is small)

Near a minimum every smooth loss looks like a bowl ½ θᵀHθ, and gradient descent multiplies the error along
each eigenvector of H by 1 − ηλ per step. So the Hessian's eigenvalues λ_min ≤ λ_max decide everything:

    η < 2/λ_max                converges (|1 − ηλ| < 1 in every direction)
    η* = 2/(λ_min + λ_max)     the fastest: the slowest and the steepest directions shrink equally
    η near 2/λ_max             zig-zags across the steep direction (1 − ηλ_max ≈ −1)
    η > 2/λ_max                diverges

On f(x, y) = ½(x² + 4y²): λ = 1 and 4, so η* = 2/5 = 0.4 and the bound is 2/4 = 0.5.

What to look at: the picture — four paths from one start on the contours (too small crawls, right goes
straight in, too large zig-zags, divergent flies off) and their losses per step on a log scale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.optim.race import learning_rate_comparison


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loss surfaces and learning rates: too small, right, too large.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for loss_surfaces.png")
    args = parser.parse_args(argv)

    result = learning_rate_comparison("bowl", steps=40)
    lam_min, lam_max = result.extra["hessian_eigenvalues"]
    print(f"1. f(x, y) = {result.surface.expression}: Hessian eigenvalues (cm.hessian) {lam_min:g} and {lam_max:g}")
    print(f"   best rate η* = 2/(λ_min + λ_max) = {2 / (lam_min + lam_max):.6f}; "
          f"gradient descent diverges beyond 2/λ_max = {2 / lam_max:.6f}")
    x0, y0 = result.start
    print(f"\n2. Gradient descent from ({x0:g}, {y0:g}) for 40 steps")
    print(f"   {'learning rate':<26}{'max |1 − ηλ|':>13}{'f after 40 steps':>18}  outcome")
    for run in result.runs:
        rate = max(abs(1 - run.lr * lam_min), abs(1 - run.lr * lam_max))
        print(f"   {run.label:<26}{rate:13.4f}{run.final_loss:18.3e}  {run.status}")
    print("   f shrinks by about (max |1 − ηλ|)² per step: the error is squared in f")

    print("\n3. The same bound on a non-quadratic surface: Himmelblau, around its minimum (3, 2)")
    H = cm.hessian(lambda p: (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2)(np.array([3.0, 2.0]))
    eig = np.linalg.eigvalsh(H)
    print(f"   Hessian eigenvalues at (3, 2): {np.round(eig, 4)} → gradient descent is stable there for "
          f"η < 2/λ_max = {2 / eig[-1]:.4f}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "loss_surfaces.png"
    cm.viz.learning_rates(result, path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
