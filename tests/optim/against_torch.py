"""Run a calcml optimizer and its torch.optim twin side by side on the same gradients, step by step.

Both start from the same parameters (several tensors of different shapes, a 0-d one included) and
receive the same sequence of random gradients, set directly as ``p.grad``. Gradient scales change
from step to step, so that adaptive methods (and amsgrad's running maximum) have something to adapt to.
"""

from __future__ import annotations

import numpy as np
import torch

import calcml as cm

SHAPES = [(3,), (2, 4), (2, 3, 2), ()]


def random_problem(steps: int, seed: int, dtype=np.float64):
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    scales = rng.uniform(0.05, 3.0, size=steps)
    gradients = [[(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES] for scale in scales]
    return initial, gradients


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300))


def assert_matches_torch_step_by_step(ours_cls, torch_cls, options: dict, steps: int = 10, seed: int = 0,
                                      skipped: frozenset = frozenset(), rtol: float = 1e-10,
                                      dtype=np.float64) -> None:
    """After every one of ``steps`` steps, every parameter agrees with torch to ``rtol`` (max-norm relative).

    ``skipped`` holds (step, parameter) pairs whose gradient is None at that step in both.
    """
    initial, gradients = random_problem(steps, seed, dtype)
    ours = [cm.Tensor(a.copy(), requires_grad=True) for a in initial]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in initial]
    ours_opt = ours_cls(ours, **options)
    torch_opt = torch_cls(theirs, **options)
    for k in range(steps):
        for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
            if (k, i) in skipped:
                p.grad, q.grad = None, None
            else:
                p.grad, q.grad = gradients[k][i].copy(), torch.tensor(gradients[k][i])
        ours_opt.step()
        torch_opt.step()
        for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
            assert p.value.dtype == dtype, f"step {k + 1}, parameter {i}: dtype became {p.value.dtype}"
            error = relative_error(p.value, q.detach().numpy())
            assert error <= rtol, (f"{ours_cls.__name__}({options}) differs from torch after step {k + 1} "
                                   f"in parameter {i} (shape {SHAPES[i]}): relative error {error:.3g}")
