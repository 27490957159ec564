"""Adam and AdamW: momentum on the gradient, RMSprop on its square, both corrected for starting at zero.

    m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²;   (amsgrad: v_max ← max(v_max, v), used for v)
    w ← w − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

Adam's weight decay is an L2 penalty added to the gradient (g ← g + λ w), so it is rescaled by √v
like any gradient; AdamW decouples it: w ← w (1 − η λ) before the Adam step (``torch.optim``'s
conventions, ε placed after the bias-corrected square root).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.optim.optimizer import HyperparameterError, Optimizer, check_range

BETA_HINT = "β close to 1 averages over about 1/(1 − β) steps; typical betas are (0.9, 0.999)."


class Adam(Optimizer):
    """Adaptive moment estimation, with weight decay as an L2 penalty on the gradient.

    m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ) undo the bias of averages that start at zero, so the
    first steps have size about η whatever the scale of the gradient.

    >>> w = cm.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = cm.optim.Adam([w], lr=1e-3, betas=(0.9, 0.999), amsgrad=True)   # or model.parameters()
    >>> np.sum(w * w).backward(); opt.step(); w.value   # first step: m̂/√v̂ = sign(g), so w − η sign(g)
    array([ 0.999, -1.999])
    """

    hyperparameter_names = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, lr)
        name = type(self).__name__
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise HyperparameterError(f"{name}: betas must be a pair (β₁, β₂), got {betas!r}.") from None
        self.betas = (check_range(name, "betas[0]", beta1, high=1.0, high_open=True, hint=BETA_HINT),
                      check_range(name, "betas[1]", beta2, high=1.0, high_open=True, hint=BETA_HINT))
        self.eps = check_range(name, "eps", eps)
        self.weight_decay = check_range(name, "weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)

    def step(self) -> None:
        """One step for every parameter that has a gradient, updating w, m and v in place (one scratch
        array per parameter, as torch.optim's foreach path: no temporary per operation)."""
        beta1, beta2 = self.betas
        for w, g, state in self.gradients():
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(w)
                state["exp_avg_sq"] = np.zeros_like(w)
                if self.amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(w)
            state["step"] += 1
            t = state["step"]
            if self.weight_decay != 0:
                if self.decoupled_weight_decay:
                    w *= 1 - self.lr * self.weight_decay                      # AdamW: w ← w (1 − η λ)
                else:
                    g = g + self.weight_decay * w                             # Adam: g ← g + λ w
            m, v = state["exp_avg"], state["exp_avg_sq"]
            scratch = np.empty_like(w)
            np.multiply(g, 1 - beta1, out=scratch)
            m *= beta1
            m += scratch                                                      # m ← β₁m + (1 − β₁)g
            np.multiply(g, g, out=scratch)
            scratch *= 1 - beta2
            v *= beta2
            v += scratch                                                      # v ← β₂v + (1 − β₂)g²
            if self.amsgrad:
                v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # v ← max(v_max, v)
            step_size = self.lr / (1 - beta1**t)                              # η / (1 − β₁ᵗ)
            np.sqrt(v, out=scratch)
            scratch /= math.sqrt(1 - beta2**t)
            scratch += self.eps                                               # √v / √(1 − β₂ᵗ) + ε
            np.divide(m, scratch, out=scratch)
            scratch *= step_size
            w -= scratch                                                      # w ← w − η/(1 − β₁ᵗ) · m / (…)


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w (1 − η λ), then the Adam step on the loss gradient alone.

    Decay then shrinks every weight at the same rate instead of being divided by √v (Loshchilov & Hutter).

    >>> w = cm.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = cm.optim.AdamW([w], lr=1e-3, weight_decay=1e-2)
    >>> np.sum(w * w).backward(); opt.step(); w.value   # w (1 − 1e-5), then − 1e-3 sign(g)
    array([ 0.99899, -1.99898])
    """

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
