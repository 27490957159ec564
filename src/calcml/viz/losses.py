"""``losses``: loss functions of one error or margin and their derivatives, jumps drawn as jumps.

A regression loss is a function of the error e = ŷ − y, a classification loss of the margin m = y·ŷ. The
derivative panel is ``cm.grad`` of ``cm.nn.losses`` itself; where a derivative jumps (MAE at 0, hinge at
m = 1) the line is cut, the one-sided limits are open circles and the value calcml's gradient takes at the
point is a filled one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from calcml.nn import losses as nn_losses
from calcml.viz.functions import elementwise_derivative
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import CYCLE, theme


class LossCurve(NamedTuple):
    """One loss as a function of the error or margin, its legend label and where its derivative jumps."""

    label: str
    loss: Callable[[np.ndarray], np.ndarray]
    jumps: tuple[float, ...] = ()


def _regression(loss: Callable) -> Callable:
    return lambda e: loss(e, np.zeros(np.shape(e)), reduction="none")


def _classification(loss: Callable) -> Callable:
    return lambda m: loss(m, np.ones(np.shape(m)), reduction="none")


LOSSES: dict[str, LossCurve] = {
    "mse": LossCurve(r"MSE $e^2$", _regression(nn_losses.mse)),
    "mae": LossCurve(r"MAE $|e|$", _regression(nn_losses.mae), (0.0,)),
    "huber": LossCurve(r"Huber, $\delta = 1$", _regression(nn_losses.huber)),
    "logistic": LossCurve(r"logistic $\log(1 + e^{-m})$", _classification(nn_losses.binary_cross_entropy_with_logits)),
    "hinge": LossCurve(r"hinge $\max(0,\, 1 - m)$", _classification(nn_losses.hinge), (1.0,)),
}


def losses(names: Sequence[str] = ("mse", "huber", "logistic", "hinge"), span: tuple[float, float] = (-3.0, 3.0),
           *, points: int = 601, path: str | Path | None = None) -> Figure:
    """Each loss of ``names`` (keys of ``LOSSES``) against the error or margin, and its derivative by autodiff.

    Lines have gids ``loss-<name>`` and ``slope-<name>`` (NaN at a jump, so no vertical line is drawn); a jump
    adds ``limits-<name>`` (open circles: the slopes just left and right) and ``at-jump-<name>`` (filled: the
    value ``cm.grad`` gives at the point). Both panels have a legend.

    >>> fig = cm.viz.losses(["mse", "hinge"])
    >>> [line.get_gid() for line in fig.axes[1].lines][:3]
    ['slope-mse', 'slope-hinge', 'limits-hinge']
    """
    unknown = [name for name in names if name not in LOSSES]
    if unknown:
        raise ValueError(f"unknown loss {unknown[0]!r}; choose from {', '.join(LOSSES)}.")
    xs = np.linspace(span[0], span[1], points)
    with theme():
        fig = new_figure(12.0, 4.8)
        ax, bx = fig.subplots(1, 2)
        for i, name in enumerate(names):
            curve, color = LOSSES[name], CYCLE[i % len(CYCLE)]
            ax.plot(xs, np.asarray(curve.loss(xs)), color=color, label=curve.label, gid=f"loss-{name}")
            grid = np.union1d(xs, curve.jumps)
            slope = np.where(np.isin(grid, curve.jumps), np.nan, elementwise_derivative(curve.loss, grid))
            bx.plot(grid, slope, color=color, label=curve.label, gid=f"slope-{name}")  # NaN: cut at the jump
            for jump in curve.jumps:
                sides = elementwise_derivative(curve.loss, np.array([jump - 1e-9, jump + 1e-9]))
                bx.plot([jump, jump], sides, linestyle="none", marker="o", markersize=8, markerfacecolor="white",
                        markeredgecolor=color, markeredgewidth=2, zorder=4, gid=f"limits-{name}",
                        label="one-sided limits" if i == _first_with_jump(names) else None)
                at = float(elementwise_derivative(curve.loss, np.array([jump]))[0]) + 0.0  # −0 shown as 0
                bx.plot([jump], [at], linestyle="none", marker="o", markersize=8, color=color, zorder=5,
                        gid=f"at-jump-{name}", label="cm.grad at the jump" if i == _first_with_jump(names) else None)
        ax.set(title="losses", xlabel="error e = ŷ − y (regression) or margin m = y·ŷ (classification)",
               ylim=(-0.2, 5.0))
        bx.set(title="their derivatives (cm.grad)", xlabel="error e or margin m", ylim=(-3.5, 3.5))
        bx.axhline(0.0, color="gray", linewidth=0.8, zorder=1)
        ax.legend(loc="upper center")
        bx.legend(loc="upper left")
    return finish(fig, path)


def _first_with_jump(names: Sequence[str]) -> int:
    return next((i for i, name in enumerate(names) if LOSSES[name].jumps), -1)
