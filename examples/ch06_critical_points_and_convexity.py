"""Chapter 6 — Critical points and convexity: minima, maxima, saddles, and losses with one minimum.

    python examples/ch06_critical_points_and_convexity.py          # full run
    python examples/ch06_critical_points_and_convexity.py --fast   # CI settings (the same: it is small)

A critical point solves ∇f = 0. The Hessian's eigenvalues there say what it is: all positive, a minimum;
all negative, a maximum; both signs, a saddle (downhill in some directions, uphill in others). For
f(x, y) = x³ − 3x + y² there are two: a saddle at (−1, 0) and a minimum at (1, 0) with f = −2.

A convex function (Hessian positive semidefinite everywhere) has no saddles and no spurious local minima:
every critical point is a global minimum. Least squares and logistic regression are convex in their weights;
a network with a hidden layer is not.

What to look at: gradient descent started exactly on the saddle's "stable" line x = −1 walks into the saddle
and stops there (∇f = 0); moved by 0.001 it escapes to the minimum. In high dimensions most critical points
of a network's loss are saddles, and this is why gradient descent still finds good minima.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.ode import gradient_descent

FORMULA = "x^3 - 3x + y^2"


def f(p):
    return p[0] ** 3 - 3 * p[0] + p[1] ** 2


def critical_points_chapter() -> None:
    print(f"1. Critical points of f(x, y) = {FORMULA}, solved and classified symbolically")
    print("   " + cm.symbolic.critical_points(FORMULA, ["x", "y"]).text().replace("\n", "\n   "))

    print("\n2. The same points numerically: Newton's method on ∇f = 0, classified by cm.hessian")
    for start in ((-1.5, 0.4), (1.5, -0.4)):
        p = np.array(start)
        for _ in range(30):  # Newton on the gradient: p ← p − H⁻¹∇f (finds saddles as well as minima)
            p = p - np.linalg.solve(cm.hessian(f)(p), cm.grad(f)(p))
        eigenvalues = np.linalg.eigvalsh(cm.hessian(f)(p))
        kind = "minimum" if eigenvalues.min() > 0 else "saddle" if eigenvalues.max() > 0 else "maximum"
        print(f"   from {start}: {kind} at ({p[0]:.6f}, {p[1]:.6f}), f = {f(p):.9f}, "
              f"Hessian eigenvalues {eigenvalues[0]:.6f}, {eigenvalues[1]:.6f}")


def saddle_chapter() -> dict:
    print("\n3. Gradient descent near the saddle (η = 0.05, 200 steps)")
    paths = {}
    for start in ((-1.0, 1.5), (-0.999, 1.5), (0.0, -1.8)):
        path = gradient_descent(f, np.array(start), lr=0.05, steps=200)
        end = path[-1]
        print(f"   from {start}: ends at ({end[0]: .6f}, {end[1]: .6f}), ‖∇f‖ = {np.linalg.norm(cm.grad(f)(end)):.1e}")
        paths[start] = path
    return paths


def convexity_chapter() -> None:
    print("\n4. Which losses are convex? (cm.symbolic.is_convex: a proof, or evidence from samples)")
    cases = [
        ("(w*x - y)^2", ["w"], "least squares in the weight w"),
        ("log(1 + exp(-w*x))", ["w"], "logistic loss in w"),
        ("logsumexp(z1, z2) - z1", ["z1", "z2"], "cross-entropy in the logits"),
        ("(sigmoid(w) - 1)^2", ["w"], "squared error after a sigmoid"),
        ("(v*tanh(w) - 1)^2", ["v", "w"], "a two-layer 'network' with one unit"),
        (FORMULA, ["x", "y"], "this chapter's f"),
    ]
    for expr, variables, meaning in cases:
        verdict = cm.symbolic.is_convex(expr, variables, timeout=30)  # sampling a Hessian can take a few seconds
        print(f"   {meaning:<37} {expr:<26} {'convex' if verdict else 'not convex':<11} ({verdict.method})")


def draw(path: Path, paths: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5.5))
    X, Y = np.meshgrid(np.linspace(-2.2, 2.2, 300), np.linspace(-2, 2, 300))
    contours = ax.contour(X, Y, f(np.stack([X, Y])), levels=30, cmap="viridis")
    fig.colorbar(contours, label="f(x, y)")
    for start, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], ".-", ms=3, label=f"gradient descent from {start}")
    ax.plot([-1], [0], "rX", ms=12, label="saddle (−1, 0): eigenvalues −6, 2")
    ax.plot([1], [0], "g*", ms=15, label="minimum (1, 0): eigenvalues 2, 6")
    ax.set(title="f(x, y) = x³ − 3x + y²: critical points and gradient descent", xlabel="x", ylabel="y")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Critical points, their Hessians, and convexity.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for critical_points_and_convexity.png")
    args = parser.parse_args(argv)
    critical_points_chapter()
    paths = saddle_chapter()
    convexity_chapter()
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "critical_points_and_convexity.png", paths)


if __name__ == "__main__":
    main()
