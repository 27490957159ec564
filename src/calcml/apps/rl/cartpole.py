"""REINFORCE with a baseline on gymnasium's CartPole-v1 (gymnasium is optional: ``pip install gymnasium``).

The policy is a small network π_θ(a|s) = softmax(f_θ(s)). After each episode s₀a₀r₀ … s_{T−1}a_{T−1}r_{T−1}
the score-function gradient of J(θ) = E[Σ_t r_t] is estimated by

    ĝ = Σ_t (G_t − b(s_t)) ∇_θ log π_θ(a_t|s_t),   G_t = Σ_{k≥t} γ^{k−t} r_k,

and calcml gets it by differentiating the surrogate L(θ) = −Σ_t Â_t log π_θ(a_t|s_t) with the advantages
Â_t = G_t − b(s_t) held constant (only the log-probabilities depend on θ). The baseline b is a value network
fitted to the returns by least squares (REINFORCE with baseline, Sutton & Barto §13.4); the advantages are
then scaled to unit variance within the episode, which sets the step size but not the direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.state import no_grad
from calcml.nn import Linear, Sequential, Tanh
from calcml.nn.activations import log_softmax
from calcml.optim import Adam

SOLVED_MEAN = 475.0  # CartPole-v1: the mean return over 100 consecutive episodes that counts as solved


def make_cartpole(seed: int | None = None) -> Any:
    """gymnasium's CartPole-v1, imported only when asked for."""
    try:
        import gymnasium
    except ImportError:
        raise ImportError("CartPole needs gymnasium, an optional dependency of calcml: pip install gymnasium "
                          "(the bandit and the tabular MDP in calcml.apps.rl need nothing extra).") from None
    env = gymnasium.make("CartPole-v1")
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + γ G_{t+1}, computed backwards from G_T = 0."""
    returns = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def mlp(sizes: tuple[int, ...], rng: np.random.Generator) -> Sequential:
    layers: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, init="xavier_uniform", rng=rng, dtype=np.float64))
        if i < len(sizes) - 2:
            layers.append(Tanh())
    return Sequential(*layers)


@dataclass(frozen=True)
class Episode:
    """One episode: ``states`` (T, 4), ``actions`` (T,), ``rewards`` (T,)."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray

    @property
    def total_reward(self) -> float:
        return float(self.rewards.sum())


def run_episode(env: Any, policy: Sequential, rng: np.random.Generator) -> Episode:
    """Act with a ∼ π_θ(·|s) until the pole falls or the episode is cut at 500 steps (no graph is built)."""
    states, actions, rewards = [], [], []
    state, _ = env.reset()
    done = False
    with no_grad():
        while not done:
            logits = policy(state).value
            p = np.exp(logits - logits.max())
            action = int(rng.uniform() * p.sum() > p[0])
            next_state, reward, terminated, truncated, _ = env.step(action)
            states.append(state)
            actions.append(action)
            rewards.append(reward)
            state, done = next_state, terminated or truncated
    return Episode(np.array(states, dtype=float), np.array(actions), np.array(rewards, dtype=float))


class ReinforceAgent:
    """A policy network and a value-network baseline, each with its own Adam optimizer."""

    def __init__(self, hidden: int = 32, lr: float = 0.01, value_lr: float = 0.01, gamma: float = 0.99,
                 rng: Any = None):
        rng = np.random.default_rng(rng)
        self.rng = rng
        self.gamma = gamma
        self.policy = mlp((4, hidden, 2), rng)
        self.value = mlp((4, hidden, 1), rng)
        self.policy_optimizer = Adam(self.policy.parameters(), lr=lr)
        self.value_optimizer = Adam(self.value.parameters(), lr=value_lr)

    def policy_loss(self, episode: Episode, advantages: np.ndarray) -> Any:
        """L(θ) = −(1/T) Σ_t Â_t log π_θ(a_t|s_t); its gradient is minus the REINFORCE estimate (over T)."""
        log_probs = log_softmax(self.policy(episode.states), axis=1)
        chosen = np.take_along_axis(log_probs, episode.actions[:, None], axis=1)[:, 0]
        return -np.mean(advantages * chosen)

    def update(self, episode: Episode) -> dict[str, float]:
        """One policy step along the REINFORCE estimate and one least-squares step for the baseline."""
        returns = discounted_returns(episode.rewards, self.gamma)
        scale = 1 / (1 - self.gamma)  # the largest possible return: the critic predicts G/scale, of order 1
        with no_grad():
            baseline = scale * self.value(episode.states).value[:, 0]
        advantages = returns - baseline
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

        loss = self.policy_loss(episode, advantages)
        self.policy.zero_grad()
        loss.backward()
        self.policy_optimizer.step()

        value_loss = np.mean((self.value(episode.states)[:, 0] - returns / scale) ** 2)
        self.value.zero_grad()
        value_loss.backward()
        self.value_optimizer.step()
        return {"policy_loss": loss.item(), "value_loss": value_loss.item()}


@dataclass(frozen=True)
class CartPoleRun:
    """``returns``: the total reward of each training episode; ``solved_at``: the first episode whose
    last-100 mean reached 475 (counted from 1), or None."""

    returns: np.ndarray
    solved_at: int | None

    def improvement(self, window: int = 20) -> tuple[float, float]:
        """(mean return of the first ``window`` episodes, mean return of the last ``window``).

        Learning shows as the second well above the first (a random policy keeps the pole up for about 22
        steps). With one update per episode REINFORCE needs on the order of 100 episodes before the returns
        rise: 20 episodes are 20 noisy gradient steps and show nothing yet.

        >>> CartPoleRun(np.array([10.0, 12.0, 30.0, 50.0]), None).improvement(window=2)
        (11.0, 40.0)
        """
        if not 1 <= window <= len(self.returns):
            raise ValueError(f"window must be from 1 to the {len(self.returns)} episodes of the run, got {window}")
        return float(self.returns[:window].mean()), float(self.returns[-window:].mean())


def moving_mean(returns: np.ndarray, window: int = 100) -> np.ndarray:
    """The mean of the last ``window`` returns at each episode from ``window`` on."""
    sums = np.cumsum(np.concatenate([[0.0], returns]))
    return (sums[window:] - sums[:-window]) / window


def train_cartpole(episodes: int = 1000, seed: int = 0, stop_when_solved: bool = True, **agent_options: Any
                   ) -> CartPoleRun:
    """REINFORCE with a baseline on CartPole-v1 for at most ``episodes`` episodes, one update per episode."""
    env = make_cartpole(seed)
    agent = ReinforceAgent(rng=seed, **agent_options)
    returns: list[float] = []
    solved_at = None
    for k in range(episodes):
        episode = run_episode(env, agent.policy, agent.rng)
        agent.update(episode)
        returns.append(episode.total_reward)
        if solved_at is None and k + 1 >= 100 and np.mean(returns[-100:]) >= SOLVED_MEAN:
            solved_at = k + 1
            if stop_when_solved:
                break
    env.close()
    return CartPoleRun(np.array(returns), solved_at)
