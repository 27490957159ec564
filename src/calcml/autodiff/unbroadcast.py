"""Undo broadcasting — the one place the engine does it.

If x of shape (3,) was broadcast against (2, 3), each x_j was used twice, so by the chain rule
∂L/∂x_j = Σ_i ∂L/∂out_ij: sum the gradient over the axes broadcasting added or stretched.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def unbroadcast(gradient: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``gradient`` down to ``shape`` (works on arrays and on traced Tensors).

    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> unbroadcast(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    extra = gradient.ndim - len(shape)  # gradients are arrays or Tensors: both know their shape
    if extra > 0:  # np.add.reduce is np.sum without its Python wrapper (and it is traced on Tensors too)
        gradient = np.add.reduce(gradient, axis=0 if extra == 1 else tuple(range(extra)))
        if gradient.shape == shape:  # a bias: (batch, n) summed to (n,)
            return gradient
    stretched = tuple([i for i, n in enumerate(shape) if n == 1 and gradient.shape[i] != 1])
    if stretched:
        gradient = np.add.reduce(gradient, axis=stretched, keepdims=True)
    if gradient.shape != shape:  # e.g. a scalar gradient for a broadcast 0-d input
        gradient = np.broadcast_to(gradient, shape)
    return gradient
