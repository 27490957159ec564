"""``rnn_gradients``: gradients through time in a recurrent network — vanishing, exploding, and clipping
(``calcml.apps.rnn_dynamics`` measures them and trains the runs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from calcml.viz.output import finish, new_figure
from calcml.viz.theme import themed


@themed
def rnn_gradients(linear: Sequence[Any], saturated: Sequence[Any], runs: Sequence[Any],
                  path: str | Path | None = None) -> Figure:
    """Four panels: ‖∂L/∂h_t‖ against t in the linear range, with the prediction ρ^(T−t) dotted in black over
    each measured line (gid ``reference-<ρ>``; named in the legend), and with unit inputs; the training loss of
    each run; each run's gradient norm and update norm per step, with the bound lr·c that clipping puts on the
    update (gid ``bound-<i>``).

    ``linear`` and ``saturated`` are ``rnn_dynamics.through_time_study`` results, ``runs`` the
    ``rnn_dynamics.train_next_value`` runs.
    """
    fig = new_figure(13.0, 9.0)
    (small, unit), (losses, sizes) = fig.subplots(2, 2)
    for ax, studies, title in ((small, linear, "inputs of size 1e-6: tanh in its linear range"),
                               (unit, saturated, "inputs of size 1: tanh saturates")):
        for study in studies:
            t = np.arange(1, len(study.norms) + 1)
            line, = ax.semilogy(t, study.norms, label=f"ρ = {study.radius:.2g} (rate {study.rate:.3f})")
            if ax is small:
                ax.semilogy(t, study.norms[-1] * study.radius ** (len(t) - t), linestyle=":", linewidth=1.6,
                            color="black", zorder=3, gid=f"reference-{study.radius:g}")  # on its measured line
        ax.set(title=title, xlabel="time step t", ylabel=r"$\|\partial L/\partial h_t\|$  (L at the last step)")
        handles = ax.get_legend_handles_labels()[0]
        if ax is small:
            handles.append(Line2D([], [], color="black", linestyle=":", linewidth=1.6,
                                  label=r"dotted: $\rho^{T-t}$, the linear prediction"))
        ax.legend(handles=handles)

    for i, run in enumerate(runs):
        label = f"ρ = {run.radius:g}, " + ("no clipping" if run.max_norm is None else f"clipped at {run.max_norm:g}")
        style = "-" if run.max_norm is None else "--"
        end = "" if run.diverged_at is None else f" (diverged at step {run.diverged_at})"
        losses.semilogy(run.loss, style, color=f"C{i}", label=label + end)
        sizes.semilogy(run.grad_norm, style, color=f"C{i}", label="‖∇θ‖, " + label)
        if run.max_norm is not None:
            sizes.semilogy(run.update_norm, ":", color=f"C{i}", label="‖Δθ‖, " + label)
            sizes.axhline(run.lr * run.max_norm, color="black", linestyle="-.", linewidth=1.4, gid=f"bound-{i}",
                          label=f"bound lr·c = {run.lr * run.max_norm:g} on ‖Δθ‖")
    losses.set(title=f"training (SGD, lr {runs[0].lr:g}) on a noisy sine", xlabel="step", ylabel="loss (MSE)")
    sizes.set(title="gradient norm before clipping, and update norm", xlabel="step")
    losses.legend()
    sizes.legend()
    return finish(fig, path)
