"""Chapter 5 — Jacobians, Hessians and Newton's method.

    python examples/ch05_jacobians_hessians_newton.py          # full run
    python examples/ch05_jacobians_hessians_newton.py --fast   # CI settings: a shorter gradient-descent run

The Jacobian of a map F: ℝⁿ → ℝᵐ holds every first partial ∂F_i/∂x_j; the Hessian of f: ℝⁿ → ℝ every second
partial ∂²f/∂x_i∂x_j (the Jacobian of the gradient). Polar coordinates F(r, θ) = (r cos θ, r sin θ) have
det J = r: the factor by which F stretches areas, the r of r dr dθ.

Newton's method uses the Hessian to take the step that would be exact for the local quadratic model,
Δ = −H⁻¹∇f; gradient descent takes −η∇f. Near a minimum Newton's error squares at every step
(quadratic convergence); gradient descent's shrinks by a constant factor.

What to look at: Newton's error column (near the minimum the exponent doubles: 1e-2, 1e-5, 1e-11), and the picture: on
Rosenbrock's banana valley Newton's path reaches (1, 1) in a handful of steps while gradient descent crawls.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.optim.race import RaceResult, race


def polar(p):
    r, theta = p[0], p[1]
    return np.stack([r * np.cos(theta), r * np.sin(theta)])


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def jacobian_chapter() -> None:
    print("1. The Jacobian of polar coordinates F(r, θ) = (r cos θ, r sin θ) at r = 2, θ = π/6")
    p = np.array([2.0, np.pi / 6])
    reverse = cm.jacobian(polar, mode="rev")(p)  # one reverse pass per output (row)
    forward = cm.jacobian(polar, mode="fwd")(p)  # one forward pass per input (column), batched
    symbolic = cm.symbolic.jacobian(["r*cos(t)", "r*sin(t)"], ["r", "t"], at={"r": 2, "t": "pi/6"})
    print(f"   symbolic J = {symbolic.result.tolist()}")
    print(f"   J (reverse mode) = {np.array2string(reverse, precision=6, separator=', ').replace(chr(10), '')}")
    print(f"   max |reverse − forward| = {np.max(np.abs(reverse - forward)):.1e}, "
          f"max |reverse − symbolic| = {np.max(np.abs(reverse - np.array(symbolic.value, dtype=float))):.1e}")
    print(f"   det J = {np.linalg.det(reverse):.12f}  (= r = 2: polar coordinates stretch areas by r)")


def hessian_chapter() -> None:
    print("\n2. The Hessian of Rosenbrock's function f = (1 − x)² + 100(y − x²)²")
    print(f"   symbolic H = {cm.symbolic.hessian('(1 - x)^2 + 100*(y - x^2)^2', ['x', 'y']).result.tolist()}")
    p = np.array([1.0, 1.0])
    H = cm.hessian(rosenbrock)(p)  # forward-over-reverse
    print(f"   at the minimum (1, 1): H = {H.tolist()}, eigenvalues {np.round(np.linalg.eigvalsh(H), 4)}")
    print(f"   condition number {np.linalg.cond(H):.0f}: a long, narrow valley — hard for gradient descent")
    v = np.array([1.0, 0.0])
    print(f"   Hessian–vector product H v (no H formed): {cm.hvp(rosenbrock, p, v)} = first column of H")


def newton_chapter(gd_steps: int) -> RaceResult:
    print("\n3. Newton's method vs gradient descent on Rosenbrock, from (−1.2, 1)")
    theta = cm.Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    newton = cm.optim.Newton([theta])
    print(f"   {'step':>4} {'(x, y)':>26} {'‖p − (1, 1)‖':>14}")
    for k in range(1, 8):
        newton.step(rosenbrock)  # p ← p − H⁻¹∇f, H from cm.hessian
        error = np.linalg.norm(theta.value - 1.0)
        print(f"   {k:4d} ({theta.value[0]:11.8f}, {theta.value[1]:11.8f}) {error:14.3e}")
    result = race("rosenbrock", ["gd", "newton"], start=(-1.2, 1.0), steps=gd_steps, tolerance=1e-10)
    for run in result.runs:
        reached = "never" if run.steps_to_tolerance is None else f"after {run.steps_to_tolerance} steps"
        print(f"   {run.label:<8} (η = {run.lr:g}): f − f* ≤ 1e-10 {reached}; "
              f"after {run.steps} steps f = {run.final_loss:.3e}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Jacobians, Hessians, and Newton vs gradient descent.")
    parser.add_argument("--fast", action="store_true", help="1,000 gradient-descent steps instead of 10,000")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for jacobians_hessians_newton.png")
    args = parser.parse_args(argv)
    jacobian_chapter()
    hessian_chapter()
    result = newton_chapter(gd_steps=1_000 if args.fast else 10_000)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "jacobians_hessians_newton.png"
    cm.viz.loss_surface(result, view="contour", path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
