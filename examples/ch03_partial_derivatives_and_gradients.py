"""Chapter 3 — Partial derivatives, the gradient and directional derivatives.

    python examples/ch03_partial_derivatives_and_gradients.py          # full run
    python examples/ch03_partial_derivatives_and_gradients.py --fast   # CI settings (the same: it is small)

For f(x, y) = x²y + 3xy², each partial derivative holds the other variable constant:
∂f/∂x = 2xy + 3y², ∂f/∂y = x² + 6xy. Together they form the gradient ∇f = (39, 40) at (2, 3). The slope of f
in a direction u (a unit vector) is the directional derivative D_u f = ∇f · u, and no direction is steeper
than u = ∇f/‖∇f‖, where D_u f = ‖∇f‖: gradient descent steps along −∇f for that reason.

What to look at: the scan over directions, whose largest slope is ‖∇f‖ = √3121 = 55.866 at the angle of ∇f, and
in the picture the field of −∇f (the direction gradient descent would take from every point), with ∇f and u
drawn at (2, 3).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm

FORMULA = "x**2*y + 3*x*y**2"


def f(p):
    x, y = p[0], p[1]
    return x**2 * y + 3 * x * y**2


def gradient_chapter() -> np.ndarray:
    print(f"1. Partial derivatives of f(x, y) = {FORMULA} (cm.symbolic.partial: each with its steps)")
    for var in ("x", "y"):
        print(f"   ∂f/∂{var} = {cm.symbolic.partial(FORMULA, var).result}")
    table = cm.symbolic.gradient(FORMULA, ["x", "y"], at={"x": 2, "y": 3})
    symbolic = np.array(table.value, dtype=float).ravel()
    p = np.array([2.0, 3.0])
    automatic = cm.grad(f)(p)  # one reverse pass gives both partials
    print(f"   ∇f(2, 3) = {symbolic} (symbolic), {automatic} (cm.grad)")
    print("   " + str(cm.check_grad(f, p)))

    print("\n2. Directional derivatives D_u f = ∇f · u")
    u = np.array([3.0, 4.0]) / 5
    exact = cm.symbolic.directional_derivative(FORMULA, ["x", "y"], [3, 4], at={"x": 2, "y": 3}).value
    _, forward = cm.jvp(f, (p,), (u,))  # forward mode: the slope along u in one pass, without ∇f
    h = 1e-6
    print(f"   u = (3, 4)/5: {exact} (symbolic), {float(forward):.10f} (cm.jvp), "
          f"{(f(p + h * u) - f(p - h * u)) / (2 * h):.10f} (central difference)")

    angles = np.linspace(0, 2 * np.pi, 3600, endpoint=False)
    slopes = np.array([float(cm.jvp(f, (p,), (np.array([np.cos(a), np.sin(a)]),))[1]) for a in angles])
    best = angles[np.argmax(slopes)]
    print(f"   over 3600 directions the steepest slope is {slopes.max():.4f} at {np.degrees(best):.1f}°;")
    print(f"   ‖∇f‖ = {np.linalg.norm(automatic):.4f} at the angle of ∇f, "
          f"{np.degrees(np.arctan2(automatic[1], automatic[0])):.1f}°")
    print(f"   steepest directional derivative: {slopes.max():.6f}, √3121 = {np.sqrt(3121):.6f}")
    return automatic


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Partial derivatives, gradients and directional derivatives.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for partial_derivatives_and_gradients.png")
    args = parser.parse_args(argv)
    gradient = gradient_chapter()
    fig = cm.viz.vector_field(FORMULA, bounds=((-5, 5), (-5, 5)), density=17)
    ax = fig.axes[0]
    for vector, colour, label in ((gradient / np.linalg.norm(gradient), "#d62728", "∇f(2, 3), scaled"),
                                  (np.array([0.6, 0.8]), "#1f77b4", "u = (3, 4)/5")):
        ax.arrow(2, 3, 1.4 * vector[0], 1.4 * vector[1], color=colour, width=0.06, zorder=6, label=label)
    ax.legend(loc="lower left", fontsize=8)
    args.out.mkdir(parents=True, exist_ok=True)
    path = cm.viz.save(fig, args.out / "partial_derivatives_and_gradients.png")
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
