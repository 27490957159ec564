"""2-D convolution (cross-correlation, as in every deep-learning library), NCHW, with stride and padding.

    out[n, o, i, j] = Σ_{c,a,b} w[o, c, a, b] · x_pad[n, c, s·i + a, s·j + b]   (+ bias[o])

Computed as im2col + one matrix product: the windows of x become the columns of a matrix
(N, C·kh·kw, H_out·W_out) and out = W (O, C·kh·kw) @ cols, already in NCHW order. The columns are built
by kh·kw strided slice copies (one per kernel offset (a, b)), and with a bias they get a last row of ones,
so that the bias rides inside the product: out = [W | b] @ [cols; 1]. The same row makes the weight
gradient's product return the bias gradient too: g @ [cols; 1]ᵀ = [∂L/∂W | ∂L/∂b].

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

from calcml.autodiff.batching.rules import Batched, has_batched, loop
from calcml.autodiff.errors import ShapeError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.tensor import Tensor
from calcml.nn.fused import Residual, call
from calcml.nn.init import initializer
from calcml.nn.module import Module, parameter
from calcml.nn.windows import fold, output_size, pad_last_two, pair


def _columns(x: np.ndarray, kernel_size, stride, padding, ones_row: bool = False
             ) -> tuple[np.ndarray, tuple[int, int]]:
    """im2col: (..., C, H, W) -> (..., C·kh·kw, H_out·W_out), rows ordered (c, a, b) like w.reshape(O, -1):

        cols[..., (c, a, b), (i, j)] = x_pad[..., c, s·i + a, s·j + b]

    filled by one copy per kernel offset (a, b). With ``ones_row`` a last row of ones is added (shape
    (..., C·kh·kw + 1, H_out·W_out)), the bias's column of the product [W | b] @ cols.
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    height, width = x.shape[-2:]
    h_out, w_out = output_size(height, kh, sh, ph), output_size(width, kw, sw, pw)
    lead = x.shape[:-2]  # (..., C)
    rows = lead[-1] * kh * kw
    cols = np.empty(lead[:-1] + (rows + ones_row, h_out * w_out), dtype=x.dtype)
    windows = cols[..., :rows, :].reshape(lead + (kh, kw, h_out * w_out))  # splits axes: a view
    if (sh, sw) == (1, 1) and w_out == width:
        _shifted_copies(x, windows, kernel_size, padding)
    else:
        _strided_copies(x, windows.reshape(lead + (kh, kw, h_out, w_out)), stride, padding)
    if ones_row:
        cols[..., rows, :] = 1
    return cols, (h_out, w_out)


def _strided_copies(x: np.ndarray, windows: np.ndarray, stride, padding) -> None:
    """windows[..., c, a, b, i, j] = x_pad[..., c, s·i + a, s·j + b]: one strided slice of the padded image
    per kernel offset (a, b)."""
    (sh, sw) = stride
    kh, kw, h_out, w_out = windows.shape[-4:]
    padded = pad_last_two(x, padding)
    for a in range(kh):
        for b in range(kw):
            windows[..., a, b, :, :] = padded[..., a:a + sh * (h_out - 1) + 1:sh, b:b + sw * (w_out - 1) + 1:sw]


def _shifted_copies(x: np.ndarray, windows: np.ndarray, kernel_size, padding) -> None:
    """The same columns when the stride is 1 and the output is as wide as the input (2·pw = kw − 1, "same"
    padding across): then output position q = i·W + j reads x[i + a − ph, j + b − pw], which is the
    flattened image at q + (a − ph)·W + (b − pw). Each kernel offset is one contiguous run of the image
    flattened between zero margins (the padding above and below); the entries whose column j + b − pw
    left [0, W) wrapped around into the next row and are set to 0 (they are the padding at the sides).
    """
    (kh, kw), (ph, pw) = kernel_size, padding
    height, width = x.shape[-2:]
    length = windows.shape[-1]  # H_out·W
    margin = ph * width + pw
    flat = np.zeros(x.shape[:-2] + (2 * margin + height * width,), dtype=x.dtype)
    flat[..., margin:margin + height * width] = x.reshape(x.shape[:-2] + (height * width,))
    for a in range(kh):
        for b in range(kw):
            start = a * width + b  # margin + (a − ph)·W + (b − pw)
            windows[..., a, b, :] = flat[..., start:start + length]
    grid = windows.reshape(windows.shape[:-1] + (length // width, width))
    for b in range(kw):
        grid[..., b, :, :max(pw - b, 0)] = 0  # j + b − pw < 0
        grid[..., b, :, width + pw - b:] = 0  # j + b − pw ≥ W


def _weight_matrix(w: np.ndarray) -> np.ndarray:
    """w (O, C, kh, kw) as (O, C·kh·kw); a forward-mode batch (B, O, C, kh, kw) as (B, 1, O, C·kh·kw),
    so that it broadcasts against the image batch axis."""
    matrix = w.reshape(w.shape[:-3] + (-1,))
    return matrix if w.ndim == 4 else matrix[:, None]


class ColumnCache:
    """The im2col matrix of one forward pass, kept for the weight gradient (a residual, as in JAX's
    custom_vjp): the backward pass reuses it instead of building it again.

    The columns are handed out only for the very input array they were built from (``columns_of``, an
    identity test): a rule run on another input (``cm.vmap`` replaying the block one example at a time,
    where the last example's forward pass is the last to fill the cache) builds its own.

    When the columns carry the bias's row of ones, the weight gradient's product also yields the bias
    gradient Σ_{n,i,j} g[n, :, i, j]; ``bias_grad`` keeps it for the bias rule called with the same g.
    """

    __slots__ = ("cols", "source", "bias_grad")

    def __init__(self) -> None:
        self.cols = self.source = None
        self.bias_grad = Residual()

    def keep(self, x: np.ndarray, cols: np.ndarray) -> None:
        """Keep the columns built from the input ``x``."""
        self.source, self.cols = x, cols

    def columns_of(self, x: np.ndarray) -> np.ndarray | None:
        """The columns built from this very array ``x``, else None (never those of another input)."""
        return self.cols if x is self.source and self.cols is not None else None

    def __repr__(self) -> str:
        return "ColumnCache()"


@primitive(formula=Formula("∂L/∂x = conv_input_grad(g, w), ∂L/∂w = conv_weight_grad(x, g), ∂L/∂b = Σ_(n,i,j) g"))
def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None):
    """Cross-correlation of x (N, C, H, W) with w (O, C, kh, kw), plus b (O,) -> (N, O, H_out, W_out).

    ∂L/∂x = conv_input_grad(g, w) (transposed convolution);  ∂L/∂w = conv_weight_grad(x, g);
    ∂L/∂b = Σ_{n,i,j} g[n, :, i, j].
    """
    fold_bias = b is not None and w.ndim == 4  # (a forward-mode batch of weights adds b afterwards)
    cols, (h_out, w_out) = _columns(x, w.shape[-2:], stride, padding, ones_row=fold_bias)
    if cache is not None:
        cache.keep(x, cols)
    matrix = _weight_matrix(w)
    if fold_bias:  # [W | b], in the output's dtype (b is cast to it, as by out += b)
        augmented = np.empty((matrix.shape[0], matrix.shape[1] + 1), dtype=np.result_type(x, w))
        augmented[:, :-1] = matrix
        augmented[:, -1] = b
        matrix = augmented
    out = np.matmul(matrix, cols)  # (..., O, Ho·Wo): NCHW with no transpose
    if b is not None and not fold_bias:
        out += b[:, None]
    return out.reshape(out.shape[:-1] + (h_out, w_out))


def _bias_grad(g, cache: ColumnCache | None = None):
    """Σ over batch and positions of g (N, O, Ho, Wo): taken from the weight gradient's product when it
    was computed there from this same g, else a product with ones (BLAS is 3× faster than sum)."""
    kept = None if cache is None else cache.bias_grad.take(g)
    if kept is not None:
        return kept
    shape = np.shape(g)
    ones = np.ones(shape[-2] * shape[-1], dtype=np.result_type(g))
    return np.sum(np.matmul(np.reshape(g, shape[:-2] + (-1,)), ones), axis=0)


@primitive(formula=Formula("∂L/∂g = conv2d(ḡ, w), ∂L/∂w = conv_weight_grad(ḡ, g)"))
def conv_input_grad(g, w, input_size=(1, 1), stride=(1, 1), padding=(0, 0)):
    """The transposed convolution: ∂⟨g, conv(x, w)⟩/∂x = col2im(Wᵀ @ g), for g (N, O, H_out, W_out).

    Linear in g and in w:  ∂L/∂g = conv2d(ḡ, w),  ∂L/∂w = conv_weight_grad(ḡ, g).
    """
    _, channels, kh, kw = w.shape[-4:]
    h_out, w_out = g.shape[-2:]
    grad_cols = np.matmul(np.swapaxes(_weight_matrix(w), -1, -2), g.reshape(g.shape[:-2] + (-1,)))
    grad_cols = grad_cols.reshape(grad_cols.shape[:-2] + (channels, kh, kw, h_out, w_out))
    return fold.forward(np.moveaxis(grad_cols, (-2, -1), (-4, -3)), input_size, stride, padding)


@primitive(formula=Formula("∂L/∂x = conv_input_grad(g, ḡ), ∂L/∂g = conv2d(x, ḡ)"))
def conv_weight_grad(x, g, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), cache=None):
    """∂⟨g, conv(x, w)⟩/∂w[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j] · x_pad[n, c, s·i + a, s·j + b]:
    the correlation of the input with the output gradient.

    Linear in x and in g:  ∂L/∂x = conv_input_grad(g, ḡ),  ∂L/∂g = conv2d(x, ḡ).
    """
    cols = None if cache is None else cache.columns_of(x)
    if cols is None:
        cols = _columns(x, kernel_size, stride, padding)[0]  # (..., N, K [+ 1], P)
    grad_out = g.reshape(g.shape[:-2] + (-1,))  # (..., N, O, P)
    per_image = np.matmul(cols, np.swapaxes(grad_out, -1, -2))  # (..., N, K [+ 1], O)
    total = np.swapaxes(per_image.sum(axis=-3), -1, -2)  # (..., O, K [+ 1])
    channels = x.shape[-3]
    rows = channels * kernel_size[0] * kernel_size[1]
    if total.shape[-1] > rows:  # the ones row of a bias: its column is Σ_{n,i,j} g, ∂L/∂b
        cache.bias_grad.keep(g, total[..., rows])
        total = total[..., :rows]
    return total.reshape(total.shape[:-1] + (channels,) + tuple(kernel_size))


conv2d.defvjp(
    lambda g, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None:
        call(conv_input_grad, g, w, input_size=np.shape(x)[-2:], stride=stride, padding=padding),
    lambda g, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None:
        call(conv_weight_grad, x, g, kernel_size=np.shape(w)[-2:], stride=stride, padding=padding,
             cache=cache),
    lambda g, ans, x, w, b=None, stride=(1, 1), padding=(0, 0), cache=None: _bias_grad(g, cache),
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



# ---- cm.vmap: each example's images are more images, or a leading batch axis the forwards already carry ----
def _more_images(fn, args: tuple, kwargs: dict, size: int):
    """Only the first argument (images x, or output gradients g) batched: (B, N, ...) is B·N images."""
    physical = args[0].physical
    out = fn(np.reshape(physical, (-1,) + physical.shape[2:]), *args[1:], **kwargs)
    return np.reshape(out, (size, -1) + np.shape(out)[1:])


def _leading(value):
    """A batched value's physical array (batch axis in front), a constant as it is: the forwards broadcast
    a leading axis of either operand against the other."""
    return value.physical if type(value) is Batched else value


def _conv2d_batched(fn, args: tuple, kwargs: dict, size: int):
    """Images per example: more images. Weights or bias per example (an ensemble): the forward's leading
    axis of w, with the bias added afterwards."""
    x, w, b = (tuple(args) + (None, None))[:3]
    if has_batched(tuple(kwargs.values())) or has_batched(tuple(args[3:])):
        return loop(fn, args, kwargs, size)
    if type(w) is not Batched and type(b) is not Batched:
        return _more_images(fn, args, kwargs, size)
    options = {k: v for k, v in kwargs.items() if k != "cache"}
    out = fn(_leading(x), w.physical if type(w) is Batched else w, None, **options)
    if b is None:
        return out
    return out + (b.physical[:, None, :, None, None] if type(b) is Batched else b[:, None, None])


def _conv_input_grad_batched(fn, args: tuple, kwargs: dict, size: int):
    """Output gradients per example: more images; weights per example: their leading axis."""
    g, w = args[:2]
    if type(w) is not Batched:
        return _more_images(fn, args, kwargs, size)
    return fn(_leading(g), w.physical, *args[2:], **kwargs)


def _conv_weight_grad_batched(fn, args: tuple, kwargs: dict, size: int):
    """Σ over each example's own images: both operands keep their leading batch axis (no cached columns)."""
    options = {k: v for k, v in kwargs.items() if k != "cache"}
    return fn(_leading(args[0]), _leading(args[1]), *args[2:], **options)


conv2d.defvmap(_conv2d_batched)
conv_input_grad.defvmap(_conv_input_grad_batched)
conv_weight_grad.defvmap(_conv_weight_grad_batched)

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
