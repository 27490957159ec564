"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    g ← g + λ w;   v ← α v + (1 − α) g²;   centered: m ← α m + (1 − α) g,  v̂ = v − m²  (else v̂ = v)
    w ← w − η g / (√v̂ + ε),   or with momentum μ:  b ← μ b + g / (√v̂ + ε),  w ← w − η b

v, m and b start at zero (``torch.optim.RMSprop``; note ε is added after the square root).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.optim.optimizer import Optimizer, check_range


class RMSprop(Optimizer):
    """Root-mean-square propagation: Adagrad with a forgetting average, so steps do not shrink forever.

    ``alpha`` is the averaging factor (memory of about 1/(1 − α) steps); ``centered=True`` divides by
    an estimate of the gradient's standard deviation instead of its root mean square.

    >>> w = cm.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = cm.optim.RMSprop([w], lr=1e-3, alpha=0.99, centered=True)   # or model.parameters()
    >>> np.sum(w * w).backward(); opt.step(); w.value
    array([ 0.98994962, -1.98994962])
    """

    hyperparameter_names = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr)
        self.alpha = check_range("RMSprop", "alpha", alpha, high=1.0, hint="a typical value is 0.99.")
        self.eps = check_range("RMSprop", "eps", eps)
        self.weight_decay = check_range("RMSprop", "weight_decay", weight_decay)
        self.momentum = check_range("RMSprop", "momentum", momentum)
        self.centered = bool(centered)

    def step(self) -> None:
        """One step for every parameter that has a gradient."""
        alpha = self.alpha
        for w, g, state in self.gradients():
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(w)
                if self.centered:
                    state["grad_avg"] = np.zeros_like(w)
                if self.momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(w)
            state["step"] += 1
            if self.weight_decay != 0:
                g = g + self.weight_decay * w                                   # g ← g + λ w
            v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
            if self.centered:                                                   # v̂ = v − m²
                m = state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
                v = v - m * m
            denominator = np.sqrt(v) + self.eps                                 # √v̂ + ε
            if self.momentum > 0:
                b = state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + g / denominator
                w -= self.lr * b                                                # w ← w − η b
            else:
                w -= self.lr * g / denominator                                  # w ← w − η g / (√v̂ + ε)
