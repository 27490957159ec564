"""Hutchinson's estimator of the Hessian's trace: E[zᵀHz] = tr(H) for z with independent ±1 entries.

Each sample costs one Hessian-vector product. With Rademacher z the variance of one sample is
2 Σ_{i≠j} H_ij² (the diagonal contributes nothing), less than with Gaussian z; the estimate is the mean of
``samples`` values and its standard error their standard deviation / √samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.curvature.errors import positive_integer
from calcml.curvature.operator import HessianOperator


@dataclass(frozen=True)
class TraceEstimate:
    """tr(∇²loss) estimated: ``value`` ± ``stderr``, from ``samples`` values zᵀHz (one HVP each)."""

    value: float
    stderr: float
    samples: np.ndarray
    hvps: int

    def __repr__(self) -> str:
        return f"TraceEstimate(value={self.value:.6g}, stderr={self.stderr:.2g}, hvps={self.hvps})"


def rademacher(rng: np.random.Generator, n: int) -> np.ndarray:
    """n independent signs ±1, each with probability ½."""
    return rng.integers(0, 2, size=n) * 2.0 - 1.0


def hessian_trace(loss: Callable[[Any], Any], params: Any, samples: int = 100, seed: int | None = 0) -> TraceEstimate:
    """tr(∇²loss(params)) by Hutchinson's estimator with Rademacher vectors, with its standard error.

    >>> r = cm.curvature.hessian_trace(lambda w: np.sum(np.arange(1.0, 6.0) * w ** 2) / 2, np.zeros(5), samples=10)
    >>> r.value, r.stderr                      # a diagonal Hessian: every zᵀHz is exactly 1+2+3+4+5
    (15.0, 0.0)
    """
    samples = positive_integer(samples, "samples", "hessian_trace (2 at least, for a standard error)", least=2)
    H = HessianOperator(loss, params)
    rng = np.random.default_rng(seed)
    values = np.empty(samples)
    for i in range(samples):
        z = rademacher(rng, H.size)
        values[i] = z @ H(z)
    return TraceEstimate(float(values.mean()), float(values.std(ddof=1) / np.sqrt(samples)), values, H.hvps)
