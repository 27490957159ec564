"""Inverted dropout: in training each entry is zeroed with probability p and the survivors are scaled
by 1/(1 − p), so E[dropout(x)] = x and evaluation needs no rescaling; in evaluation it is the identity.
∂ dropout(x)/∂x = mask/(1 − p), the same mask as the forward pass."""

from __future__ import annotations

import numpy as np

from calcml.autodiff.errors import CalcmlError
from calcml.nn.module import Module


def dropout(x, p: float = 0.5, training: bool = True, rng=None):
    """Zero entries with probability ``p`` and scale the rest by 1/(1 − p) (identity unless training)."""
    if not 0.0 <= p <= 1.0:
        raise CalcmlError(f"dropout probability must be in [0, 1], got {p}.")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros(np.shape(x), dtype=np.result_type(x))
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    keep = rng.random(np.shape(x)) >= p
    return x * (keep * (1.0 / (1.0 - p))).astype(np.result_type(x), copy=False)


class Dropout(Module):
    """Dropout with its own seedable generator: ``Dropout(0.5, rng=0)`` gives the same masks every run."""

    def __init__(self, p: float = 0.5, rng=None):
        if not 0.0 <= p <= 1.0:
            raise CalcmlError(f"dropout probability must be in [0, 1], got {p}.")
        self.p = p
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    def forward(self, x):
        return dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
