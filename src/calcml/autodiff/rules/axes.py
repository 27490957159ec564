"""Axis bookkeeping shared by reductions and shape rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """The reduced axes as sorted non-negative ints (``None`` means all of them)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) or np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axes))


def negative_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """The same axes counted from the end; they stay right when a batch axis is put in front."""
    return tuple(a - ndim for a in normalize_axes(axis, ndim))


def reduce_tangent(t: Any, axis: Any, ndim: int, keepdims: bool) -> Any:
    """Σ of a batch of tangents over a reduction's axes, counted from the end (the batch axis in front
    is kept): the JVP of a sum, and of every reduction once its tangent is weighted."""
    return np.add.reduce(t, axis=negative_axes(axis, ndim), keepdims=keepdims)


def kept_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` has with ``keepdims=True``."""
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def with_kept_axes(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """A reduction's result (or gradient) in its ``keepdims=True`` form, so it broadcasts against the input."""
    if keepdims or axis is None:  # already kept, or 0-d (broadcasts against anything)
        return g
    return np.reshape(g, kept_shape(shape, axis))


def restore_reduced(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Spread a reduction's gradient back over the input: reshape to keepdims form, then broadcast."""
    if not keepdims and axis is not None:
        g = np.reshape(g, kept_shape(shape, axis))
    if type(g) is Tensor:
        return np.broadcast_to(g, shape)  # traced, so that it can be differentiated again
    spread = np.empty(shape, dtype=getattr(g, "dtype", None) or np.result_type(g))  # plain: a filled copy is
    spread[...] = g                                                                # faster than broadcast_to
    return spread


def count_reduced(shape: tuple[int, ...], axis: Any) -> int:
    """How many elements each output of a reduction over ``axis`` combines."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in normalize_axes(axis, len(shape)))
