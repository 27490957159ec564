"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay.

    g ← g + λ w                                   (weight decay: the gradient of λ/2 ‖w‖²)
    b ← g at the first step,  then  b ← μ b + (1 − τ) g          (momentum buffer)
    w ← w − η (g + μ b)   with Nesterov,   w ← w − η b   otherwise

These are ``torch.optim.SGD``'s conventions exactly (the buffer starts at the first gradient, not at 0).
"""

from __future__ import annotations

from collections.abc import Iterable

from calcml.autodiff.tensor import Tensor
from calcml.optim.optimizer import HyperparameterError, Optimizer, check_range


class SGD(Optimizer):
    """Gradient descent: w ← w − η g, optionally with momentum μ (heavy ball or Nesterov).

    With momentum the step follows a running sum of past gradients, b ← μ b + (1 − τ) g, which
    damps oscillation across a narrow valley and speeds travel along it.

    >>> w = cm.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = cm.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> np.sum(w * w).backward(); opt.step(); w.value      # w − 0.1 · 2w
    array([ 0.8, -1.6])
    """

    hyperparameter_names = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check_range("SGD", "momentum", momentum, hint="a typical value is 0.9.")
        self.dampening = check_range("SGD", "dampening", dampening, high=1.0)
        self.weight_decay = check_range("SGD", "weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise HyperparameterError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0 (got momentum={momentum}, "
                f"dampening={dampening}).\n  Nesterov looks ahead along the momentum buffer; without "
                "momentum there is nothing to look ahead along."
            )

    def step(self) -> None:
        """One step for every parameter that has a gradient."""
        mu, tau = self.momentum, self.dampening
        for w, g, state in self.gradients():
            if self.weight_decay != 0:
                g = g + self.weight_decay * w                          # g ← g + λ w
            if mu != 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.copy()                # b ← g (first step)
                else:
                    state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - tau) * g
                b = state["momentum_buffer"]                           # b ← μ b + (1 − τ) g
                g = g + mu * b if self.nesterov else b                 # Nesterov: look ahead
            w -= self.lr * g                                           # w ← w − η g
