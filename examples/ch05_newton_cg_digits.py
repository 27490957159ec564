"""Chapter 5 — Newton, Gauss–Newton and the condition number, on logistic regression of the digits.

    python examples/ch05_newton_cg_digits.py          # full run: all 1,438 training digits, α = 10⁻³
    python examples/ch05_newton_cg_digits.py --fast   # CI settings: 300 digits, α = 10⁻²

Multinomial logistic regression: logits z = XW + b (64 pixels → 10 classes, 650 parameters), the softmax
cross-entropy, and an L2 term α/2‖θ‖², which makes the loss strictly convex: every eigenvalue of its Hessian is
at least α. Three minimizers start from θ = 0 and stop when ‖∇L‖ < 10⁻⁶:

- Newton–CG solves H p = −∇L by conjugate gradient on Hessian-vector products — the Hessian is never formed;
- Gauss–Newton does the same with the GGN matrix Jᵀ(∇²_z ℓ)J. For a model linear in its parameters (z = XW + b)
  the Hessian's other term Σ (∂ℓ/∂z_k)∇²z_k is zero, so here the GGN *is* the Hessian (checked below);
- gradient descent with its best fixed step η = 2/(λ_min + λ_max).

Near the minimum gradient descent shrinks the error by (κ − 1)/(κ + 1) per step, κ = λ_max/λ_min the condition
number, estimated here from the Hessian's spectrum by Lanczos. With κ in the hundreds that is thousands of steps;
Newton's method, which rescales every direction by its curvature, needs a handful.

What to look at: the iteration counts; the observed rate of gradient descent against (κ − 1)/(κ + 1) (the key
number is their ratio of 1 − rate, ≈ 1); λ_min = α exactly (adding one vector to every class's weights does not
change the softmax, so only the L2 term curves those directions); and the picture, loss and ‖∇L‖ per iteration.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Newton–CG, Gauss–Newton and gradient descent on the digits.")
    parser.add_argument("--fast", action="store_true", help="300 digits and α = 1e-2 (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for newton_cg_digits.png")
    args = parser.parse_args(argv)

    digits = cm.data.digits(np.float64)
    n, alpha = (300, 1e-2) if args.fast else (len(digits.X_train), 1e-3)
    X, y = digits.X_train[:n], digits.y_train[:n]

    def outputs(params):
        """The logits, and the parameters themselves (the L2 term is a loss of θ, with curvature αI)."""
        return X @ params["W"] + params["b"], params

    def output_loss(out):
        logits, params = out
        return cm.nn.losses.cross_entropy(logits, y) + alpha / 2 * (np.sum(params["W"] ** 2) + np.sum(params["b"] ** 2))

    def loss(params):
        return output_loss(outputs(params))

    start = {"W": np.zeros((64, 10)), "b": np.zeros(10)}
    print(f"Logistic regression on {n} digits, 650 parameters, L2 α = {alpha:g}; stop at ‖∇L‖ < 1e-6\n")

    newton = cm.curvature.newton_cg(loss, start, tol=1e-6)
    gauss_newton = cm.curvature.gauss_newton(outputs, output_loss, start, tol=1e-6)
    G = cm.curvature.GaussNewtonOperator(outputs, output_loss, newton.params)
    H = cm.curvature.HessianOperator(loss, newton.params)
    v = np.random.default_rng(0).standard_normal(H.size)
    print(f"GGN against the Hessian at the solution: max |Gv − Hv| = {np.max(np.abs(G(v) - H(v))):.1e} "
          f"(|Hv| up to {np.max(np.abs(H(v))):.2f}): equal, the model is linear in θ")

    print("\n1. The condition number, from the Hessian's spectrum at the minimum (Lanczos on HVPs)")
    cond = cm.curvature.condition_number(loss, newton.params, iters=100)
    print(f"   λ_max = {cond.lambda_max:.6f}, λ_min = {cond.lambda_min:.8f} (the L2 bound: λ_min ≥ α = {alpha:g}; "
          f"residual {cond.residual_min:.1e}), {cond.hvps} HVPs")
    print(f"   κ = λ_max/λ_min = {cond.kappa:.2f}; best GD step 2/(λ_min + λ_max) = {cond.gd_step:.4f}; "
          f"predicted rate (κ − 1)/(κ + 1) = {cond.gd_rate:.6f}")

    gd = cm.curvature.gradient_descent(loss, start, lr=cond.gd_step, tol=1e-6, max_iter=20_000)
    observed = gd.rate()
    print(f"   gradient descent's observed rate (second half of its run): {observed:.6f}; "
          f"(1 − observed)/(1 − predicted) = {(1 - observed) / (1 - cond.gd_rate):.4f}")
    predicted_steps = np.log(gd.grad_norms[0] / 1e-6) / -np.log(cond.gd_rate)
    print(f"   steps predicted to shrink ‖∇L‖ from {gd.grad_norms[0]:.3f} to 1e-6: {predicted_steps:.0f}; "
          f"taken: {gd.iterations}")

    print("\n2. Iterations to ‖∇L‖ < 1e-6 from θ = 0")
    print(f"   {'method':18s} {'iterations':>10s} {'gradients':>10s} {'HVPs':>6s} {'final loss':>14s} {'‖∇L‖':>9s}")
    for run in (newton, gauss_newton, gd):
        print(f"   {run.method:18s} {run.iterations:10d} {run.gradients:10d} {run.hvps:6d} {run.losses[-1]:14.10f} "
              f"{run.grad_norms[-1]:9.1e}")
    print("   Newton–CG's ‖∇L‖ per iteration: " + ", ".join(f"{g:.1e}" for g in newton.grad_norms)
          + " — the exponent doubles near the end (quadratic convergence)")
    with cm.no_grad():
        logits = digits.X_test @ newton.params["W"] + newton.params["b"]
    print(f"   test accuracy of the fitted model: {np.mean(np.argmax(logits, axis=1) == digits.y_test):.2%}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "newton_cg_digits.png"
    cm.viz.convergence([newton, gauss_newton, gd], path=path)
    print(f"\npicture: {path}")


if __name__ == "__main__":
    main()
