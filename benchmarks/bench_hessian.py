"""The Hessian of a scalar function of a 100-vector (float32), and hvp time over gradient time.
calcml (forward-over-reverse, all 100 tangents in one pass) vs torch.func.hessian and HIPS autograd.
   python benchmarks/bench_hessian.py
"""

from __future__ import annotations

import numpy as np
from timing import median_seconds, report

import calcml as cm

N = 100
rng = np.random.default_rng(0)
A = (rng.standard_normal((N, N)) / np.sqrt(N)).astype(np.float32)
X0 = rng.standard_normal(N).astype(np.float32)
V = rng.standard_normal(N).astype(np.float32)


def f(x):
    """A smooth test function: log-sum-exp of a linear map plus a quartic and a sine."""
    z = A @ x
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) + 0.25 * np.sum(x ** 4) + np.sum(np.sin(x))


def torch_factory():
    import torch
    from torch.func import hessian

    torch.set_num_threads(2)
    At, xt = torch.tensor(A), torch.tensor(X0)

    def g(x):
        z = At @ x
        return torch.logsumexp(z, 0) + 0.25 * (x ** 4).sum() + torch.sin(x).sum()

    H = hessian(g)
    return (lambda: H(xt)), (lambda: H(xt).numpy())


def autograd_factory():
    import autograd
    import autograd.numpy as anp

    def g(x):
        z = anp.dot(A, x)
        m = anp.max(z)
        return m + anp.log(anp.sum(anp.exp(z - m))) + 0.25 * anp.sum(x ** 4) + anp.sum(anp.sin(x))

    H = autograd.hessian(g)
    return lambda: H(X0)


if __name__ == "__main__":
    hessian_f = cm.hessian(f)
    torch_hessian, torch_value = torch_factory()
    np.testing.assert_allclose(hessian_f(X0), torch_value(), rtol=2e-3, atol=2e-4)
    timings = {"calcml": median_seconds(lambda: hessian_f(X0), repeats=100, warmup=10),
               "torch.func.hessian": median_seconds(torch_hessian, repeats=100, warmup=10),
               "hips autograd": median_seconds(autograd_factory(), repeats=20, warmup=3)}
    report(f"Hessian of f: R^{N} → R, float32", timings)
    gradient_f = cm.grad(f)
    grad_time = median_seconds(lambda: gradient_f(X0), repeats=300, warmup=30)
    hvp_time = median_seconds(lambda: cm.hvp(f, X0, V), repeats=300, warmup=30)
    print(f"\n  gradient {grad_time * 1e6:.1f} µs, hvp {hvp_time * 1e6:.1f} µs: hvp / gradient = "
          f"{hvp_time / grad_time:.2f}")
