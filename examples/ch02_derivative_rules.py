"""Chapter 2 — Derivative rules, with their steps: power, product, quotient and chain rule.

    python examples/ch02_derivative_rules.py          # full run
    python examples/ch02_derivative_rules.py --fast   # CI settings (the same: it is small)

``cm.derive`` differentiates a formula rule by rule and shows each step (every step is checked against
SymPy before it is shown). The same derivative is then reached two more ways — by calcml's autodiff engine
on the plain NumPy function, and by a central finite difference — and the three numbers agree.

What to look at: the steps of the chain rule for sin(x²) (outer derivative cos(u) times inner 2x), and in the
picture the secant lines closing in on the tangent at x₀ = 1, whose slope is 2·cos(1) = 1.0806.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm

# (formula for cm.derive, variable, the same function in NumPy for cm.grad, the point, the rule it shows)
CASES = [
    ("x^5 - 3*x^2 + 7", "x", lambda x: x**5 - 3 * x**2 + 7, 1.5, "power and sum rules"),
    ("x^3*exp(x)", "x", lambda x: x**3 * np.exp(x), 0.5, "product rule"),
    ("log(x)/x", "x", lambda x: np.log(x) / x, 2.0, "quotient rule"),
    ("sin(x^2)", "x", lambda x: np.sin(x**2), 1.0, "chain rule"),
    ("log(1 + exp(x))", "x", lambda x: np.log(1 + np.exp(x)), 0.3, "softplus: its derivative is the sigmoid"),
    ("sigmoid(3*x - 1)", "x", lambda x: 1 / (1 + np.exp(-(3 * x - 1))), 0.2, "sigmoid: σ' = σ(1 − σ)"),
]


def rules_chapter() -> None:
    print("1. The steps of one derivative")
    print("   " + cm.derive("sin(x^2)", "x").text().replace("\n", "\n   "))

    print("\n2. Symbolic, automatic and numeric derivatives agree")
    print(f"   {'f(x)':<18}{'f′(x) (cm.derive)':<44}{'x₀':>5}{'symbolic':>14}{'cm.grad':>14}{'|diff|':>9}")
    for formula, var, f, x0, rule in CASES:
        d = cm.derive(formula, var)
        symbolic = float(d.at({var: x0}))
        automatic = float(cm.grad(f)(x0))
        print(f"   {formula:<18}{str(d.result):<44}{x0:5.1f}{symbolic:14.10f}{automatic:14.10f}"
              f"{abs(symbolic - automatic):9.1e}   {rule}")
    h = 1e-5
    central = (np.sin((1 + h) ** 2) - np.sin((1 - h) ** 2)) / (2 * h)  # error O(h²)
    print(f"\n   d/dx sin(x²) at x = 1: {float(cm.grad(lambda x: np.sin(x**2))(1.0)):.10f} (cm.grad), "
          f"{central:.10f} (central difference), 2·cos(1) = {2 * np.cos(1.0):.10f}")

    print("\n3. Higher derivatives: differentiate the derivative")
    second = cm.derive("sin(x^2)", "x", order=2)
    print(f"   d²/dx² sin(x²) = {second.result}")
    print(f"   at x = 1: {float(second.at(x=1)):.10f} (cm.derive), "
          f"{float(cm.grad(cm.grad(lambda x: np.sin(x**2)))(1.0)):.10f} (cm.grad of cm.grad)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Derivative rules with their steps, checked three ways.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for derivative_rules.png")
    args = parser.parse_args(argv)
    rules_chapter()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "derivative_rules.png"
    cm.viz.derivative("sin(x**2)", 1.0, xlim=(-0.5, 2.5), secants=(1.0, 0.5, 0.2, 0.05), path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
