"""Batches for gradient descent: the whole set (batch), one sample (stochastic) or mini-batches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def batches(X: np.ndarray, y: np.ndarray | None = None, batch_size: int | None = None, shuffle: bool = True,
            rng: np.random.Generator | int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """One epoch of (X_batch, y_batch) pairs: every sample exactly once, the last batch possibly smaller.

    ``batch_size=None`` gives the whole set in one batch (batch gradient descent, in the original
    order), ``1`` stochastic gradient descent, anything else mini-batches. With ``shuffle`` the order
    is a fresh permutation drawn from ``rng`` (a Generator or a seed) every call.

    >>> [len(xb) for xb, yb in cm.data.batches(np.zeros((10, 2)), np.zeros(10), batch_size=4)]
    [4, 4, 2]
    """
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"batches: X has {n} samples but y has {len(y)}; they must match.")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(
            f"batches: batch_size must be a positive integer or None (the whole set), not {batch_size!r}."
        )
    return _serve(X, y, batch_size, shuffle, rng)


def _serve(X, y, batch_size, shuffle, rng) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    if batch_size is None:
        yield X, y
        return
    n = len(X)
    if shuffle:
        order = (rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)).permutation(n)
        X = X[order]
        y = y[order] if y is not None else None
    step = int(batch_size)
    for start in range(0, n, step):
        yield X[start:start + step], (y[start:start + step] if y is not None else None)
