"""Curvature pictures: λ_max during training against the stability edge 2/η, the Hessian's eigenvalue density,
and how fast minimizers converge (log scale), from cm.curvature's results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from calcml.viz.output import finish, new_figure
from calcml.viz.theme import optimizer_style, theme

OPTIMIZER_OF_METHOD = {"gradient descent": "gd", "newton-cg": "newton"}  # drawn as in every race


def sharpness(runs: Mapping[float, Any], losses: Mapping[float, Sequence[float]] | None = None, *,
              path: str | Path | None = None) -> Figure:
    """λ_max of the loss's Hessian per step for each learning rate η (a ``SharpnessMonitor`` per η, keyed by η),
    with the edge 2/η dashed in the same colour: gradient descent on a quadratic is stable only below it. With
    ``losses`` (the per-step training loss per η) a second panel shows the loss, log scale. Lines have gids
    ``lambda-max-<η>``, ``edge-<η>`` and ``loss-<η>``.

    >>> class Monitor: steps, values = [0, 10, 20], [1.0, 1.8, 2.05]
    >>> fig = cm.viz.sharpness({1.0: Monitor()})
    >>> [line.get_gid() for line in fig.axes[0].lines]
    ['lambda-max-1', 'edge-1']
    """
    if not runs:
        raise ValueError("sharpness: give at least one learning rate's SharpnessMonitor.")
    with theme():
        fig = new_figure(11.0 if losses else 6.5, 4.2)
        axes = fig.subplots(1, 2) if losses else [fig.add_subplot()]
        ax = axes[0]
        for i, (lr, monitor) in enumerate(sorted(runs.items())):
            colour = f"C{i}"
            ax.plot(monitor.steps, monitor.values, marker=".", color=colour, label=f"λ_max, η = {lr:.3g}",
                    gid=f"lambda-max-{lr:g}")
            ax.axhline(2 / lr, linestyle="--", color=colour, linewidth=1, label=f"2/η = {2 / lr:.3g}",
                       gid=f"edge-{lr:g}")
        ax.set_xlabel("step")
        ax.set_ylabel("λ_max of ∇²L")
        ax.set_title("sharpness rises to the edge of stability 2/η")
        ax.legend(loc="lower right", ncols=2 if len(runs) > 2 else 1)
        if losses:
            bx = axes[1]
            for i, (lr, values) in enumerate(sorted(losses.items())):
                bx.semilogy(np.arange(len(values)), values, color=f"C{i}", linewidth=1, label=f"η = {lr:.3g}",
                            gid=f"loss-{lr:g}")
            bx.set_xlabel("step")
            bx.set_ylabel("training loss")
            bx.set_title("the loss keeps falling, not monotonically")
            bx.legend()
    return finish(fig, path)


def spectrum(density: Any, top: Sequence[float] | None = None, *, path: str | Path | None = None) -> Figure:
    """A ``SpectralDensity`` (stochastic Lanczos quadrature) as a curve on a log scale (the bulk near 0 and the
    few large outliers are orders of magnitude apart), with the ``top`` eigenvalues (e.g. from
    ``hessian_eigs``) marked as vertical lines. The curve has gid ``density``, the marks ``eigenvalue-<i>``.

    >>> d = cm.curvature.spectral_density(lambda w: np.sum(np.arange(1.0, 6.0) * w ** 2) / 2, np.zeros(5))
    >>> fig = cm.viz.spectrum(d, top=[5.0, 4.0])
    >>> [line.get_gid() for line in fig.axes[0].lines]
    ['density', 'eigenvalue-0', 'eigenvalue-1']
    """
    with theme():
        fig = new_figure(6.5, 4.2)
        ax = fig.add_subplot()
        floor = 1e-8 * float(np.max(density.density))
        ax.semilogy(density.grid, np.maximum(density.density, floor), linewidth=1.2, gid="density",
                    label=f"SLQ density ({density.hvps} HVPs, σ = {density.sigma:.2g})")
        for i, value in enumerate([] if top is None else top):
            ax.axvline(value, color="C1", linestyle=":", linewidth=1, gid=f"eigenvalue-{i}",
                       label="top eigenvalues (Lanczos)" if i == 0 else None)
        ax.set_ylim(bottom=floor)
        ax.set_xlabel("eigenvalue λ of ∇²L")
        ax.set_ylabel("density φ(λ)")
        ax.set_title("the Hessian's spectrum: a bulk near 0 and a few outliers")
        ax.legend()
    return finish(fig, path)


def convergence(runs: Sequence[Any], *, minimum: float | None = None, path: str | Path | None = None) -> Figure:
    """Each ``SolverRun`` (Newton–CG, Gauss–Newton, gradient descent ...) as the loss gap L(θ_k) − L* and the
    gradient norm ‖∇L(θ_k)‖ per iteration, both on log scales. L* is ``minimum`` (default: the lowest loss any
    run reached, so that run's last gap is not drawn). Lines have gids ``gap-<method>`` and ``grad-<method>``.

    >>> gd = cm.curvature.gradient_descent(lambda w: (w[0] ** 2 + 4 * w[1] ** 2) / 2, np.ones(2), lr=0.4)
    >>> fig = cm.viz.convergence([gd], minimum=0.0)
    >>> [line.get_gid() for ax in fig.axes for line in ax.lines]
    ['gap-gradient descent', 'grad-gradient descent']
    """
    if not runs:
        raise ValueError("convergence: give at least one SolverRun.")
    best = min(float(np.min(run.losses)) for run in runs) if minimum is None else minimum
    with theme():
        fig = new_figure(11.0, 4.2)
        ax, bx = fig.subplots(1, 2)
        for i, run in enumerate(runs):
            gap = np.asarray(run.losses) - best
            steps = np.arange(len(gap))
            look = optimizer_style(OPTIMIZER_OF_METHOD.get(run.method, run.method), i).plot_kwargs()
            if run.iterations >= 50:
                look["marker"] = None
            label = f"{run.method} ({run.iterations} iterations)"
            ax.semilogy(steps, np.where(gap > 0, gap, np.nan), label=label, gid=f"gap-{run.method}", **look)
            bx.semilogy(steps, run.grad_norms, label=label, gid=f"grad-{run.method}", **look)
        ax.set_ylabel("L(θ_k) − L*")
        bx.set_ylabel("‖∇L(θ_k)‖")
        for axis in (ax, bx):
            axis.set_xlabel("iteration k")
            axis.legend()
        ax.set_title("loss above its minimum")
        bx.set_title("gradient norm")
    return finish(fig, path)
