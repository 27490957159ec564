"""Convolution as a discrete integral, and the gradient of a filter derived by hand.

The continuous convolution of two functions is an integral,

    (f ∗ g)(t) = ∫ f(τ) g(t − τ) dτ,

and on a grid τ_k = k·h it becomes a sum: a quadrature rule applied to the integrand,

    (f ∗ g)(t_n) ≈ h · Σ_k f(τ_k) g(t_n − τ_k) = h · (f_h ∗ g_h)[n]      (the discrete convolution).

For a Gaussian f and a box g = 1 on [−a, a] the exact result is ½[erf((t+a)/σ√2) − erf((t−a)/σ√2)]. The sum
is the trapezoidal rule of ∫_{t−a}^{t+a} f when the box's two edge samples weigh ½ (error O(h²)), and a
Riemann sum with error O(h) when they weigh 1: ``convergence_study`` measures both orders.

Deep learning's "convolution" is a cross-correlation (no flip), with stride s and zero padding p:

    y[i] = Σ_a w[a] · x_p[s·i + a]                       (x_p: x padded with p zeros on each side)

so for a loss L with output gradient g = ∂L/∂y, by the chain rule (y is linear in w and in x):

    ∂L/∂w[a]         = Σ_i g[i] · x_p[s·i + a]           the input correlated with the output gradient
    ∂L/∂x_p[s·i + a] += g[i] · w[a]                      a true (flipped) convolution of g with w:
                                                         the "transposed convolution"

and in 2-D, with batch n, input channel c and output channel o,
    ∂L/∂w[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j] · x_p[n, c, s·i + a, s·j + b].
``filter_grad1d``/``filter_grad2d`` and ``input_grad1d``/``input_grad2d`` compute these sums directly; the tests
check them against calcml's engine to 1e-12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calcml.autodiff.errors import ShapeError
from calcml.nn.windows import output_size, pair


# ---- discrete convolution, as a sum -------------------------------------------------------------
def convolve1d(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Full discrete convolution (f ∗ g)[n] = Σ_k f[k] g[n − k], length len(f) + len(g) − 1 (np.convolve).

    Written as the sum over the kernel's entries: each g[k] adds a copy of f shifted by k.
    """
    f, g = np.asarray(f, dtype=float), np.asarray(g, dtype=float)
    out = np.zeros(len(f) + len(g) - 1)
    for k, weight in enumerate(g):
        out[k:k + len(f)] += weight * f
    return out


def convolve2d_full(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Full 2-D discrete convolution (f ∗ g)[m, n] = Σ_{k,l} f[k, l] g[m − k, n − l]
    (scipy.signal.convolve2d's "full" mode), as the sum of shifted copies of f, one per kernel entry."""
    f, g = np.asarray(f, dtype=float), np.asarray(g, dtype=float)
    out = np.zeros((f.shape[0] + g.shape[0] - 1, f.shape[1] + g.shape[1] - 1))
    for (k, l), weight in np.ndenumerate(g):
        if weight:
            out[k:k + f.shape[0], l:l + f.shape[1]] += weight * f
    return out


# ---- the continuous example: Gaussian ∗ box -----------------------------------------------------
def gaussian(t: np.ndarray, sigma: float) -> np.ndarray:
    """The normal density N(0, σ²) at t."""
    return np.exp(-0.5 * (np.asarray(t) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def gaussian_box_exact(t: np.ndarray, sigma: float, half_width: float) -> np.ndarray:
    """(N(0, σ²) ∗ 1_{[−a, a]})(t) = ∫_{t−a}^{t+a} N(τ) dτ = ½[erf((t + a)/σ√2) − erf((t − a)/σ√2)]."""
    erf = np.vectorize(math.erf, otypes=[float])
    scale = sigma * math.sqrt(2.0)
    t = np.asarray(t, dtype=float)
    return 0.5 * (erf((t + half_width) / scale) - erf((t - half_width) / scale))


def box_samples(h: float, half_width: float, edges: str = "trapezoid") -> np.ndarray:
    """The box 1_{[−a, a]} on the grid −a, −a + h, …, a (a must be a multiple of h). Its two edge samples
    weigh ½ for ``edges="trapezoid"`` (the trapezoidal rule) and 1 for ``edges="riemann"``."""
    half = round(half_width / h)
    if half < 1 or not math.isclose(half * h, half_width, rel_tol=1e-9):
        raise ValueError(f"box_samples: the half-width {half_width} must be a positive multiple of h = {h}.")
    if edges not in ("trapezoid", "riemann"):
        raise ValueError(f"box_samples: edges must be 'trapezoid' or 'riemann', not {edges!r}.")
    box = np.ones(2 * half + 1)
    if edges == "trapezoid":
        box[0] = box[-1] = 0.5
    return box


@dataclass(frozen=True)
class DiscreteConvolution:
    """h · (f_h ∗ g_h) on its grid ``t``, with the exact continuous result there and the largest error."""

    h: float
    t: np.ndarray
    discrete: np.ndarray
    exact: np.ndarray

    @property
    def max_error(self) -> float:
        return float(np.max(np.abs(self.discrete - self.exact)))


def gaussian_box_1d(h: float, sigma: float = 0.5, half_width: float = 1.0, extent: float = 4.0,
                    edges: str = "trapezoid") -> DiscreteConvolution:
    """Sample N(0, σ²) on [−extent, extent] and the box on [−a, a] with spacing h; convolve them as a sum
    and scale by h. The grid of the result is t_n = −(extent + a) + n·h. (Keep extent ≥ 8σ: the Gaussian's
    tail beyond it, ~1e-15, is the only error besides the quadrature rule's.)"""
    k = round(extent / h)
    tau = np.arange(-k, k + 1) * h
    box = box_samples(h, half_width, edges)
    discrete = h * convolve1d(gaussian(tau, sigma), box)
    t = (np.arange(len(discrete)) - k - (len(box) - 1) // 2) * h
    return DiscreteConvolution(h, t, discrete, gaussian_box_exact(t, sigma, half_width))


def gaussian_box_2d(h: float, sigma: float = 0.5, half_width: float = 1.0, extent: float = 4.0,
                    edges: str = "trapezoid") -> DiscreteConvolution:
    """The 2-D version: N(0, σ²I) ∗ 1_{[−a, a]²} computed as the double sum h² Σ_{k,l} f[k, l] g[m−k, n−l].
    Exact: the product of the 1-D results in x and y (both functions are separable; the sum does not use
    that). ``t`` holds the 1-D grid of each axis."""
    k = round(extent / h)
    tau = np.arange(-k, k + 1) * h
    f = np.outer(gaussian(tau, sigma), gaussian(tau, sigma))
    box1 = box_samples(h, half_width, edges)
    discrete = h * h * convolve2d_full(f, np.outer(box1, box1))
    t = (np.arange(discrete.shape[0]) - k - (len(box1) - 1) // 2) * h
    exact1 = gaussian_box_exact(t, sigma, half_width)
    return DiscreteConvolution(h, t, discrete, np.outer(exact1, exact1))


@dataclass(frozen=True)
class ConvergenceStudy:
    """Largest error of the discrete convolution for each grid spacing ``h`` (halved each time), per edge rule,
    and the observed orders p = log₂(e(h) / e(h/2))."""

    h: np.ndarray
    errors: dict[str, np.ndarray]

    def orders(self, edges: str) -> np.ndarray:
        e = self.errors[edges]
        return np.log(e[:-1] / e[1:]) / np.log(self.h[:-1] / self.h[1:])

    def __str__(self) -> str:
        lines = ["        h   " + "".join(f"{name:>14} error  order" for name in self.errors)]
        for i, h in enumerate(self.h):
            row = f"{h:9.5f}   "
            for name, e in self.errors.items():
                order = f"{self.orders(name)[i - 1]:6.2f}" if i else "     —"
                row += f"{e[i]:20.3e} {order}"
            lines.append(row)
        return "\n".join(lines)


def convergence_study(hs=(0.2, 0.1, 0.05, 0.025, 0.0125), dims: int = 1, sigma: float = 0.5,
                      half_width: float = 1.0, extent: float = 4.0) -> ConvergenceStudy:
    """Errors of the 1-D (``dims=1``) or 2-D Gaussian ∗ box sums against the closed form, for each spacing in
    ``hs``, with the trapezoid and the Riemann edge rule: expect orders 2 and 1."""
    make = {1: gaussian_box_1d, 2: gaussian_box_2d}[dims]
    errors = {edges: np.array([make(h, sigma, half_width, extent, edges).max_error for h in hs])
              for edges in ("trapezoid", "riemann")}
    return ConvergenceStudy(np.asarray(hs, dtype=float), errors)


# ---- the deep-learning convolution (a correlation) and its gradients by hand --------------------
def _strided(start: int, count: int, stride: int) -> slice:
    """Positions start, start + s, …, start + s·(count − 1)."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def correlate1d(x, w, stride: int = 1, padding: int = 0):
    """y[i] = Σ_a w[a] · x_p[s·i + a]: deep learning's 1-D convolution of a signal x (L,) with a filter w (k,).

    Plain NumPy on purpose (np.pad, slicing, products, sums): on calcml Tensors it is traced, so the engine
    differentiates exactly this sum.

    >>> correlate1d(np.arange(5.0), np.array([1.0, -1.0]))
    array([-1., -1., -1., -1.])
    """
    length, size = np.shape(x)[-1], np.shape(w)[-1]
    count = output_size(length, size, stride, padding)
    if count < 1:
        raise ShapeError(f"correlate1d: a filter of {size} does not fit a signal of {length} with padding {padding}.")
    x_p = np.pad(x, (padding, padding))
    return sum(w[a] * x_p[_strided(a, count, stride)] for a in range(size))


def filter_grad1d(x: np.ndarray, g: np.ndarray, size: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """∂L/∂w[a] = Σ_i g[i] · x_p[s·i + a]: the input correlated with the output gradient g = ∂L/∂y."""
    x_p = np.pad(np.asarray(x, dtype=float), (padding, padding))
    return np.array([np.dot(g, x_p[_strided(a, len(g), stride)]) for a in range(size)])


def input_grad1d(g: np.ndarray, w: np.ndarray, length: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """∂L/∂x: every output i sends g[i]·w[a] back to the input x_p[s·i + a] it read (then the padding is cut).
    For stride 1 this is the full true convolution g ∗ w, cropped: the filter comes back flipped."""
    grad_p = np.zeros(length + 2 * padding)
    for a, weight in enumerate(w):
        grad_p[_strided(a, len(g), stride)] += weight * np.asarray(g)
    return grad_p[padding:padding + length]


def filter_grad2d(x: np.ndarray, g: np.ndarray, kernel_size, stride=1, padding=0) -> np.ndarray:
    """∂L/∂w[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j] · x_p[n, c, s·i + a, s·j + b] for x (N, C, H, W) and the
    output gradient g (N, O, H_out, W_out); one correlation of input and gradient per filter tap (a, b)."""
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(padding)
    x_p = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    h_out, w_out = np.shape(g)[-2:]
    grad = np.empty((np.shape(g)[1], x_p.shape[1], kh, kw))
    for a in range(kh):
        for b in range(kw):
            window = x_p[:, :, _strided(a, h_out, sh), _strided(b, w_out, sw)]
            grad[:, :, a, b] = np.einsum("noij,ncij->oc", g, window)
    return grad


def input_grad2d(g: np.ndarray, w: np.ndarray, input_size, stride=1, padding=0) -> np.ndarray:
    """∂L/∂x[n, c] for x (N, C, H, W): each tap (a, b) of each filter sends Σ_o g[n, o, i, j]·w[o, c, a, b]
    back to the input position x_p[n, c, s·i + a, s·j + b] it read (the transposed convolution)."""
    (height, width), (sh, sw), (ph, pw) = pair(input_size), pair(stride), pair(padding)
    n, _, h_out, w_out = np.shape(g)
    _, channels, kh, kw = np.shape(w)
    grad_p = np.zeros((n, channels, height + 2 * ph, width + 2 * pw))
    for a in range(kh):
        for b in range(kw):
            grad_p[:, :, _strided(a, h_out, sh), _strided(b, w_out, sw)] += np.einsum("noij,oc->ncij", g, w[:, :, a, b])
    return grad_p[:, :, ph:ph + height, pw:pw + width]
