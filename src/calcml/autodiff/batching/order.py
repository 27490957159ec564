"""Batching rules for orders and positions: argsort, argpartition, searchsorted, and take from a constant table.

Sorting, quantiles and interpolation (``rules/order.py``, ``rules/grids.py``) compute a per-example order or
bracketing interval with these NumPy functions on the Tensor itself, so cm.vmap records them; here is how the
replay runs them on the whole batch:

    argsort, argpartition   along the axis shifted by one:        argsort(x, axis=-1) → argsort(X, axis=-1)
    searchsorted            constant knots: straight through;     searchsorted(a, V)
                            batched knots: ranks in a merged sort  i = rank of v among (a, v) − rank among v
    take                    a constant table at batched indices:  take(t, J)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.autodiff.batching.rules import FUNCTION_RULES, Batched, axis_rule, loop
from calcml.autodiff.dispatch import unwrapped


def _ranks(x: np.ndarray) -> np.ndarray:
    """Each entry's place in a stable sort along the last axis (NaNs last): ranks[..., order[..., k]] = k."""
    order = np.argsort(x, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(x.shape[-1]), axis=-1)
    return ranks


def _searchsorted_in_rows(knots: np.ndarray, values: np.ndarray, side: str) -> np.ndarray:
    """np.searchsorted(knots[b], values[b], side) for every row b at once.

    The index of v is how many knots sort before it: its rank in the stable sort of the knots and values
    together, less its rank among the values. Putting the values after the knots sorts a tie after the equal
    knots (side='right'), before them for side='left'.
    """
    flat = values.reshape(len(values), -1)
    n, m = knots.shape[-1], flat.shape[-1]
    merged = np.concatenate([knots, flat] if side == "right" else [flat, knots], axis=-1)
    ranks = _ranks(merged)
    ranks = ranks[:, n:] if side == "right" else ranks[:, :m]
    return (ranks - _ranks(flat)).reshape(values.shape)


def searchsorted(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """np.searchsorted(a, v, side): v batched against constant knots goes straight through; knots that differ
    per example (1-d each) are searched row by row in one merged sort."""
    options = dict(zip(("side", "sorter"), args[2:]), **kwargs)
    side, sorter = options.get("side", "left"), options.get("sorter")
    knots, values = args[0], args[1]
    if sorter is not None or side not in ("left", "right"):
        return loop(fn, args, kwargs, size)
    if type(knots) is not Batched:
        return np.searchsorted(unwrapped(knots), unwrapped(values.physical), side=side)
    knots = unwrapped(knots.physical)
    values = unwrapped(values.physical) if type(values) is Batched else np.broadcast_to(
        unwrapped(values), (size,) + np.shape(values))
    if knots.ndim != 2:
        return loop(fn, args, kwargs, size)
    return _searchsorted_in_rows(knots, values, side)


def take(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """np.take(table, indices) from a constant table at per-example indices (interp's knots): one take."""
    table, indices = args
    if type(table) is Batched or type(indices) is not Batched or kwargs:
        return loop(fn, args, kwargs, size)
    return np.take(unwrapped(table), unwrapped(indices.physical))


FUNCTION_RULES.update({
    np.argsort: axis_rule("axis", none_means_all=False), np.argpartition: axis_rule("axis", none_means_all=False),
    np.searchsorted: searchsorted, np.take: take,
})
