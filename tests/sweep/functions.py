"""Functions that the sweep tests run on workers: importable by name, so local processes and Dask workers
(started afresh) find them."""

from __future__ import annotations

import numpy as np


def quadratic_loss(lr: float, optimizer: str, seed: int) -> dict:
    """A stand-in for training: a loss that depends on every argument, and a noisy array from the seed."""
    noise = np.random.default_rng(seed).normal(size=3)
    scale = 2.0 if optimizer == "sgd" else 1.0
    return {"loss": scale * (lr - 0.1) ** 2 + 0.01 * noise[0], "curve": noise * lr}


def fails_at_large_lr(lr: float, seed: int) -> float:
    """Raises at lr ≥ 1 (a diverged run), else a number."""
    if lr >= 1:
        raise FloatingPointError(f"loss diverged at lr={lr}")
    return lr * (seed + 1)
