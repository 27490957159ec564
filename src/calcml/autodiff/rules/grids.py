"""Functions sampled on grids: linspace/logspace and meshgrid with traced ends, trapezoid, interp.

All are written with the engine's own operations (arithmetic, reshape, broadcast, indexing), so the
grid's ends, the samples and the sample points are all differentiable, in both modes and to any order:

- linspace: x_k = start + k·(stop − start)/div, so ∂x_k/∂start = 1 − k/div and ∂x_k/∂stop = k/div;
- trapezoid: Σ_k (x_{k+1} − x_k)(y_k + y_{k+1})/2, bilinear in the samples y and the spacings;
- interp: on the segment [x_j, x_{j+1}] around x, f = f_j + (f_{j+1} − f_j)(x − x_j)/(x_{j+1} − x_j),
  with the segment j found by np.searchsorted on the Tensors (it is locally constant; under cm.vmap it is
  recorded per example).
"""

from __future__ import annotations

import operator

import numpy as np

from calcml.autodiff.dispatch import implements, unwrapped
from calcml.autodiff.errors import OperationError, ShapeError
from calcml.autodiff.rules.indexing import index_along
from calcml.autodiff.rules.refusals import piecewise_constant
from calcml.autodiff.tensor import Tensor, as_float_array


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """np.linspace with traced ``start``/``stop`` (scalars or arrays; the samples run along ``axis``).

    The values are NumPy's (k·step + start, with the last one exactly ``stop`` when ``endpoint``).
    """
    num = operator.index(num)
    if num < 0:
        raise OperationError(f"linspace: the number of samples must be non-negative, got {num}.")
    div = num - 1 if endpoint else num
    delta = np.subtract(stop, start)
    dtype = np.result_type(unwrapped(start), unwrapped(stop), float(num))  # NumPy's: float32 ends stay float32
    steps = np.reshape(np.arange(num, dtype=dtype), (-1,) + (1,) * np.ndim(delta))
    step = delta / div if div > 0 else np.nan * delta
    samples = (steps * step if div > 0 else steps * delta) + start
    if endpoint and num > 1:
        last = np.reshape(np.broadcast_to(stop, np.shape(delta)), (1,) + np.shape(delta))
        samples = np.concatenate([samples[:-1], last], axis=0)
    if axis != 0:
        samples = np.moveaxis(samples, 0, axis)
    if dtype is not None:
        samples = np.astype(samples, dtype)
    return (samples, step) if retstep else samples


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """np.logspace = base ** linspace(start, stop): the exponents (and the base) may be traced."""
    samples = np.power(np.expand_dims(base, axis) if np.ndim(base) else base,
                       linspace(start, stop, num, endpoint=endpoint, axis=axis))
    return samples if dtype is None else np.astype(samples, dtype)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """np.meshgrid of traced vectors: each vector reshaped onto its own axis, then broadcast.

    With indexing='xy' the first two axes are swapped (Cartesian); 'ij' keeps matrix order. The
    gradient of an input sums g over the axes it was broadcast along.
    """
    if indexing not in ("xy", "ij"):
        raise OperationError(f"meshgrid: indexing must be 'xy' or 'ij', not {indexing!r}.")
    ndim = len(xi)
    grids = []
    for i, x in enumerate(xi):
        shape = [1] * ndim
        shape[i] = -1
        if indexing == "xy" and ndim > 1 and i < 2:
            shape[0], shape[1] = shape[1], shape[0]
        grids.append(np.reshape(x, shape))
    return tuple(grids) if sparse else tuple(np.broadcast_arrays(*grids))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid: Σ_k Δx_k (y_k + y_{k+1})/2 along ``axis``; y, x (or dx) may all be traced.

    ∂/∂y_k = (Δx_{k−1} + Δx_k)/2 (one term at the ends), ∂/∂x_k = (y_{k−1} − y_{k+1})/2 (inside).
    """
    ndim = np.ndim(y)
    if ndim == 0:
        raise ShapeError("trapezoid needs samples along at least one axis, got a 0-d y.")
    axis = int(axis) % ndim
    if x is None:
        spacing = dx
    elif np.ndim(x) == 1:
        spacing = np.reshape(np.diff(x), [-1 if d == axis else 1 for d in range(ndim)])
    else:
        spacing = np.diff(x, axis=axis)
    upper = y[index_along(axis, ndim, slice(1, None))]
    lower = y[index_along(axis, ndim, slice(None, -1))]
    return np.sum(spacing * (upper + lower) / 2.0, axis=axis)


def _at(table, j):
    """table[j]: a differentiable gather from a Tensor; from a constant table a piecewise-constant lookup (under
    cm.vmap recorded per example, as the index j is)."""
    return table[j] if type(table) is Tensor or type(j) is not Tensor else piecewise_constant(np.take, table, j)


def interp(x, xp, fp, left=None, right=None, period=None):
    """np.interp, differentiable in x, xp and fp (and in left/right where they are used).

    ∂f/∂x = (f_{j+1} − f_j)/(x_{j+1} − x_j) on the segment around x (the right-hand segment at a knot;
    0 outside [xp₀, xp₋₁]); ∂f/∂f_j = 1 − θ, ∂f/∂f_{j+1} = θ with θ = (x − x_j)/(x_{j+1} − x_j).
    The segment j and the masks are piecewise constant: found on the Tensors themselves, so that cm.vmap
    records them per example.
    """
    if period is not None:
        raise OperationError("interp(period=...) is not differentiable in calcml; wrap x into one period "
                             "with np.mod and extend xp and fp by one period on each side instead.")
    xp = xp if type(xp) is Tensor else as_float_array(xp)
    fp = fp if type(fp) is Tensor else as_float_array(fp)
    if np.ndim(xp) != 1 or np.shape(fp) != np.shape(xp) or np.size(xp) == 0:
        raise ShapeError(f"interp: xp and fp must be 1-d and of the same nonzero length, got shapes "
                         f"{np.shape(xp)} and {np.shape(fp)}.")
    if np.size(xp) == 1:
        inside = np.broadcast_to(fp[0], np.shape(x))
    else:
        j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, np.size(xp) - 2)
        x0, f0 = _at(xp, j), _at(fp, j)
        inside = (_at(fp, j + 1) - f0) / (_at(xp, j + 1) - x0) * (x - x0) + f0
    inside = np.where(x == xp[-1], fp[-1], inside)
    below = np.where(x < xp[0], fp[0] if left is None else left, inside)
    return np.where(x > xp[-1], fp[-1] if right is None else right, below)


implements(np.linspace, linspace)
implements(np.logspace, logspace)
implements(np.meshgrid, meshgrid)
implements(np.trapezoid, trapezoid)
implements(np.interp, interp)
