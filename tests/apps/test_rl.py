"""Policy gradients: the score-function estimate against exact gradients, and learning."""

import builtins
import time

import numpy as np
import pytest

import calcml as cm
from calcml.apps.rl import (
    GaussianBandit,
    ReinforceAgent,
    discounted_returns,
    engine_gradient,
    make_cartpole,
    mdp_reinforce_estimates,
    moving_mean,
    policy_gradient_theorem,
    random_mdp,
    reinforce_estimates,
    run_episode,
    score,
    train_bandit,
    train_cartpole,
)
from calcml.apps.rl.cartpole import CartPoleRun

# offset rewards (all around 6): without a baseline the score-function estimate is very noisy
BANDIT = GaussianBandit(np.array([6.0, 6.5, 7.0, 5.5, 6.2]), noise=1.0)
THETA = np.array([0.2, -0.1, 0.0, 0.3, 0.1])


def z_scores(estimates, exact):
    mean = estimates.mean(axis=0)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    return (mean - exact) / standard_error


# ---- bandit ---------------------------------------------------------------------------------------
def test_softmax_score_is_indicator_minus_probabilities():
    p = np.exp(THETA) / np.exp(THETA).sum()
    np.testing.assert_allclose(score(THETA), np.eye(5) - p[None, :], atol=1e-14)


def test_bandit_exact_gradient_is_the_closed_form():
    p = np.exp(THETA) / np.exp(THETA).sum()
    np.testing.assert_allclose(BANDIT.exact_gradient(THETA), p * (BANDIT.means - p @ BANDIT.means), atol=1e-14)


@pytest.mark.parametrize("baseline", [None, 6.3, "leave_one_out"])
def test_bandit_reinforce_is_unbiased_within_standard_errors(baseline):
    estimates = reinforce_estimates(BANDIT, THETA, 100_000, rng=1, baseline=baseline)
    assert np.max(np.abs(z_scores(estimates, BANDIT.exact_gradient(THETA)))) < 4


def test_biased_baseline_that_depends_on_the_action_is_caught():
    # b(a) = μ_a is not allowed (it depends on the action): E[(r − μ_a)∇log π(a)] = 0 ≠ ∇J
    rng = np.random.default_rng(2)
    p = np.exp(THETA) / np.exp(THETA).sum()
    arms = rng.choice(5, size=100_000, p=p)
    estimates = (BANDIT.pull(arms, rng) - BANDIT.means[arms])[:, None] * score(THETA)[arms]
    assert np.max(np.abs(z_scores(estimates, BANDIT.exact_gradient(THETA)))) > 10


def test_baseline_reduces_variance():
    plain = reinforce_estimates(BANDIT, THETA, 50_000, rng=3).var(axis=0).sum()
    with_baseline = reinforce_estimates(BANDIT, THETA, 50_000, rng=3, baseline="leave_one_out").var(axis=0).sum()
    assert with_baseline < plain / 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bandit_learns_the_best_arm(seed):
    run = train_bandit(BANDIT, steps=300, batch=16, lr=0.5, rng=seed)
    assert run.probabilities[0, 2] == pytest.approx(0.2)
    assert run.probabilities[-1, 2] > 0.9
    assert run.probabilities.shape == (301, 5)


# ---- the policy-gradient theorem on a small MDP ---------------------------------------------------
MDP = random_mdp(n_states=3, n_actions=2, gamma=0.9, rng=0)
MDP_THETA = np.random.default_rng(1).normal(size=(3, 2))


def test_closed_form_policy_gradient_equals_engine_through_bellman_solve():
    for seed in range(5):
        mdp = random_mdp(n_states=4, n_actions=3, gamma=0.95, rng=seed)
        theta = np.random.default_rng(seed + 10).normal(size=(4, 3))
        np.testing.assert_allclose(policy_gradient_theorem(mdp, theta), engine_gradient(mdp, theta), atol=1e-12)
        cm.check_grad(mdp.objective, theta)


def test_value_function_solves_the_bellman_equation_by_iteration():
    pi = np.asarray(MDP.policy(MDP_THETA))
    v = np.zeros(3)
    for _ in range(500):  # V ← r_π + γ P_π V, a contraction
        v = np.sum(pi * (MDP.rewards + MDP.gamma * MDP.transitions[:, :, :-1] @ v), axis=1)
    np.testing.assert_allclose(np.asarray(MDP.values(MDP_THETA)), v, atol=1e-12)


@pytest.mark.parametrize("with_baseline", [False, True])
def test_reinforce_matches_the_policy_gradient_theorem_within_standard_errors(with_baseline):
    exact = policy_gradient_theorem(MDP, MDP_THETA)
    baseline = np.asarray(MDP.values(MDP_THETA)) if with_baseline else None
    estimates = mdp_reinforce_estimates(MDP, MDP_THETA, 20_000, rng=4, baseline=baseline)
    assert np.max(np.abs(z_scores(estimates, exact))) < 4
    assert np.max(np.abs(exact)) > 0.05  # a gradient worth matching


def test_state_baseline_reduces_variance_of_the_mdp_estimate():
    plain = mdp_reinforce_estimates(MDP, MDP_THETA, 20_000, rng=5).var(axis=0).sum()
    baseline = np.asarray(MDP.values(MDP_THETA))
    reduced = mdp_reinforce_estimates(MDP, MDP_THETA, 20_000, rng=5, baseline=baseline).var(axis=0).sum()
    assert reduced < 0.8 * plain


def test_dropping_the_discount_in_front_of_the_score_is_detected_as_biased():
    exact = policy_gradient_theorem(MDP, MDP_THETA)
    estimates = mdp_reinforce_estimates(MDP, MDP_THETA, 20_000, rng=6, discount_score=False)
    assert np.max(np.abs(z_scores(estimates, exact))) > 8


# ---- CartPole -------------------------------------------------------------------------------------
def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 2.0, 3.0]), 0.5), [1 + 1 + 0.75, 2 + 1.5, 3.0])
    np.testing.assert_allclose(moving_mean(np.arange(5.0), window=2), [0.5, 1.5, 2.5, 3.5])


def test_cartpole_smoke_run_shapes_returns_and_gradients():
    pytest.importorskip("gymnasium")
    env = make_cartpole(seed=0)
    agent = ReinforceAgent(hidden=16, rng=0)
    episode = run_episode(env, agent.policy, agent.rng)
    steps = len(episode.rewards)
    assert episode.states.shape == (steps, 4) and episode.actions.shape == (steps,)
    assert set(np.unique(episode.actions)) <= {0, 1} and 5 <= steps <= 500
    assert episode.total_reward == steps  # +1 per step

    # the gradient of the surrogate loss is the REINFORCE estimate: check it against finite differences
    advantages = np.random.default_rng(0).standard_normal(steps)
    weight = agent.policy[0].weight

    def loss_of(w):
        saved, agent.policy[0].weight = agent.policy[0].weight, w
        try:
            return agent.policy_loss(episode, advantages)
        finally:
            agent.policy[0].weight = saved

    cm.check_grad(loss_of, weight.value, atol=1e-4)  # absolute error under 1e-10

    before = [p.value.copy() for p in agent.policy.parameters() + agent.value.parameters()]
    for _ in range(3):
        agent.update(run_episode(env, agent.policy, agent.rng))
    after = agent.policy.parameters() + agent.value.parameters()
    assert all(np.all(np.isfinite(p.value)) and not np.allclose(p.value, b) for p, b in zip(after, before))
    env.close()


def test_cartpole_learns_in_a_fast_fixed_seed_run():
    """The example's --fast setting (100 episodes, seed 0): the last 20 episodes last far longer than the
    first 20, measured, in a few seconds. (20 episodes, the old fast setting, showed no learning.)"""
    pytest.importorskip("gymnasium")
    start = time.perf_counter()
    run = train_cartpole(100, seed=0)
    early, late = run.improvement(window=20)
    assert len(run.returns) == 100 and early < 30  # an untrained policy drops the pole within a few tens of steps
    assert late > 3 * early and late > 50
    assert time.perf_counter() - start < 60


def test_improvement_compares_the_first_and_last_episodes():
    run = CartPoleRun(np.array([10.0, 20.0, 30.0, 40.0, 100.0]), None)
    assert run.improvement(window=2) == (15.0, 70.0)
    assert run.improvement(window=5) == (40.0, 40.0)
    with pytest.raises(ValueError, match="window must be from 1 to the 5 episodes"):
        run.improvement(window=6)


def test_missing_gymnasium_gives_an_install_hint(monkeypatch):
    real_import = builtins.__import__

    def no_gymnasium(name, *args, **kwargs):
        if name == "gymnasium":
            raise ImportError("No module named 'gymnasium'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gymnasium)
    with pytest.raises(ImportError, match="pip install gymnasium"):
        make_cartpole()
