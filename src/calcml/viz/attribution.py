"""Attribution pictures: an input image beside its attribution maps (saliency, gradient × input, SmoothGrad,
integrated gradients ...), each on a diverging scale centred at 0 (red: raises the output, blue: lowers it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from calcml.viz.output import finish, new_figure
from calcml.viz.theme import theme


def attributions(images: Sequence[Any], maps: Mapping[str, Sequence[Any]], *, titles: Sequence[str] | None = None,
                 image_shape: tuple[int, int] | None = None, path: str | Path | None = None) -> Figure:
    """One row per input: the image (grey), then each attribution map named in ``maps`` (one array per input,
    reshaped to ``image_shape``, default the image's own 2-D shape). Each map has its own symmetric colour
    scale ±max|a|, so the signs and the pattern show, not the magnitudes across methods. Image axes have gids
    ``input-<row>`` and map axes ``<name>-<row>``; ``titles`` label the rows.

    >>> x = np.arange(64.0).reshape(8, 8) / 64
    >>> fig = cm.viz.attributions([x], {"saliency": [x - 0.5]})
    >>> [ax.get_gid() for ax in fig.axes if ax.get_gid()]
    ['input-0', 'saliency-0']
    """
    images = [np.asarray(image, dtype=np.float64) for image in images]
    if not images or not maps:
        raise ValueError("attributions: give at least one image and one attribution map.")
    for name, values in maps.items():
        if len(values) != len(images):
            raise ValueError(f"attributions: {name!r} has {len(values)} maps for {len(images)} images.")
    shape = image_shape or (images[0].shape if images[0].ndim == 2 else None)
    if shape is None:
        side = int(round(np.sqrt(images[0].size)))
        if side * side != images[0].size:
            raise ValueError(f"attributions: cannot tell the image shape of {images[0].size} values; "
                             f"pass image_shape=(rows, columns).")
        shape = (side, side)
    columns = 1 + len(maps)
    with theme():
        fig = new_figure(1.9 * columns, 1.9 * len(images) + 0.4)
        grid = fig.subplots(len(images), columns, squeeze=False)
        for row, image in enumerate(images):
            ax = grid[row][0]
            ax.imshow(image.reshape(shape), cmap="gray_r")
            ax.set_gid(f"input-{row}")
            ax.set_title(titles[row] if titles else "input")
            for column, (name, values) in enumerate(maps.items(), start=1):
                a = np.asarray(values[row], dtype=np.float64).reshape(shape)
                scale = float(np.max(np.abs(a))) or 1.0
                bx = grid[row][column]
                bx.imshow(a, cmap="RdBu_r", vmin=-scale, vmax=scale)
                bx.set_gid(f"{name}-{row}")
                bx.set_title(name)
        for ax in fig.axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
    return finish(fig, path)
