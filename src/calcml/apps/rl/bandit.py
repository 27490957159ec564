"""REINFORCE on a multi-armed bandit: the score-function gradient, with and without a baseline.

A softmax policy π_θ(a) = e^{θ_a}/Σ_b e^{θ_b} pulls arm a and receives r ~ N(μ_a, σ²). The objective
J(θ) = E_{a∼π_θ}[r] = Σ_a π_θ(a) μ_a has the gradient (the log-derivative trick, ∇π = π ∇log π)

    ∇J(θ) = Σ_a π_θ(a) μ_a ∇log π_θ(a) = E_{a∼π_θ}[(r − b) ∇log π_θ(a)]   for any constant b,

because E[∇log π_θ(a)] = ∇Σ_a π_θ(a) = ∇1 = 0. So (r − b) ∇log π_θ(a) from one pull is an unbiased
estimate of ∇J; the baseline b changes only its variance, which is smallest near b ≈ J(θ).
For the softmax, ∇_θ log π_θ(a) = e_a − π_θ: the engine computes it as the Jacobian of log_softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.rules.reductions import softmax
from calcml.autodiff.transforms import grad, jacobian
from calcml.nn.activations import log_softmax


@dataclass(frozen=True)
class GaussianBandit:
    """K arms; arm a pays N(means[a], noise²)."""

    means: np.ndarray
    noise: float = 1.0

    def pull(self, arms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.means[arms] + self.noise * rng.standard_normal(np.shape(arms))

    def expected_reward(self, theta: Any) -> Any:
        """J(θ) = Σ_a π_θ(a) μ_a, written with traced NumPy so ``cm.grad`` gives the exact ∇J."""
        return np.sum(softmax(theta) * self.means)

    def exact_gradient(self, theta: np.ndarray) -> np.ndarray:
        return grad(self.expected_reward)(theta)


def score(theta: np.ndarray) -> np.ndarray:
    """∇_θ log π_θ(a) for every arm, as rows of a K×K matrix (the Jacobian of log_softmax: I − 1 πᵀ)."""
    return jacobian(log_softmax)(theta)


def reinforce_estimates(bandit: GaussianBandit, theta: np.ndarray, n: int, rng: Any = None,
                        baseline: float | str | None = None) -> np.ndarray:
    """n independent one-pull estimates (r − b) ∇log π_θ(a), shape (n, K); their mean estimates ∇J(θ).

    ``baseline``: None (b = 0), a number, or "leave_one_out" (b = the mean reward of the other n − 1 pulls,
    which does not depend on the pull it is subtracted from, so the estimate stays unbiased).
    """
    rng = np.random.default_rng(rng)
    probabilities = np.asarray(softmax(theta))
    arms = rng.choice(len(theta), size=n, p=probabilities)
    rewards = bandit.pull(arms, rng)
    if baseline == "leave_one_out":
        b = (np.sum(rewards) - rewards) / (n - 1)
    else:
        b = 0.0 if baseline is None else float(baseline)
    return (rewards - b)[:, None] * score(theta)[arms]


@dataclass(frozen=True)
class BanditRun:
    """``probabilities``: π_θ after each step, shape (steps + 1, K); ``theta``: the final logits."""

    theta: np.ndarray
    probabilities: np.ndarray


def train_bandit(bandit: GaussianBandit, steps: int = 300, batch: int = 16, lr: float = 0.5,
                 baseline: str | None = "leave_one_out", rng: Any = None) -> BanditRun:
    """Gradient ascent θ ← θ + η ĝ with ĝ the mean of ``batch`` REINFORCE estimates, starting from θ = 0."""
    rng = np.random.default_rng(rng)
    theta = np.zeros(len(bandit.means))
    history = [np.asarray(softmax(theta))]
    for _ in range(steps):
        theta = theta + lr * reinforce_estimates(bandit, theta, batch, rng, baseline).mean(axis=0)
        history.append(np.asarray(softmax(theta)))
    return BanditRun(theta, np.array(history))
