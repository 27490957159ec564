"""``Flatten``: (N, d1, d2, …) -> (N, d1·d2·…), the bridge from convolutional to dense layers.
A reshape: its gradient is the output gradient reshaped back."""

from __future__ import annotations

import numpy as np

from calcml.nn.module import Module


def flatten(x, start_axis: int = 1):
    """Merge the axes from ``start_axis`` on into one."""
    shape = np.shape(x)
    return np.reshape(x, shape[:start_axis] + (-1,))


class Flatten(Module):
    """Keeps the batch axis (the first ``start_axis`` axes) and merges the rest."""

    def __init__(self, start_axis: int = 1):
        self.start_axis = start_axis

    def forward(self, x):
        return flatten(x, self.start_axis)
