"""Shared checks for primitive rules: finite differences, JVP/VJP consistency, second derivatives, PyTorch.

Every rule test goes through these, so each primitive is judged the same way:
  1. gradient vs central finite differences (float64, relative error ≤ 1e-6);
  2. forward vs reverse mode through  u·(J v) = (Jᵀu)·v  for random u, v;
  3. second derivatives: hvp (forward-over-reverse) and grad-of-grad vs finite differences of the gradient;
  4. the gradient against PyTorch's, to 1e-10.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import calcml as cm


def random_array(rng: np.random.Generator, shape, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return rng.uniform(low, high, size=shape)


def as_scalar(f: Callable, out_shape_seed: int = 7) -> Callable:
    """x ↦ Σ u ⊙ f(x) with a fixed random u, so any f can be checked through a scalar."""

    def scalar(*xs):
        out = f(*xs)
        weights = np.random.default_rng(out_shape_seed).standard_normal(np.shape(out))
        return np.sum(out * weights)

    return scalar


def assert_grad_matches_finite_differences(f: Callable, *args: np.ndarray, rtol: float = 1e-6) -> None:
    report = cm.check_grad(f, *args, rtol=rtol, raise_on_mismatch=False)
    assert report.passed, f"{report}: autodiff {report.autodiff} vs numeric {report.numeric}"


def assert_jvp_agrees_with_vjp(f: Callable, *args: np.ndarray, seed: int = 0, rtol: float = 1e-9) -> None:
    """u·(J v) = (Jᵀu)·v for every argument, with random u and v."""
    rng = np.random.default_rng(seed)
    for k in range(len(args)):
        def f_k(x, k=k):
            call = list(args)
            call[k] = x
            return f(*call)

        v = rng.standard_normal(np.shape(args[k]))
        out, jv = cm.jvp(f_k, (args[k],), (v,))
        u = rng.standard_normal(np.shape(out))
        _, pullback = cm.vjp(f_k, args[k])
        (jtu,) = pullback(u)
        left, right = float(np.sum(u * jv)), float(np.sum(jtu * v))
        assert np.isclose(left, right, rtol=rtol, atol=1e-12 * (1 + abs(left))), (k, left, right)


def assert_second_derivatives(f: Callable, x: np.ndarray, seed: int = 0, rtol: float = 1e-5) -> None:
    """hvp and grad-of-grad of a scalar f against central differences of the gradient."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(np.shape(x))
    h = 1e-5
    gradient = cm.grad(f)
    numeric = (gradient(x + h * v) - gradient(x - h * v)) / (2 * h)
    forward_over_reverse = cm.hvp(f, x, v)
    reverse_over_reverse = cm.grad(lambda y: np.sum(cm.grad(f)(y) * v))(x)
    scale = max(1.0, float(np.max(np.abs(numeric))))
    np.testing.assert_allclose(forward_over_reverse, numeric, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(reverse_over_reverse, numeric, rtol=rtol, atol=rtol * scale)


def torch_gradients(f_torch: Callable, *args: np.ndarray, weights_seed: int = 7) -> list[np.ndarray]:
    """PyTorch's gradient of Σ u ⊙ f(x) (same u as ``as_scalar``), in float64."""
    import torch

    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f_torch(*tensors)
    weights = np.random.default_rng(weights_seed).standard_normal(tuple(out.shape))
    (out * torch.tensor(weights)).sum().backward()
    return [t.grad.numpy() if t.grad is not None else np.zeros(np.shape(a)) for t, a in zip(tensors, args)]


def assert_matches_torch(f: Callable, f_torch: Callable, *args: np.ndarray, rtol: float = 1e-10) -> None:
    """Value and gradient of f equal PyTorch's to ``rtol`` in float64."""
    import torch

    ours_value = np.asarray(f(*args))
    theirs_value = f_torch(*[torch.tensor(a, dtype=torch.float64) for a in args]).numpy()
    np.testing.assert_allclose(ours_value, theirs_value, rtol=rtol, atol=1e-12)
    ours = cm.grad(as_scalar(f), argnums=tuple(range(len(args))))(*args)
    theirs = torch_gradients(f_torch, *args)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
