"""``cnn_filters``: a convolutional layer's filters (or their gradients) as small images, one grid per panel
(``calcml.apps.cnn_digits`` trains the network and measures the gradients)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from calcml.viz.output import finish
from calcml.viz.theme import themed


@themed
def cnn_filters(panels: Mapping[str, np.ndarray], path: str | Path | None = None, columns: int = 8) -> Figure:
    """One grid per panel, one image per filter (a (filters, kh, kw) stack each), in a diverging colormap
    centred on 0 with a colour scale shared within the panel.

    >>> fig = cm.viz.cnn_filters({"three filters": np.ones((3, 5, 5))})
    >>> sum(len(ax.images) for ax in fig.axes)
    3
    """
    count = max(len(stack) for stack in panels.values())
    rows = -(-count // columns)
    grid_cols = 2 if len(panels) > 1 else 1
    grid_rows = -(-len(panels) // grid_cols)
    fig = Figure(figsize=(grid_cols * columns * 0.75 + 0.8, grid_rows * (rows * 0.75 + 0.8)))
    subfigs = fig.subfigures(grid_rows, grid_cols, squeeze=False).ravel()
    margins = {"left": 0.02, "right": 0.8, "bottom": 0.03, "top": 1 - 0.45 / (rows * 0.75 + 0.8),
               "wspace": 0.1, "hspace": 0.1}  # fixed margins: a layout engine is slow with this many axes
    for subfig, (title, stack) in zip(subfigs, panels.items()):
        limit = float(np.max(np.abs(stack))) or 1.0
        axes = subfig.subplots(rows, columns, squeeze=False, gridspec_kw=margins).ravel()
        for ax in axes:
            ax.set_axis_off()
        for ax, image in zip(axes, stack):
            shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        subfig.colorbar(shown, cax=subfig.add_axes((0.83, 0.1, 0.025, margins["top"] - 0.15)))
        subfig.suptitle(title)
    return finish(fig, path)
