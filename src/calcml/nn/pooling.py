"""Max and average pooling over k×k windows of an NCHW batch (stride defaults to k).

max: out = the largest entry of each window; ∂out/∂x = 1 at that entry, 0 elsewhere. On ties the
     first maximal entry of the window (row-major) takes the whole gradient, as in PyTorch.
avg: out = the window mean; ∂out/∂x = 1/(kh·kw) for every entry of the window (padding counts as 0,
     PyTorch's count_include_pad=True).
Both are built on ``unfold`` (windows as a view) and the engine's elementwise and reduction rules, so
overlapping windows accumulate their gradients through ``fold`` and higher derivatives come for free.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.errors import ShapeError
from calcml.nn.module import Module
from calcml.nn.windows import output_size, pair, unfold


def _windows(x, kernel_size, stride, padding, pad_value: float, op: str):
    kernel = pair(kernel_size)
    stride = kernel if stride is None else pair(stride)
    padding = pair(padding)
    shape = np.shape(x)
    if len(shape) < 2 or any(output_size(n, k, s, p) < 1 for n, k, s, p in zip(shape[-2:], kernel, stride, padding)):
        raise ShapeError(f"{op}: a {kernel} window with padding {padding} does not fit an input of shape {shape}.")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}: padding {padding} must be at most half the window {kernel}.")
    return unfold(x, kernel_size=kernel, stride=stride, padding=padding, pad_value=pad_value)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each window of the last two axes; gradient to the first maximal entry."""
    windows = _windows(x, kernel_size, stride, padding, -np.inf, "max_pool2d")
    flat = np.reshape(windows, np.shape(windows)[:-2] + (-1,))
    first_max = np.argmax(flat, axis=-1)[..., None] == np.arange(np.shape(flat)[-1])  # a constant mask
    return np.sum(np.where(first_max, flat, 0.0), axis=-1)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window of the last two axes (zero padding included in the count)."""
    windows = _windows(x, kernel_size, stride, padding, 0.0, "avg_pool2d")
    return np.mean(windows, axis=(-2, -1))


class MaxPool2d(Module):
    """Max pooling; ``MaxPool2d(2)`` halves height and width."""

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Average pooling; ``AvgPool2d(2)`` halves height and width."""

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
