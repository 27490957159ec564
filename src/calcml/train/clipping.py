"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``: applied between
``backward()`` and the optimizer's ``step()``, it bounds the size of an update without changing its
direction (by norm) or bounds every component (by value)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from calcml.autodiff.errors import CalcmlError
from calcml.autodiff.tensor import Tensor


class NonFiniteGradientError(CalcmlError, RuntimeError):
    """The gradients have a NaN or an infinity, so their norm is not finite."""


def _with_grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def grad_norm(parameters: Iterable[Tensor] | Tensor, norm_type: float = 2.0) -> float:
    """‖g‖_p of all gradients taken as one vector: (Σ_tensors ‖g_t‖_p^p)^(1/p); max |g| for p = inf."""
    grads = [np.asarray(p.grad) for p in _with_grads(parameters)]
    if not grads:
        return 0.0
    if norm_type == math.inf:
        return float(max(np.max(np.abs(g)) if g.size else 0.0 for g in grads))
    norms = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads], dtype=np.float64)
    return float(np.linalg.norm(norms, ord=norm_type))


def clip_grad_norm(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; return the norm
    before clipping.

    g ← g · min(1, max_norm / (‖g‖ + 1e-6)), ‖g‖ the ``norm_type``-norm of every gradient as one vector
    (the 1e-6 is torch's). The update keeps its direction; only its length is capped.

    >>> w = cm.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    >>> np.sum(w * w).backward()                    # w.grad = 2w = [6, 8], norm 10
    >>> cm.train.clip_grad_norm([w], max_norm=1.0)   # or model.parameters()
    10.0
    >>> w.grad
    array([0.59999994, 0.79999992])
    """
    params = _with_grads(parameters)
    total = grad_norm(params, norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise NonFiniteGradientError(
                f"the total {norm_type}-norm of the gradients is {total}: some gradient is NaN or infinite.\n"
                "  lower the learning rate, or run under cm.detect_anomaly() to find the operation."
            )
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1.0:
        for p in params:
            p.grad = p.grad * coefficient
    return total


def clip_grad_value(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient component to [−clip_value, clip_value] (the direction may change)."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value: clip_value must be >= 0, not {clip_value}.")
    for p in _with_grads(parameters):
        p.grad = np.clip(p.grad, -clip_value, clip_value)
