"""Chapter 8 — Probability by integration: normalizing densities, expectations, softmax with a temperature.

    python examples/ch08_probability_by_integration.py          # full run
    python examples/ch08_probability_by_integration.py --fast   # CI settings: fewer samples

A density is any p̃ ≥ 0 divided by its integral Z = ∫ p̃ (the normalizing constant, or partition function);
an expectation is an integral E[g] = ∫ g p; the cdf is F(x) = ∫_(−∞)^x p. Softmax is the same normalization
for a finite set: p_i = exp(z_i/T) / Σ_j exp(z_j/T). The temperature T sharpens (T → 0: argmax) or flattens
(T → ∞: uniform) the distribution. Gradients of expectations — ∂/∂θ E_(x∼p_θ)[f(x)], the heart of VAEs and of
policy gradients — are estimated from samples by the reparameterization or the score-function trick.

What to look at: Z = √(2π) for e^(−x²/2) and Z = B(2, 5) = 1/30 for x(1 − x)⁴, found by quadrature; the softmax
entropy rising with T from 0 to log 4; and the two gradient estimators agreeing with 2μ, with very
different standard errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm

LOGITS = np.array([2.0, 1.0, 0.5, -1.0])
TEMPERATURES = (0.1, 0.5, 1.0, 2.0, 10.0)


def densities_chapter() -> dict:
    print("1. Normalizing densities by quadrature")
    gauss = cm.prob.normalize(lambda x: np.exp(-(x**2) / 2))  # over ℝ by default
    print(f"   ∫ e^(−x²/2) dx = Z = {float(gauss.constant):.12f}, √(2π) = {np.sqrt(2 * np.pi):.12f}")
    beta = cm.prob.normalize(lambda x: x * (1 - x) ** 4, (0, 1))
    print(f"   ∫₀¹ x(1 − x)⁴ dx = Z = {float(beta.constant):.12f}, B(2, 5) = 1/30 = {1 / 30:.12f}")
    mean = cm.prob.expectation(lambda x: x, beta.pdf, (0, 1))
    var = cm.prob.variance(beta.pdf, (0, 1))
    print(f"   Beta(2, 5): E[x] = {float(mean):.12f} (2/7 = {2 / 7:.12f}), "
          f"Var[x] = {float(var):.12f} (10/392 = {10 / 392:.12f})")
    print(f"   standard normal cdf: F(1.96) = {float(cm.prob.cdf(gauss.pdf, 1.96)):.10f}")
    print(f"   entropy of N(0, 1) = {float(cm.prob.entropy(gauss.pdf)):.10f} nats, "
          f"½ log(2πe) = {0.5 * np.log(2 * np.pi * np.e):.10f}")
    return {"gauss": gauss.pdf, "beta": beta.pdf}


def softmax_chapter() -> dict:
    print(f"\n2. Softmax with a temperature: logits z = {LOGITS}")
    rewards = np.array([1.0, 0.0, 0.0, 5.0])
    print(f"   {'T':>5}  {'p = softmax(z/T)':<36}{'entropy':>9}{'E[r]':>8}   (r = {rewards})")
    table = {}
    for T in TEMPERATURES:
        p = cm.prob.softmax(LOGITS, temperature=T)
        entropy = -np.sum(p * np.log(p, where=p > 0, out=np.zeros_like(p)))
        table[T] = p
        print(f"   {T:5.1f}  {' '.join(f'{v:.4f}' for v in p):<36}{entropy:9.4f}{p @ rewards:8.4f}")
    print(f"   T → ∞: uniform, entropy → log 4 = {np.log(4):.4f}; T → 0: all mass on argmax z")
    # ∂p_i/∂z_j = p_i (δ_ij − p_j): the Jacobian of softmax at T = 1, by the engine and by the formula
    p = cm.prob.softmax(LOGITS)
    J = cm.jacobian(lambda z: cm.prob.softmax(z))(LOGITS)
    difference = np.max(np.abs(J - (np.diag(p) - np.outer(p, p))))
    print(f"   softmax Jacobian: max |cm.jacobian − (diag(p) − p pᵀ)| = {difference:.1e}")
    return table


def gradient_chapter(n: int) -> None:
    print(f"\n3. ∂/∂μ E_(x∼N(μ, σ²))[x²] = 2μ at μ = 1.5, σ = 0.8, from {n} samples")
    for estimator in ("reparam", "score"):
        est = cm.prob.grad_expectation(lambda x: x**2, "normal", (1.5, 0.8), estimator, n=n, rng=0)
        print(f"   {estimator:<8} ∂/∂μ ≈ {est.grad[0]:.4f} ± {est.stderr[0]:.4f}   (exact 3.0)")


def draw(path: Path, pdfs: dict, table: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    xs = np.linspace(-4, 4, 400)
    ax.plot(xs, pdfs["gauss"](xs), label="e^(−x²/2) / √(2π)")
    us = np.linspace(0, 1, 200)
    ax.plot(us, pdfs["beta"](us), label="30·x(1 − x)⁴  (Beta(2, 5))")
    ax.set(title="densities normalized by quadrature", xlabel="x")
    ax.legend()
    width = 0.8 / len(table)
    for k, (T, p) in enumerate(table.items()):
        bx.bar(np.arange(len(p)) + (k - len(table) / 2 + 0.5) * width, p, width, label=f"T = {T:g}")
    bx.set(title=f"softmax(z/T), z = {LOGITS.tolist()}", xlabel="class i", ylabel="p_i", xticks=range(len(LOGITS)))
    bx.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Probability by integration, and softmax with a temperature.")
    parser.add_argument("--fast", action="store_true", help="10,000 samples instead of 100,000 (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for probability_by_integration.png")
    args = parser.parse_args(argv)
    pdfs = densities_chapter()
    table = softmax_chapter()
    gradient_chapter(n=10_000 if args.fast else 100_000)
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "probability_by_integration.png", pdfs, table)


if __name__ == "__main__":
    main()
