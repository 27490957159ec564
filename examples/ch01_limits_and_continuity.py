"""Chapter 1 — Limits and continuity, seen through three activation functions: step, ReLU and sigmoid.

    python examples/ch01_limits_and_continuity.py          # full run
    python examples/ch01_limits_and_continuity.py --fast   # CI settings (the same: it is small)

A function is continuous at a when both one-sided limits exist and equal f(a); it is differentiable at a
when the difference quotient (f(a + h) − f(a))/h has one limit as h → 0 from both sides. At 0:

    step     jumps: left limit 0, right limit 1            not continuous (so not differentiable)
    ReLU     continuous, but its slope is 0 on the left and 1 on the right: a kink, not differentiable
    sigmoid  smooth: σ'(0) = lim (σ(h) − ½)/h = ¼, the steepest it ever gets

What to look at: the lower row of the picture. The difference quotients of ReLU settle on two different
values as h → 0 from each side; those of the sigmoid close in on ¼ from both. Deep learning still uses
ReLU′(0): calcml (like PyTorch) takes the subgradient 0 there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import sympy as sp

import calcml as cm

X = sp.Symbol("x", real=True)
STEP = sp.Heaviside(X, 1)  # step(x) = 0 for x < 0, 1 for x ≥ 0


def activations(x):
    return {"step": np.where(x >= 0, 1.0, 0.0), "ReLU": np.maximum(0.0, x), "sigmoid": 1 / (1 + np.exp(-x))}


def limits_chapter() -> None:
    print("1. One-sided limits at 0 (cm.symbolic.limit computes each side separately)")
    print(f"   step:     {cm.symbolic.limit(STEP, 'x', 0)}")
    print(f"   sigmoid:  {cm.symbolic.limit('sigmoid(x)', 'x', 0)}")
    print(f"             at ±∞: {cm.symbolic.limit('sigmoid(x)', 'x', '-oo').result} and "
          f"{cm.symbolic.limit('sigmoid(x)', 'x', 'oo').result}: the sigmoid squashes ℝ into (0, 1)")

    print("\n2. Continuity and differentiability (both one-sided limits, checked symbolically)")
    for name, expr in (("step", STEP), ("ReLU", "relu(x)"), ("sigmoid", "sigmoid(x)")):
        print(f"   {name:<8} {cm.symbolic.is_continuous(expr, 'x', 0)}")
        print(f"   {'':<8} {cm.symbolic.is_differentiable(expr, 'x', 0)}")


def slopes_chapter() -> dict:
    print("\n3. The derivative as a limit: difference quotients (f(h) − f(0))/h as h → 0")
    # relu(h) = max(0, h): the slope of ReLU at its kink, from each side
    print(f"   ReLU:     {cm.symbolic.limit('(max(0, h) - 0)/h', 'h', 0)}")
    sigmoid_slope = cm.symbolic.limit("(sigmoid(h) - 1/2)/h", "h", 0)
    print(f"   sigmoid:  {sigmoid_slope}")
    hs = np.logspace(-1, -7, 7)
    quotients = {}
    print(f"   {'h':>8} {'ReLU, h>0':>10} {'ReLU, h<0':>10} {'σ, h>0':>12} {'σ, h<0':>12}")
    for h in hs:
        row = []
        for name in ("ReLU", "sigmoid"):
            right = (activations(h)[name] - activations(0.0)[name]) / h
            left = (activations(0.0)[name] - activations(-h)[name]) / h
            quotients.setdefault(name, []).append((left, right))
            row += [right, left]
        print(f"   {h:8.0e} {row[0]:10.4f} {row[1]:10.4f} {row[2]:12.9f} {row[3]:12.9f}")
    # the central quotient (σ(h) − σ(−h))/2h has error O(h²): at h = 1e-4 it is exact to ~1e-10
    central = (activations(1e-4)["sigmoid"] - activations(-1e-4)["sigmoid"]) / 2e-4
    print(f"   σ'(0) from secants: {central:.10f}   (limit ¼; cm.grad: {cm.grad(cm.nn.sigmoid)(0.0):.10f})")
    print(f"   ReLU'(0) by cm.grad: {cm.grad(lambda x: np.maximum(0.0, x))(0.0):g} — the convention at the kink")
    return {"h": hs, **{k: np.array(v) for k, v in quotients.items()}}


def draw(path: Path, quotients: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    xs = np.linspace(-3, 3, 601)
    for ax, (name, ys) in zip(axes[0], activations(xs).items()):
        if name == "step":  # draw the jump as a jump: open circle on the left, filled dot at f(0) = 1
            ax.plot(xs[xs < 0], ys[xs < 0], "k", xs[xs >= 0], ys[xs >= 0], "k", lw=2)
            ax.plot([0], [0], "o", mfc="white", mec="k")
            ax.plot([0], [1], "ko")
        else:
            ax.plot(xs, ys, "k", lw=2)
        ax.set(title=name, xlabel="x")
    axes[1, 0].axis("off")
    axes[1, 0].text(0.0, 0.5, "step: the left and right limits\nat 0 differ (0 and 1), so no\n"
                    "derivative can exist there", fontsize=11, va="center")
    for ax, name, target in ((axes[1, 1], "ReLU", None), (axes[1, 2], "sigmoid", 0.25)):
        q = quotients[name]
        ax.semilogx(quotients["h"], q[:, 1], "o-", label="(f(h) − f(0))/h, from the right")
        ax.semilogx(quotients["h"], q[:, 0], "s--", label="(f(0) − f(−h))/h, from the left")
        if target is not None:
            ax.axhline(target, color="k", lw=0.8, ls=":", label="¼")
        ax.invert_xaxis()
        ax.set(title=f"{name}: difference quotients as h → 0", xlabel="h")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Limits, continuity and differentiability of activations.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for limits_and_continuity.png")
    args = parser.parse_args(argv)
    limits_chapter()
    quotients = slopes_chapter()
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "limits_and_continuity.png", quotients)


if __name__ == "__main__":
    main()
