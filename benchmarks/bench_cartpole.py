"""REINFORCE with a value baseline on CartPole-v1: how often it is solved within 1,000 episodes.

Solved = the mean return of the last 100 training episodes reaches 475 (the CartPole-v1 threshold).
One policy update per episode; 10 seeds run in parallel processes (a few minutes on 2 cores).
   python benchmarks/bench_cartpole.py [--seeds 10] [--episodes 1000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from calcml.apps.rl import moving_mean, train_cartpole


def one_seed(seed: int, episodes: int) -> tuple[int, int | None, float, float]:
    start = time.perf_counter()
    run = train_cartpole(episodes, seed=seed)
    best = float(moving_mean(run.returns).max()) if len(run.returns) >= 100 else float("nan")
    return seed, run.solved_at, best, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one_seed, range(args.seeds), [args.episodes] * args.seeds))
    print(f"\nCartPole-v1, REINFORCE + value baseline, {args.episodes} episodes at most per seed")
    for seed, solved_at, best, seconds in results:
        status = f"solved at episode {solved_at}" if solved_at else f"not solved (best 100-mean {best:.1f})"
        print(f"  seed {seed:2d}: {status:<40} {seconds:6.1f} s")
    solved = [r[1] for r in results if r[1] is not None]
    print(f"\n  solved in {len(solved)}/{len(results)} seeds ({100 * len(solved) / len(results):.0f}%)")
    if solved:
        print(f"  episodes to solve: median {np.median(solved):.0f}, range {min(solved)}–{max(solved)}")
    print(f"  wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
