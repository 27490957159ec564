"""The policy-gradient theorem, checked on a small MDP whose gradient can be computed exactly.

An episodic MDP: states 0..S−1, an absorbing terminal state S, actions 0..A−1, transitions P[s, a, s′]
(s′ ∈ 0..S, each row summing to 1), rewards R[s, a], discount γ, start distribution μ₀. A softmax policy
π_θ(a|s) ∝ e^{θ[s, a]}. With P_π[s, s′] = Σ_a π(a|s) P[s, a, s′] restricted to non-terminal states and
r_π[s] = Σ_a π(a|s) R[s, a], the Bellman equation V = r_π + γ P_π V is a linear system:

    V_π = (I − γ P_π)⁻¹ r_π,   Q_π = R + γ P V_π,   J(θ) = μ₀ · V_π.

Policy-gradient theorem (Sutton et al. 2000), with the discounted visitation d_π = (I − γ P_π)⁻ᵀ μ₀:

    ∇J = Σ_s d_π(s) Σ_a ∇π(a|s) Q_π(s, a),   for the softmax:  ∂J/∂θ[s, a] = d_π(s) π(a|s) (Q_π(s, a) − V_π(s)).

The same number three ways: this closed form, ``cm.grad`` through the linear solve for J(θ), and the
REINFORCE Monte-Carlo estimate  E[Σ_t γᵗ (G_t − b(s_t)) ∇log π(a_t|s_t)],  G_t = Σ_{k≥t} γ^{k−t} r_k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.rules.reductions import softmax
from calcml.autodiff.transforms import grad, jacobian
from calcml.nn.activations import log_softmax


@dataclass(frozen=True)
class TabularMDP:
    """``transitions``: (S, A, S + 1), last column = termination; ``rewards``: (S, A); ``start``: (S,)."""

    transitions: np.ndarray
    rewards: np.ndarray
    start: np.ndarray
    gamma: float = 0.9

    @property
    def n_states(self) -> int:
        return self.rewards.shape[0]

    @property
    def n_actions(self) -> int:
        return self.rewards.shape[1]

    def policy(self, theta: Any) -> Any:
        """π_θ(a|s): a softmax over each row of θ (S, A)."""
        return softmax(theta, axis=1)

    def values(self, theta: Any) -> Any:
        """V_π from the Bellman equation (I − γ P_π) V = r_π; traced, so ``cm.grad`` goes through the solve."""
        pi = self.policy(theta)
        p_pi = np.einsum("sa,sat->st", pi, self.transitions[:, :, :-1])
        r_pi = np.sum(pi * self.rewards, axis=1)
        return np.linalg.solve(np.eye(self.n_states) - self.gamma * p_pi, r_pi)

    def objective(self, theta: Any) -> Any:
        """J(θ) = μ₀ · V_π: the expected discounted return of an episode."""
        return np.sum(self.start * self.values(theta))


def random_mdp(n_states: int = 3, n_actions: int = 2, gamma: float = 0.9, terminate: float = 0.2,
               rng: Any = None) -> TabularMDP:
    """A random MDP that ends each step with probability ``terminate`` (so episodes are short)."""
    rng = np.random.default_rng(rng)
    moves = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions)) * (1 - terminate)
    transitions = np.concatenate([moves, np.full((n_states, n_actions, 1), terminate)], axis=2)
    return TabularMDP(transitions, rng.normal(size=(n_states, n_actions)), np.full(n_states, 1 / n_states), gamma)


def engine_gradient(mdp: TabularMDP, theta: np.ndarray) -> np.ndarray:
    """∇J by reverse-mode autodiff through the Bellman solve."""
    return grad(mdp.objective)(theta)


def policy_gradient_theorem(mdp: TabularMDP, theta: np.ndarray) -> np.ndarray:
    """∇J in closed form: ∂J/∂θ[s, a] = d_π(s) π(a|s) (Q_π(s, a) − V_π(s)), d_π = (I − γ P_π)⁻ᵀ μ₀."""
    pi = np.asarray(mdp.policy(theta))  # calcml's softmax returns a (constant) Tensor: plain NumPy from here on
    p_pi = np.einsum("sa,sat->st", pi, mdp.transitions[:, :, :-1])
    bellman = np.eye(mdp.n_states) - mdp.gamma * p_pi
    v = np.linalg.solve(bellman, np.sum(pi * mdp.rewards, axis=1))
    q = mdp.rewards + mdp.gamma * mdp.transitions[:, :, :-1] @ v
    visits = np.linalg.solve(bellman.T, mdp.start)
    return visits[:, None] * pi * (q - v[:, None])


def reinforce_estimates(mdp: TabularMDP, theta: np.ndarray, n_episodes: int, rng: Any = None,
                        baseline: np.ndarray | None = None, discount_score: bool = True,
                        max_steps: int = 400) -> np.ndarray:
    """One REINFORCE estimate per episode, shape (n_episodes, S, A); their mean estimates ∇J(θ).

    Σ_t γᵗ (G_t − b(s_t)) ∇log π(a_t|s_t), computed forward in time, for all episodes at once, through
    Σ_t γᵗ G_t ∇log π_t = Σ_k γᵏ r_k z_k with the trace z_k = z_{k−1} + ∇log π_k (the score so far).
    ``baseline``: b(s) per state (e.g. V_π), or None. ``discount_score=False`` computes Σ_t G_t ∇log π_t
    instead (dropping the γᵗ in front, a common slip that biases the estimate; its trace decays,
    z_k = γ z_{k−1} + ∇log π_k). It is kept to show that the check against the exact gradient catches it.
    Episodes still running after ``max_steps`` are cut (their weight is below γ^max_steps).
    """
    rng = np.random.default_rng(rng)
    pi = np.asarray(mdp.policy(theta))
    scores = jacobian(lambda t: log_softmax(t, axis=1))(theta)  # scores[s, a] = ∇_θ log π(a|s), shape (S, A, S, A)
    b = np.zeros(mdp.n_states) if baseline is None else np.asarray(baseline)
    decay = 1.0 if discount_score else mdp.gamma
    state = rng.choice(mdp.n_states, size=n_episodes, p=mdp.start)
    alive = np.ones(n_episodes, dtype=bool)
    trace = np.zeros((n_episodes, mdp.n_states, mdp.n_actions))
    estimate = np.zeros_like(trace)
    for t in range(max_steps):
        if not alive.any():
            break
        s = np.where(alive, state, 0)
        action = np.minimum((rng.uniform(size=(n_episodes, 1)) > np.cumsum(pi[s], axis=1)).sum(axis=1),
                            mdp.n_actions - 1)
        step_score = scores[s, action] * alive[:, None, None]
        trace = decay * trace + step_score
        weight = mdp.gamma**t if discount_score else 1.0
        reward = mdp.rewards[s, action] * alive
        estimate += weight * (reward[:, None, None] * trace - b[s][:, None, None] * step_score)
        next_state = (rng.uniform(size=(n_episodes, 1)) > np.cumsum(mdp.transitions[s, action], axis=1)).sum(axis=1)
        state = np.minimum(next_state, mdp.n_states)
        alive &= state < mdp.n_states
    return estimate
