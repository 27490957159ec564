"""``backprop_three_ways``: the gradients of a two-layer network computed by hand, by calcml and by PyTorch, as
images side by side — and their difference, which is rounding (``calcml.apps.backprop_three_ways`` computes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from calcml.viz.output import finish, new_figure
from calcml.viz.theme import themed


@themed
def backprop_three_ways(result: Any, path: str | Path | None = None) -> Figure:
    """∂L/∂W₁ and ∂L/∂W₂ as images, one column per method on a shared colour scale, and a last column with the
    difference between the first and last method (its own scale: rounding, ~1e-16).

    >>> from calcml.apps import backprop_three_ways as bp
    >>> result = bp.three_ways(bp.init_params(), *bp.toy_batch(), use_torch=False)
    >>> fig = cm.viz.backprop_three_ways(result)
    >>> sum(len(ax.images) for ax in fig.axes)
    6
    """
    methods = result.methods
    fig = new_figure(3.4 * (len(methods) + 1), 6.4)
    axes = fig.subplots(2, len(methods) + 1, squeeze=False)
    for row, name in zip(axes, ("W1", "W2")):
        symbol = name[0] + "_" + name[1]
        limit = max(float(np.max(np.abs(result.grads[m][name]))) for m in methods)
        for ax, method in zip(row, methods):
            shown = ax.imshow(result.grads[method][name], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"$\\partial L/\\partial {symbol}$: {method}")
        fig.colorbar(shown, ax=row[:len(methods)].tolist(), shrink=0.8)
        difference = result.grads[methods[0]][name] - result.grads[methods[-1]][name]
        spread = float(np.max(np.abs(difference))) or 1e-16
        shown = row[-1].imshow(difference, cmap="PuOr", vmin=-spread, vmax=spread)
        row[-1].set_title(f"{methods[0]} − {methods[-1]}")
        fig.colorbar(shown, ax=row[-1], shrink=0.8, format="%.0e")
    for ax in axes.ravel():
        ax.set(xticks=[], yticks=[])
    return finish(fig, path)
