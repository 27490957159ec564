"""Sliding windows over the last two axes (im2col) and their transpose (col2im): a linear pair.

    unfold(x)[..., i, j, a, b] = x_pad[..., s·i + a, s·j + b]

Each pixel of x appears in every window that covers it, so the transpose ``fold`` sums, into each
pixel, the entries of all windows that cover it:  ∂L/∂x = fold(∂L/∂windows), and ∂L/∂cols of fold is
unfold again. Both act on the last two axes only, so any leading axes (batch, channels, and the
tangent batch of forward mode) pass through untouched. Convolution and pooling are built on them.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from calcml.autodiff.batching.rules import leading_axes_pass
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.nn.fused import call


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; a pair stays a pair."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    first, second = value
    return int(first), int(second)


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Number of window positions along one axis: ⌊(n + 2p − k)/s⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def pad_last_two(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """x with ``padding`` rows/columns of ``value`` added on both sides of the last two axes."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    height, width = x.shape[-2:]
    shape = x.shape[:-2] + (height + 2 * ph, width + 2 * pw)
    out = np.zeros(shape, dtype=x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
    out[..., ph:ph + height, pw:pw + width] = x  # one copy: np.pad costs 3-4× more on small images
    return out


@primitive(formula=Formula("∂L/∂x = fold(g): each pixel sums the gradients of its windows"))
def unfold(x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), pad_value=0.0):
    """Windows of x: shape (..., H_out, W_out, kh, kw), a strided view (no copy).

    Linear in x:  ∂L/∂x = fold(g), the sum of the gradients of every window a pixel belongs to.
    """
    kh, kw = kernel_size
    sh, sw = stride
    windows = sliding_window_view(pad_last_two(x, padding, pad_value), (kh, kw), axis=(-2, -1))
    return windows[..., ::sh, ::sw, :, :]


@primitive(formula=Formula("∂L/∂cols = unfold(g)"))
def fold(cols, input_size=(1, 1), stride=(1, 1), padding=(0, 0)):
    """The transpose of ``unfold``: out[..., y, x] = Σ over windows covering (y, x) of their entries.

    Linear in cols:  ∂L/∂cols = unfold(g).
    """
    height, width = input_size
    sh, sw = stride
    ph, pw = padding
    h_out, w_out, kh, kw = cols.shape[-4:]
    out = np.zeros(cols.shape[:-4] + (height + 2 * ph, width + 2 * pw), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            out[..., a:a + sh * h_out:sh, b:b + sw * w_out:sw] += cols[..., a, b]
    return out[..., ph:ph + height, pw:pw + width]


unfold.defvjp(lambda g, ans, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), pad_value=0.0:
              call(fold, g, input_size=np.shape(x)[-2:], stride=stride, padding=padding))
unfold.defjvp(lambda t, ans, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), pad_value=0.0:
              unfold.forward(t, kernel_size, stride, padding, 0.0))
fold.defvjp(lambda g, ans, cols, input_size=(1, 1), stride=(1, 1), padding=(0, 0):
            call(unfold, g, kernel_size=np.shape(cols)[-2:], stride=stride, padding=padding))
fold.defjvp(lambda t, ans, cols, input_size=(1, 1), stride=(1, 1), padding=(0, 0):
            fold.forward(t, input_size, stride, padding))
unfold.defvmap(leading_axes_pass)  # both act on the last axes: cm.vmap's batch axis passes through
fold.defvmap(leading_axes_pass)
