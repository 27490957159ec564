"""2-D convolution (cross-correlation, as in every deep-learning library), NCHW, with stride and padding.

    out[n, o, i, j] = Σ_{c,a,b} w[o, c, a, b] · x_pad[n, c, s·i + a, s·j + b]   (+ bias[o])

Computed as im2col + one matrix product: the windows of x become the columns of a matrix
(N, C·kh·kw, H_out·W_out) and out = W (O, C·kh·kw) @ cols, already in NCHW order.

Convolution is bilinear, so all three derivatives are the one trilinear form T(x, w, g) = ⟨g, conv(x, w)⟩
differentiated with respect to each slot:
    conv(x, w)             = ∂T/∂g     the forward pass
    conv_input_grad(g, w)  = ∂T/∂x     a transposed convolution: Wᵀ @ g, then col2im (``fold``)
    conv_weight_grad(x, g) = ∂T/∂w     the correlation of the input with the output gradient
Each is a primitive whose VJPs are the other two, so gradients of gradients work, and whose JVPs are
itself applied to the tangent (bilinear: d conv = conv(dx, w) + conv(x, dw)).
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.errors import ShapeError
from calcml.autodiff.primitive import primitive
from calcml.autodiff.tensor import Tensor
from calcml.nn.fused import call
from calcml.nn.init import initializer
from calcml.nn.module import Module, parameter
from calcml.nn.windows import fold, output_size, pair, unfold


def _columns(x: np.ndarray, kernel_size, stride, padding) -> tuple[np.ndarray, tuple[int, int]]:
    """im2col: (..., C, H, W) -> (..., C·kh·kw, H_out·W_out), rows ordered (c, a, b) like w.reshape(O, -1)."""
    windows = unfold.forward(x, kernel_size, stride, padding)  # (..., C, Ho, Wo, kh, kw), a view
    h_out, w_out = windows.shape[-4:-2]
    cols = np.moveaxis(windows, (-4, -3), (-2, -1))  # (..., C, kh, kw, Ho, Wo)
    return cols.reshape(cols.shape[:-5] + (-1, h_out * w_out)), (h_out, w_out)


def _weight_matrix(w: np.ndarray) -> np.ndarray:
    """w (O, C, kh, kw) as (O, C·kh·kw); a forward-mode batch (B, O, C, kh, kw) as (B, 1, O, C·kh·kw),
    so that it broadcasts against the image batch axis."""
    matrix = w.reshape(w.shape[:-3] + (-1,))
    return matrix if w.ndim == 4 else matrix[:, None]


class ColumnCache:
    """The im2col matrix of one forward pass, kept for the weight gradient (a residual, as in JAX's
    custom_vjp): the backward pass reuses it instead of building it again."""

    __slots__ = ("cols",)

    def __init__(self) -> None:
        self.cols = None

    def __repr__(self) -> str:
        return "ColumnCache()"


@primitive
def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None):
    """Cross-correlation of x (N, C, H, W) with w (O, C, kh, kw), plus b (O,) -> (N, O, H_out, W_out).

    ∂L/∂x = conv_input_grad(g, w) (transposed convolution);  ∂L/∂w = conv_weight_grad(x, g);
    ∂L/∂b = Σ_{n,i,j} g[n, :, i, j].
    """
    cols, (h_out, w_out) = _columns(x, w.shape[-2:], stride, padding)
    if cache is not None:
        cache.cols = cols
    out = np.matmul(_weight_matrix(w), cols)  # (..., O, Ho·Wo): NCHW with no transpose
    if b is not None:
        out += b[:, None]
    return out.reshape(out.shape[:-1] + (h_out, w_out))


def _bias_grad(g):
    """Σ over batch and positions of g (N, O, Ho, Wo), as a product with ones (BLAS is 3× faster than sum)."""
    shape = np.shape(g)
    ones = np.ones(shape[-2] * shape[-1], dtype=np.result_type(g))
    return np.sum(np.matmul(np.reshape(g, shape[:-2] + (-1,)), ones), axis=0)


@primitive
def conv_input_grad(g, w, input_size=(1, 1), stride=(1, 1), padding=(0, 0)):
    """The transposed convolution: ∂⟨g, conv(x, w)⟩/∂x = col2im(Wᵀ @ g), for g (N, O, H_out, W_out).

    Linear in g and in w:  ∂L/∂g = conv2d(ḡ, w),  ∂L/∂w = conv_weight_grad(ḡ, g).
    """
    _, channels, kh, kw = w.shape[-4:]
    h_out, w_out = g.shape[-2:]
    grad_cols = np.matmul(np.swapaxes(_weight_matrix(w), -1, -2), g.reshape(g.shape[:-2] + (-1,)))
    grad_cols = grad_cols.reshape(grad_cols.shape[:-2] + (channels, kh, kw, h_out, w_out))
    return fold.forward(np.moveaxis(grad_cols, (-2, -1), (-4, -3)), input_size, stride, padding)


@primitive
def conv_weight_grad(x, g, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), cache=None):
    """∂⟨g, conv(x, w)⟩/∂w[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j] · x_pad[n, c, s·i + a, s·j + b]:
    the correlation of the input with the output gradient.

    Linear in x and in g:  ∂L/∂x = conv_input_grad(g, ḡ),  ∂L/∂g = conv2d(x, ḡ).
    """
    cached = cache is not None and cache.cols is not None
    cols = cache.cols if cached else _columns(x, kernel_size, stride, padding)[0]  # (..., N, K, P)
    grad_out = g.reshape(g.shape[:-2] + (-1,))  # (..., N, O, P)
    per_image = np.matmul(cols, np.swapaxes(grad_out, -1, -2))  # (..., N, K, O)
    total = np.swapaxes(per_image.sum(axis=-3), -1, -2)  # (..., O, K)
    channels = x.shape[-3]
    return total.reshape(total.shape[:-1] + (channels,) + tuple(kernel_size))


conv2d.defvjp(
    lambda g, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None:
        call(conv_input_grad, g, w, input_size=np.shape(x)[-2:], stride=stride, padding=padding),
    lambda g, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None:
        call(conv_weight_grad, x, g, kernel_size=np.shape(w)[-2:], stride=stride, padding=padding,
             cache=cache),
    lambda g, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None: _bias_grad(g),
)
conv2d.defjvp(
    lambda t, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None:
        conv2d.forward(t, w, None, stride, padding),
    lambda t, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None:
        conv2d.forward(x, t, None, stride, padding),
    lambda t, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None: t[:, None, :, None, None],
)
conv_input_grad.defvjp(
    lambda gbar, ans, g, w, input_size=(1, 1), stride=(1, 1), padding=(0, 0):
        call(conv2d, gbar, w, None, stride=stride, padding=padding),
    lambda gbar, ans, g, w, input_size=(1, 1), stride=(1, 1), padding=(0, 0):
        call(conv_weight_grad, gbar, g, kernel_size=np.shape(w)[-2:], stride=stride, padding=padding),
)
conv_input_grad.defjvp(
    lambda t, ans, g, w, input_size=(1, 1), stride=(1, 1), padding=(0, 0):
        conv_input_grad.forward(t, w, input_size, stride, padding),
    lambda t, ans, g, w, input_size=(1, 1), stride=(1, 1), padding=(0, 0):
        conv_input_grad.forward(g, t, input_size, stride, padding),
)
conv_weight_grad.defvjp(
    lambda wbar, ans, x, g, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), cache=None:
        call(conv_input_grad, g, wbar, input_size=np.shape(x)[-2:], stride=stride, padding=padding),
    lambda wbar, ans, x, g, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), cache=None:
        call(conv2d, x, wbar, None, stride=stride, padding=padding),
)
conv_weight_grad.defjvp(
    lambda t, ans, x, g, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), cache=None:
        conv_weight_grad.forward(t, g, kernel_size, stride, padding),
    lambda t, ans, x, g, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), cache=None:
        conv_weight_grad.forward(x, t, kernel_size, stride, padding),
)


def convolve2d(x, weight, bias=None, stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0):
    """Functional 2-D convolution: x (N, C, H, W), weight (O, C, kh, kw), bias (O,) or None.

    >>> convolve2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))).shape
    (1, 1, 2, 2)
    """
    stride, padding = pair(stride), pair(padding)
    x_shape, w_shape = np.shape(x), np.shape(weight)
    if len(x_shape) != 4 or len(w_shape) != 4 or x_shape[1] != w_shape[1]:
        raise ShapeError(
            f"conv2d needs x of shape (N, C, H, W) and weight (O, C, kh, kw) with the same C; got x "
            f"{x_shape} and weight {w_shape}.\n  a single image needs a batch axis: x[None]."
        )
    sizes = [output_size(n, k, s, p) for n, k, s, p in zip(x_shape[2:], w_shape[2:], stride, padding)]
    if min(sizes) < 1:
        raise ShapeError(
            f"conv2d: a {w_shape[2]}×{w_shape[3]} kernel does not fit the {x_shape[2]}×{x_shape[3]} image "
            f"with padding {padding}; pad more or use a smaller kernel."
        )
    return conv2d(x, weight, bias, stride=stride, padding=padding, cache=ColumnCache())


class Conv2d(Module):
    """2-D convolution layer, NCHW: weight (out_channels, in_channels, kh, kw) — PyTorch's layout — and
    bias (out_channels,). Initialized by ``init`` (He-uniform by default: Var(W) = 2/fan_in for ReLU)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True,
                 init: str = "he_uniform", rng=None, dtype=np.float32):
        kh, kw = pair(kernel_size)
        self.stride, self.padding = pair(stride), pair(padding)
        self.weight = parameter(initializer(init)((out_channels, in_channels, kh, kw), rng=rng, dtype=dtype),
                                "weight")
        self.bias = parameter(np.zeros(out_channels, dtype=dtype), "bias") if bias else None

    def forward(self, x) -> Tensor:
        return convolve2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        out_channels, in_channels, kh, kw = self.weight.shape
        return f"{in_channels}, {out_channels}, kernel_size=({kh}, {kw}), stride={self.stride}, padding={self.padding}"
