"""Chapter 7 — Integrals: definite, indefinite and multiple, computed three ways.

    python examples/ch07_integrals.py          # full run
    python examples/ch07_integrals.py --fast   # CI settings (the same: it is small)

An antiderivative F (F′ = f) gives a definite integral by the fundamental theorem of calculus,
∫_a^b f = F(b) − F(a). When no F is at hand, the integral is a limit of sums: Riemann sums Σ f(x_i) Δx with
rectangles, and better rules (trapezoid, Simpson, Gauss) that converge faster. Multiple integrals are
iterated: ∫∫_D f dA = ∫ (∫ f dy) dx, with inner limits that may depend on the outer variable.

What to look at: the orders of the rules (the error of a rule of order p falls 2ᵖ-fold when the panels
double), and the picture: rectangles under x·e^(−x) whose total area closes in on 1 − 4e^(−3).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.integrate import convergence_table, nquad, quad


def antiderivative_chapter() -> None:
    print("1. Indefinite and definite integrals, symbolically, with steps")
    print(f"   ∫ x·eˣ dx = {cm.symbolic.integrate('x*exp(x)', 'x').result} + C   (by parts)")
    print("   " + cm.symbolic.integrate("x*exp(x)", ("x", 0, 1)).text().replace("\n", "\n   "))


def numeric_chapter() -> None:
    print("\n2. Riemann sums and better rules for ∫₀³ x·e^(−x) dx = 1 − 4e^(−3)")
    exact = 1 - 4 * np.exp(-3)
    table = convergence_table(lambda x: x * np.exp(-x), 0.0, 3.0, exact, panels=(4, 8, 16, 32, 64))
    print("   " + str(table).replace("\n", "\n   "))
    result = quad(lambda x: x * np.exp(-x), 0.0, 3.0, rtol=1e-12)  # adaptive Gauss–Kronrod
    print(f"   adaptive quad: {result.value:.15f} (± {result.error:.0e}, {result.evals} evaluations); "
          f"exact {exact:.15f}")
    gauss = quad(lambda x: np.exp(-(x**2)), -np.inf, np.inf)
    print(f"   an infinite range: ∫ e^(−x²) dx over ℝ = {gauss.value:.15f}, √π = {np.sqrt(np.pi):.15f}")


def multiple_chapter() -> None:
    print("\n3. Multiple integrals: iterated quadrature with variable limits (cm.integrate.nquad)")
    square = nquad(lambda x, y: x * y**2, [(0, 1), (0, 2)])
    print(f"   ∫₀¹∫₀² x y² dy dx = {square.value:.12f}   (exact: ½ · 8/3 = 4/3)")
    disc = nquad(lambda x, y: np.ones_like(y), [(-1, 1), (lambda x: -np.sqrt(1 - x**2), lambda x: np.sqrt(1 - x**2))])
    print(f"   area of the unit disc ∫₋₁¹∫_(−√(1−x²))^(√(1−x²)) dy dx = {disc.value:.12f}, π = {np.pi:.12f}")
    polar = nquad(lambda r, t: r * np.exp(-r**2), [(0, np.inf), (0, 2 * np.pi)])
    print(f"   ∫∫ e^(−(x²+y²)) dA in polar coordinates (Jacobian r): {polar.value:.12f}, π = {np.pi:.12f}")
    cube = nquad(lambda x, y, z: x * y * z, [(0, 1), (0, 1), (0, 1)])
    print(f"   a triple integral: ∫∫∫ over the unit cube of x y z = {cube.value:.12f}   (exact: 1/8)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Definite, indefinite and multiple integrals.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for integrals.png")
    args = parser.parse_args(argv)
    antiderivative_chapter()
    numeric_chapter()
    multiple_chapter()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "integrals.png"
    cm.viz.integral("x*exp(-x)", 0, 3, ns=(4, 16, 64), path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
