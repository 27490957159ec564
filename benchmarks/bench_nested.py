"""Nested forward mode: the third directional derivative d³/dt³ f(x + t v) of f: R¹⁰⁰ → R, as jvp of jvp of
jvp, in calcml and in torch.func (float64).
   python benchmarks/bench_nested.py
"""

from __future__ import annotations

import numpy as np
from timing import median_seconds, report

import calcml as cm

N = 100
rng = np.random.default_rng(0)
A = rng.standard_normal((N, N)) / np.sqrt(N)
X0 = rng.standard_normal(N)
V = rng.standard_normal(N)


def f(x):
    """log-sum-exp of a linear map, plus a quartic and a sine."""
    z = A @ x
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) + 0.25 * np.sum(x ** 4) + np.sum(np.sin(x))


def along(g):
    """x ↦ the derivative of g along v (forward mode)."""
    return lambda x: cm.jvp(g, (x,), (V,))[1]


third = along(along(along(f)))


def torch_factory():
    import torch
    from torch.func import jvp

    torch.set_num_threads(2)
    At, xt, vt = torch.tensor(A), torch.tensor(X0), torch.tensor(V)

    def g(x):
        return torch.logsumexp(At @ x, 0) + 0.25 * (x ** 4).sum() + torch.sin(x).sum()

    def d(h):
        return lambda x: jvp(h, (x,), (vt,))[1]

    t3 = d(d(d(g)))
    return lambda: t3(xt)


if __name__ == "__main__":
    ours = float(third(X0))
    timings = {"calcml": median_seconds(lambda: third(X0), repeats=50, warmup=5)}
    try:
        theirs = torch_factory()
        assert abs(ours - float(theirs())) < 1e-8 * max(1.0, abs(ours)), (ours, float(theirs()))
        timings["torch.func jvp³"] = median_seconds(theirs, repeats=50, warmup=5)
    except ImportError:
        pass
    report("Third directional derivative of f: R^100 → R (jvp of jvp of jvp)", timings)
