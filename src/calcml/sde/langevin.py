"""Langevin dynamics: sampling from p(x) ∝ e^{log p(x)} with the score ∇log p from ``cm.grad``.

Unadjusted (ULA):  x_{k+1} = x_k + h ∇log p(x_k) + √(2h) ξ_k,   ξ_k ~ N(0, I).
It discretizes dX = ∇log p(X) dt + √2 dW, whose stationary law is p; the discretization biases it by O(h)
(for N(m, s²): variance s²/(1 − h/(2s²)) instead of s²). MALA (``mala=True``) removes the bias with a
Metropolis–Hastings test: accept x' with probability min(1, p(x') q(x | x') / (p(x) q(x' | x))).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.tensor import as_float_array
from calcml.autodiff.transforms import value_and_grad
from calcml.ode import arguments
from calcml.ode.errors import NonFiniteError


@dataclass(frozen=True)
class LangevinChain:
    """``samples``: shape (n, *x0.shape); ``acceptance_rate``: per chain for MALA, 1 for ULA."""

    samples: np.ndarray
    acceptance_rate: np.ndarray


def langevin(log_p: Callable, x0: Any, step: float, n: int, rng: Any = None, mala: bool = False,
             burn_in: int = 0) -> LangevinChain:
    """n samples of Langevin dynamics started at x0 (after ``burn_in`` discarded steps).

    ``step`` > 0, ``n`` ≥ 1 and a finite x0 are checked before any work (SolverInputError).
    Several chains run at once when ``log_p`` maps a batch x of shape (chains, d) to (chains,) log-densities;
    with x0 of shape (d,) and a scalar log_p, there is one chain.

    >>> chain = cm.sde.langevin(lambda x: -0.5 * np.sum(x ** 2, axis=-1), np.zeros((500, 2)), 0.05, 400, rng=0)
    >>> chain.samples.shape
    (400, 500, 2)
    """
    arguments.positive_number(step, "step", "langevin")
    n = arguments.count(n, "n", "langevin")
    burn_in = arguments.count(burn_in, "burn_in", "langevin", minimum=0)
    arguments.finite_array(x0, "x0", "langevin")
    rng = np.random.default_rng(rng)
    x = as_float_array(x0)
    score_of = value_and_grad(lambda x: np.sum(log_p(x)))

    def log_p_and_score(x):
        lp = np.asarray(log_p(x))
        return lp, score_of(x)[1]

    lp, score = log_p_and_score(x)
    batch = lp.shape
    if not (np.all(np.isfinite(lp)) and np.all(np.isfinite(score))):
        raise NonFiniteError("langevin: log p or its gradient is not finite at x0 (x0 lies outside the support "
                             "of p, or log p is NaN there); start the chains where p > 0.")

    def per_chain(values: np.ndarray) -> np.ndarray:
        return np.sum(values.reshape(batch + (-1,)), axis=-1)

    accepted = np.zeros(batch)
    samples = []
    for k in range(burn_in + n):
        proposal = x + step * score + np.sqrt(2 * step) * rng.standard_normal(x.shape)
        if mala:
            lp_new, score_new = log_p_and_score(proposal)
            forward = per_chain((proposal - x - step * score) ** 2) / (4 * step)
            backward = per_chain((x - proposal - step * score_new) ** 2) / (4 * step)
            log_ratio = lp_new - lp - backward + forward
            accept = np.log(rng.uniform(size=batch)) < log_ratio
            mask = accept.reshape(batch + (1,) * (x.ndim - len(batch)))
            x = np.where(mask, proposal, x)
            score = np.where(mask, score_new, score)
            lp = np.where(accept, lp_new, lp)
            if k >= burn_in:
                accepted += accept
        else:
            x = proposal
            lp, score = log_p_and_score(x)
            if not np.all(np.isfinite(score)):
                raise NonFiniteError(
                    f"langevin: the score ∇log p is not finite after step {k + 1} (step = {step:g}): the chain left "
                    "the support of p or diverged. Take a smaller step, or use mala=True, which rejects such moves.")
        if k >= burn_in:
            samples.append(x)
    rate = accepted / n if mala else np.ones(batch)
    return LangevinChain(np.stack(samples), rate)
