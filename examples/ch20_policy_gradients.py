"""Chapter 20 — Beyond: reinforcement learning: policy gradients checked three ways, then CartPole.

    python examples/ch20_policy_gradients.py            # full run: CartPole until solved (about 10 s)
    python examples/ch20_policy_gradients.py --fast     # CI settings: fewer samples, 100 CartPole episodes

Reinforcement learning maximizes an expectation J(θ) = E_{a∼π_θ}[r] whose distribution depends on θ.
The log-derivative trick ∇π = π ∇log π turns its gradient into another expectation,
∇J = E[(r − b) ∇log π_θ(a)], that we can estimate from samples: that is REINFORCE.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from calcml.apps import rl


def bandit_chapter(n_samples: int, n_seeds: int) -> dict:
    print("1. A five-armed bandit: arms pay N(μ_a, 1), the policy is softmax(θ)")
    bandit = rl.GaussianBandit(np.array([6.0, 6.5, 7.0, 5.5, 6.2]))
    theta = np.array([0.2, -0.1, 0.0, 0.3, 0.1])
    exact = bandit.exact_gradient(theta)  # cm.grad of J(θ) = Σ softmax(θ)_a μ_a
    print(f"   exact ∇J (cm.grad)          {np.array2string(exact, precision=4)}")
    for name, baseline in (("no baseline", None), ("leave-one-out baseline", "leave_one_out")):
        estimates = rl.reinforce_estimates(bandit, theta, n_samples, rng=0, baseline=baseline)
        mean = estimates.mean(axis=0)
        se = estimates.std(axis=0) / np.sqrt(n_samples)
        print(f"   REINFORCE, {name:<22} {np.array2string(mean, precision=4)}"
              f"  max |z| = {np.max(np.abs(mean - exact) / se):.2f}, total variance {estimates.var(axis=0).sum():.3f}")
    # Learning: the best arm is 2. Rewards all sit near 6, so without a baseline the noise is large
    # and a run can lock onto a worse arm. Train from θ = 0 with several seeds, with and without.
    runs = {}
    for name, b in (("no baseline", None), ("baseline", "leave_one_out")):
        finals = [rl.train_bandit(bandit, steps=300, rng=seed, baseline=b) for seed in range(n_seeds)]
        runs[name] = np.mean([run.probabilities[:, 2] for run in finals], axis=0)
        best = sum(run.probabilities[-1].argmax() == 2 for run in finals)
        print(f"   after 300 steps, {name:<12}: best arm most likely in {best}/{n_seeds} seeds, "
              f"mean π(best arm) = {runs[name][-1]:.3f}")
    return runs


def mdp_chapter(n_episodes: int) -> dict:
    print("\n2. The policy-gradient theorem on a 3-state, 2-action MDP (γ = 0.9)")
    mdp = rl.random_mdp(n_states=3, n_actions=2, rng=0)
    theta = np.random.default_rng(1).normal(size=(3, 2))
    closed_form = rl.policy_gradient_theorem(mdp, theta)  # d_π(s) π(a|s) (Q(s,a) − V(s))
    by_engine = rl.engine_gradient(mdp, theta)            # cm.grad through V = (I − γP_π)⁻¹ r_π
    estimates = rl.mdp_reinforce_estimates(mdp, theta, n_episodes, rng=2, baseline=np.asarray(mdp.values(theta)))
    mean, se = estimates.mean(axis=0), estimates.std(axis=0) / np.sqrt(n_episodes)
    print(f"   {'(s, a)':<8}{'theorem':>10}{'cm.grad':>10}{'REINFORCE':>11}{'± SE':>8}")
    for s in range(3):
        for a in range(2):
            print(f"   {f'({s}, {a})':<8}{closed_form[s, a]:10.4f}{by_engine[s, a]:10.4f}{mean[s, a]:11.4f}"
                  f"{se[s, a]:8.4f}")
    print(f"   theorem vs cm.grad: max difference {np.max(np.abs(closed_form - by_engine)):.1e}")
    return {"theorem": closed_form, "reinforce": mean, "se": se}


def cartpole_chapter(episodes: int) -> np.ndarray | None:
    print(f"\n3. CartPole-v1 with REINFORCE and a value baseline (at most {episodes} episodes)")
    try:
        run = rl.train_cartpole(episodes, seed=0)
    except ImportError as error:
        print(f"   skipped: {error}")
        return None
    if run.solved_at:
        print(f"   solved at episode {run.solved_at}: the last 100 episodes averaged ≥ {rl.SOLVED_MEAN:.0f}")
    else:
        print(f"   {len(run.returns)} episodes, last return {run.returns[-1]:.0f} (500 is the maximum)")
    # One policy update per episode: REINFORCE needs about 100 episodes before the returns rise, so the
    # measure of learning is the mean return of the last 20 episodes against the first 20.
    early, late = run.improvement(window=20)
    print(f"   mean return, first 20 episodes {early:.1f} → last 20 episodes {late:.1f} ({late / early:.1f}×)")
    assert late > 2 * early, "the policy did not learn: the last episodes are no better than the first"
    return run.returns


def draw(path: Path, bandit_runs: dict, mdp: dict, returns: np.ndarray | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, probability in bandit_runs.items():
        axes[0].plot(probability, label=name)
    axes[0].set(title="bandit: π(best arm), mean over seeds", xlabel="step", ylim=(0, 1))
    axes[0].legend()
    k = np.arange(mdp["theorem"].size)
    axes[1].bar(k - 0.2, mdp["theorem"].ravel(), 0.4, label="policy-gradient theorem")
    axes[1].bar(k + 0.2, mdp["reinforce"].ravel(), 0.4, yerr=2 * mdp["se"].ravel(), label="REINFORCE ± 2 SE")
    axes[1].set(title="∂J/∂θ[s, a] on a small MDP", xlabel="(s, a) flattened")
    axes[1].legend()
    if returns is not None:
        axes[2].plot(returns, lw=0.8, label="episode return")
        if len(returns) >= 100:
            axes[2].plot(np.arange(99, len(returns)), rl.moving_mean(returns), label="mean of last 100")
        axes[2].axhline(rl.SOLVED_MEAN, color="k", ls="--", lw=0.8)
        axes[2].set(title="CartPole-v1", xlabel="episode")
        axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Policy gradients, checked and applied.")
    parser.add_argument("--fast", action="store_true", help="small sample sizes (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for policy_gradients.png")
    args = parser.parse_args(argv)
    bandit_runs = bandit_chapter(n_samples=20_000 if args.fast else 200_000, n_seeds=4 if args.fast else 20)
    mdp = mdp_chapter(n_episodes=5_000 if args.fast else 50_000)
    returns = cartpole_chapter(episodes=100 if args.fast else 1000)  # 100: the fewest that show learning
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "policy_gradients.png", bandit_runs, mdp, returns)


if __name__ == "__main__":
    main()
