"""Timing shared by the benchmark scripts: warm up, then the median of many repetitions."""

from __future__ import annotations

import time
from collections.abc import Callable


def median_seconds(work: Callable[[], object], repeats: int = 200, warmup: int = 20) -> float:
    """Median wall time of ``work()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        work()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2]


def report(title: str, timings: dict[str, float], reference: str = "calcml") -> None:
    """Print each timing and the ratio calcml / baseline."""
    print(f"\n{title}")
    ours = timings[reference]
    for name, seconds in timings.items():
        ratio = "" if name == reference else f"   calcml / {name} = {ours / seconds:.2f}"
        print(f"  {name:<22} {seconds * 1e6:10.1f} µs{ratio}")


def calcml_sgd_step(params: list, loss: Callable, lr: float, *batch: object) -> None:
    """One calcml training step as a user writes it: forward, ``backward()``, then the update in place
    inside ``no_grad`` (as in PyTorch; a leaf's array is read-only otherwise)."""
    import calcml as cm

    loss(*params, *batch).backward()
    with cm.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def interleaved_rounds(works: dict[str, Callable[[], object]], repeats: int, rounds: int,
                       warmup: int = 5) -> dict[str, list[float]]:
    """Each work's median time in every one of ``rounds`` rounds; within a round the works take turns
    (``repeats`` runs each), so a change in the machine's load falls on all of them alike."""
    for work in works.values():
        for _ in range(warmup):
            work()
    medians: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(rounds):
        for name, work in works.items():
            medians[name].append(median_seconds(work, repeats=repeats, warmup=1))
    return medians


def report_rounds(title: str, medians: dict[str, list[float]], reference: str = "calcml") -> None:
    """Print each work's range of per-round medians and the range of the per-round ratios calcml / work."""
    print(f"\n{title}  ({len(medians[reference])} interleaved rounds: lowest–highest, median)")
    ours = medians[reference]
    for name, times in medians.items():
        line = f"  {name:<24} {min(times) * 1e6:9.1f}–{max(times) * 1e6:.1f} µs"
        if name != reference:
            ratios = sorted(a / b for a, b in zip(ours, times))
            line += (f"   calcml / {name} = {ratios[0]:.2f}–{ratios[-1]:.2f}, "
                     f"median {ratios[len(ratios) // 2]:.2f}")
        print(line)
