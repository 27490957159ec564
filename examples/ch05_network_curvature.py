"""Chapter 5 — The curvature of a real network: its Hessian's spectrum, and the edge of stability.

    python examples/ch05_network_curvature.py          # full study: η = 2/3, 1 and 3/2, 1,500 steps each
    python examples/ch05_network_curvature.py --fast   # CI settings: η = 1, 500 steps

The Hessian of a network's loss has as many rows as the network has weights, so calcml never forms it: every
number here comes from Hessian-vector products (forward over reverse, `cm.hvp`). Lanczos gives the top
eigenvalues, Hutchinson's estimator the trace, stochastic Lanczos quadrature the whole eigenvalue density.

Gradient descent with step η on a quadratic with curvature λ multiplies the error by 1 − ηλ each step: it is
stable only while λ < 2/η. Cohen et al. (2021) found that full-batch gradient descent on a network does not stay
safely below that edge. The sharpness λ_max grows as training goes on ("progressive sharpening") until it
reaches 2/η — and then hovers there, while the loss keeps falling, no longer monotonically: the edge of
stability. Here a small tanh network (64 → 32 → 10, 2,410 weights) fits one-hot digits with squared error; its
last layer starts small, so the network starts flat (λ_max ≈ 1.1) and the rise is visible.

What to look at: each λ_max curve climbing to its dashed line 2/η and staying there (the key number: λ_max over
the second half of the run divided by 2/η, ≈ 1); the spectrum: a bulk of eigenvalues near 0 and a few outliers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm


def network() -> cm.nn.Sequential:
    model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0, dtype=np.float64, init="xavier_uniform"), cm.nn.Tanh(),
                             cm.nn.Linear(32, 10, rng=1, dtype=np.float64, init="xavier_uniform"))
    last = model[2].weight
    last.copy_(0.2 * last.value)  # a small last layer: a flat start, so progressive sharpening shows
    return model


def train_at_the_edge(X, y, lr: float, steps: int, every: int):
    """Full-batch gradient descent with step ``lr``; λ_max recorded every ``every`` steps."""
    model = network()
    monitor = cm.curvature.SharpnessMonitor(X, y, cm.nn.losses.mse, every=every, iters=20)
    history = cm.train.fit(model, cm.nn.losses.mse, cm.optim.SGD(model.parameters(), lr=lr), (X, y), epochs=steps,
                           batch_size=None, progress=False, callbacks=[monitor])
    return model, monitor, history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Hessian spectrum and the edge of stability of a digits MLP.")
    parser.add_argument("--fast", action="store_true", help="one learning rate, 500 steps (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for network_curvature.png")
    args = parser.parse_args(argv)

    digits = cm.data.digits()
    X, y = digits.X_train[:200].astype(np.float64), np.eye(10)[digits.y_train[:200]]
    rates, steps, every = ([1.0], 500, 25) if args.fast else ([2 / 3, 1.0, 1.5], 1500, 50)

    print("1. Sharpness during full-batch gradient descent (MSE on 200 one-hot digits, 2,410 weights)")
    monitors, losses, final = {}, {}, None
    for lr in rates:
        model, monitor, history = train_at_the_edge(X, y, lr, steps, every)
        monitors[lr], losses[lr] = monitor, history.step_loss
        values, recorded = monitor.lambda_max, np.array(monitor.steps)
        late = values[recorded >= steps // 2]
        ups = int(np.sum(np.diff(history.step_loss[steps // 2:]) > 0))
        print(f"   η = {lr:.4g}: 2/η = {2 / lr:.4g}; λ_max {values[0]:.3f} at step 0, "
              + ", ".join(f"{v:.3f}" for v in values[1:len(values):max(1, len(values) // 6)]) + " …")
        print(f"      second half at η = {lr:.4g}: λ_max from {late.min():.3f} to {late.max():.3f}, "
              f"mean {late.mean():.3f}; "
              f"λ_max / (2/η) = {late.mean() * lr / 2:.4f}; the loss {history.step_loss[0]:.4f} → "
              f"{history.step_loss[-1]:.5f}, rising on {ups} of the last {steps - steps // 2} steps "
              f"({monitor.hvps} HVPs)")
        if lr == 1.0:
            final = model

    print("\n2. The Hessian's spectrum at the end of the η = 1 run, from Hessian-vector products only")
    loss, params = cm.curvature.model_loss(final, cm.nn.losses.mse, X, y)
    top = cm.curvature.hessian_eigs(loss, params, k=5, iters=60)
    trace = cm.curvature.hessian_trace(loss, params, samples=30 if args.fast else 200)
    density = cm.curvature.spectral_density(loss, params, num_probes=3 if args.fast else 10,
                                            lanczos_steps=40 if args.fast else 80)
    n = sum(p.size for p in params.values())
    print(f"   top 5 eigenvalues (Lanczos, {top.hvps} HVPs): " + ", ".join(f"{v:.4f}" for v in top.eigenvalues)
          + f"; largest residual estimate ‖Hv − λv‖ = {np.max(top.residuals):.1e}")
    print(f"   trace (Hutchinson, {trace.hvps} HVPs): {trace.value:.3f} ± {trace.stderr:.3f}; "
          f"SLQ's mean eigenvalue × n = {density.moment(1) * n:.3f}")
    near_zero = float(np.sum(density.weights[np.abs(density.nodes) < 0.05 * top.eigenvalues[0]]))
    print(f"   {near_zero:.0%} of the spectrum's mass lies within 5% of λ_max from 0: a bulk near 0, a few outliers")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "network_curvature.png"
    cm.viz.sharpness(monitors, losses, path=path)
    spectrum_path = args.out / "network_curvature_spectrum.png"
    cm.viz.spectrum(density, top=top.eigenvalues, path=spectrum_path)
    print(f"\npicture: {path}\npicture: {spectrum_path}")


if __name__ == "__main__":
    main()
