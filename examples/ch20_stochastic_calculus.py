"""Chapter 20 — Beyond: stochastic calculus: why ∫W dW is not W²/2; Langevin dynamics.

    python examples/ch20_stochastic_calculus.py          # full run
    python examples/ch20_stochastic_calculus.py --fast   # CI settings

For a smooth path, Σ f(t_k) Δx_k converges to the same integral wherever in [t_k, t_{k+1}] f is evaluated.
For Brownian motion it does not: increments are of size √Δt, their squares sum to the elapsed time, and
the left-point (Itô) and midpoint (Stratonovich) sums of ∫₀ᵀ W dW differ by T/2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from calcml.apps import stochastic as sc
from calcml.integrate import quad
from calcml.sde import brownian_increments


def integrals_chapter(n_paths: int) -> None:
    print("1. ∫₀ᵀ W dW two ways (1000 steps)")
    print(f"   {'T':>5}{'Itô mean':>11}{'Strat. mean':>13}{'difference':>12}{'T/2':>7}{'± SE':>9}")
    for T in (0.5, 1.0, 2.0):
        r = sc.integrals_of_w_dw(T, 1000, n_paths, rng=0)
        se = r.difference.std() / np.sqrt(n_paths)
        print(f"   {T:5.1f}{r.ito.mean():11.4f}{r.stratonovich.mean():13.4f}{r.difference.mean():12.5f}{T / 2:7.2f}"
              f"{se:9.1e}")
    print("   Itô: (W_T² − T)/2, mean 0 (a martingale);  Stratonovich: W_T²/2, the ordinary chain rule.")


def gbm_chapter(n_paths: int) -> None:
    print("\n2. dX = σX dW with σ = 0.5, X₀ = 1, T = 1, on the same Brownian paths")
    ends = sc.geometric_brownian_motion(0.5, 1.0, 1.0, n_steps=200, n_paths=n_paths, rng=1)
    rows = (("Itô, Euler–Maruyama", ends.ito_euler_maruyama, ends.ito_exact, 1.0),
            ("Stratonovich, Heun", ends.stratonovich_heun, ends.stratonovich_exact, np.exp(0.125)),
            ("Stratonovich as Itô + ½bb′", ends.stratonovich_via_ito_drift, ends.stratonovich_exact, np.exp(0.125)))
    print(f"   {'scheme':<28}{'E X_T':>9}{'± SE':>9}{'exact E X_T':>13}{'mean |X − exact|':>18}")
    for name, x, exact_path, exact_mean in rows:
        print(f"   {name:<28}{x.mean():9.4f}{x.std() / np.sqrt(n_paths):9.4f}{exact_mean:13.4f}"
              f"{np.mean(np.abs(x - exact_path)):18.5f}")


def langevin_chapter(n_chains: int, n_steps: int) -> dict:
    print("\n3. Langevin dynamics on the double well U(x) = (x² − 1)²:  x ← x − η U′(x) + √(2ηT) ξ")

    def double_well(x):
        return np.sum((x**2 - 1) ** 2, axis=-1)

    results = {}
    for T in (0.1, 0.5):
        samples = sc.langevin_descent(double_well, np.zeros((n_chains, 1)), lr=0.01, temperature=T,
                                      n_steps=n_steps, rng=2, burn_in=500)
        z = quad(lambda x: np.exp(-((x**2 - 1) ** 2) / T), -4, 4).value
        exact = quad(lambda x: x**2 * np.exp(-((x**2 - 1) ** 2) / T), -4, 4).value / z
        print(f"   T = {T}: E[x²] from {samples.size} samples {np.mean(samples**2):.4f}, "
              f"Boltzmann (quadrature) {exact:.4f}, fraction in the right well {np.mean(samples > 0):.3f}")
        results[T] = (samples.ravel(), z)
    cold = sc.langevin_descent(lambda x: np.sum((x**2 - 1) ** 2), np.array([0.3]), lr=0.05, temperature=1e-12,
                               n_steps=100, rng=3)
    print(f"   T → 0: from x = 0.3 it is gradient descent, ending at x = {cold[-1, 0]:.6f} (the minimum 1)")
    return results


def draw(path: Path, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ts = np.linspace(0, 1, 1001)
    dw = brownian_increments(ts, 1, (), rng=5)[:, 0]  # one path and its running sums
    w = np.concatenate([[0.0], np.cumsum(dw)])
    axes[0].plot(ts, w, label="W(t)", lw=0.8)
    axes[0].plot(ts[1:], np.cumsum(w[:-1] * dw), label="Itô Σ W dW")
    axes[0].plot(ts[1:], np.cumsum(0.5 * (w[:-1] + w[1:]) * dw), label="Stratonovich Σ W∘dW")
    axes[0].plot(ts[1:], np.cumsum(0.5 * dw**2), label="Stratonovich − Itô")
    axes[0].plot(ts, ts / 2, "k--", lw=0.8, label="t/2")
    axes[0].set(title=f"∫ W dW on one path (gap at T = 1: ½ΣΔW² = {0.5 * np.sum(dw**2):.3f})", xlabel="t")
    axes[0].legend()
    grid = np.linspace(-2, 2, 400)
    for T, (samples, z) in results.items():
        axes[1].hist(samples, bins=80, density=True, alpha=0.4, label=f"Langevin, T = {T}")
        axes[1].plot(grid, np.exp(-((grid**2 - 1) ** 2) / T) / z, label=f"e^(−U/T)/Z, T = {T}")
    axes[1].set(title="Langevin samples vs the Boltzmann density", xlabel="x")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Itô vs Stratonovich, and Langevin dynamics.")
    parser.add_argument("--fast", action="store_true", help="fewer paths and steps (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for stochastic_calculus.png")
    args = parser.parse_args(argv)
    integrals_chapter(n_paths=2_000 if args.fast else 20_000)
    gbm_chapter(n_paths=5_000 if args.fast else 50_000)
    results = langevin_chapter(n_chains=100 if args.fast else 400, n_steps=500 if args.fast else 3000)
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "stochastic_calculus.png", results)


if __name__ == "__main__":
    main()
