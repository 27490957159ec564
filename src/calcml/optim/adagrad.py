"""Adagrad: every coordinate gets its own learning rate, shrinking with its gradient history.

    g ← g + λ w;   s ← s + g²;   w ← w − η_t g / (√s + ε),   η_t = η / (1 + (t − 1) δ)

s starts at ``initial_accumulator_value``; t counts this parameter's steps (``torch.optim.Adagrad``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.optim.optimizer import Optimizer, check_range


class Adagrad(Optimizer):
    """Adaptive gradient: divide each coordinate's step by the root of its summed squared gradients.

    Coordinates that have seen large gradients slow down; rarely-updated ones keep large steps.
    The sum only grows, so the effective learning rate only falls.

    >>> w = cm.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = cm.optim.Adagrad([w], lr=0.1)            # or model.parameters()
    >>> np.sum(w * w).backward(); opt.step(); w.value   # first step: w − 0.1 · g/|g| = w − 0.1 sign(g)
    array([ 0.9, -1.9])
    """

    hyperparameter_names = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, lr)
        self.lr_decay = check_range("Adagrad", "lr_decay", lr_decay)
        self.weight_decay = check_range("Adagrad", "weight_decay", weight_decay)
        self.initial_accumulator_value = check_range("Adagrad", "initial_accumulator_value",
                                                     initial_accumulator_value)
        self.eps = check_range("Adagrad", "eps", eps)

    def step(self) -> None:
        """One step for every parameter that has a gradient."""
        for w, g, state in self.gradients():
            if not state:
                state["step"] = 0
                state["sum"] = np.full_like(w, self.initial_accumulator_value)
            state["step"] += 1
            t = state["step"]
            if self.weight_decay != 0:
                g = g + self.weight_decay * w                          # g ← g + λ w
            lr_t = self.lr / (1 + (t - 1) * self.lr_decay)             # η_t = η / (1 + (t − 1) δ)
            state["sum"] = state["sum"] + g * g                        # s ← s + g²
            w -= lr_t * g / (np.sqrt(state["sum"]) + self.eps)         # w ← w − η_t g / (√s + ε)
