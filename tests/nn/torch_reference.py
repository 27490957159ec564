"""Run the same computation in calcml and PyTorch (float64) and compare values and gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

import calcml as cm

torch.set_num_threads(1)


def calcml_value_and_grads(f: Callable, arrays: Sequence[np.ndarray], cotangent: np.ndarray | None = None):
    """f(*Tensors) and the gradients of Σ cotangent ⊙ f (or of f itself when scalar) w.r.t. every array."""
    tensors = [cm.Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*tensors)
    out.backward(None if cotangent is None else cotangent)
    return out.value, [t.grad if t.grad is not None else np.zeros_like(t.value) for t in tensors]


def torch_value_and_grads(f: Callable, arrays: Sequence[np.ndarray], cotangent: np.ndarray | None = None):
    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*tensors)
    out.backward(None if cotangent is None else torch.tensor(cotangent))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in tensors]


def assert_matches_torch(f: Callable, f_torch: Callable, arrays: Sequence[np.ndarray], rtol: float = 1e-8,
                         seed: int = 0) -> None:
    """Values and gradients (w.r.t. every array, through a random cotangent) agree to ``rtol``."""
    probe = np.asarray(f(*[cm.Tensor(np.asarray(a, dtype=np.float64)) for a in arrays]).value)
    cotangent = None if probe.ndim == 0 else np.random.default_rng(seed).standard_normal(probe.shape)
    ours, our_grads = calcml_value_and_grads(f, arrays, cotangent)
    theirs, their_grads = torch_value_and_grads(f_torch, arrays, cotangent)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol)
    assert len(our_grads) == len(their_grads)
    for i, (a, b) in enumerate(zip(our_grads, their_grads)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, err_msg=f"gradient of argument {i}")
