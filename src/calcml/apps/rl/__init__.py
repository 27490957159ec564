"""Policy gradients: REINFORCE on a bandit and on CartPole-v1, and the policy-gradient theorem on a small MDP."""

from calcml.apps.rl.bandit import BanditRun, GaussianBandit, reinforce_estimates, score, train_bandit
from calcml.apps.rl.cartpole import (
    SOLVED_MEAN,
    CartPoleRun,
    Episode,
    ReinforceAgent,
    discounted_returns,
    make_cartpole,
    moving_mean,
    run_episode,
    train_cartpole,
)
from calcml.apps.rl.tabular import TabularMDP, engine_gradient, policy_gradient_theorem, random_mdp
from calcml.apps.rl.tabular import reinforce_estimates as mdp_reinforce_estimates

__all__ = [
    "SOLVED_MEAN", "BanditRun", "CartPoleRun", "Episode", "GaussianBandit", "ReinforceAgent", "TabularMDP",
    "discounted_returns", "engine_gradient", "make_cartpole", "mdp_reinforce_estimates", "moving_mean",
    "policy_gradient_theorem", "random_mdp", "reinforce_estimates", "run_episode", "score", "train_bandit",
    "train_cartpole",
]
