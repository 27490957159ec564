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
