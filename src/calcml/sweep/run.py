"""``cm.sweep(fn, grid, seeds=...)``: run a function at every point of a grid (and every seed) on a backend,
and gather a tidy table.

Runs go to the workers and their results stream back as they finish (with a progress bar); a run that raises
is recorded with its error and the others go on; with ``store=`` each finished run is written at once, and a
later call with the same file skips the runs already done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from calcml.sweep import store as results_file
from calcml.sweep.backends import session
from calcml.sweep.errors import SweepInputError
from calcml.sweep.record import RESERVED, attempt, run_key
from calcml.sweep.result import SweepResult
from calcml.sweep.space import as_points


def run(fn: Callable[..., Any], grid: Mapping[str, Iterable[Any]] | Sequence[Mapping[str, Any]],
        seeds: int | Iterable[int] | None = None, *, backend: str | None = None, client: Any = None,
        n_jobs: int | None = None, store: str | Path | None = None, progress: bool = True) -> SweepResult:
    """Call ``fn(**point, seed=s)`` for every point of ``grid`` and every seed; return the table of results.

    ``grid``: a dict of axes ({"lr": [1e-3, 1e-2], "optimizer": ["sgd", "adam"]}: every combination), or a list
    of points (``cm.sweep.grid``, ``cm.sweep.random_search``). ``seeds``: a count n (seeds 0 … n−1) or a list
    of ints, passed as ``seed=``; None calls ``fn(**point)``. ``fn`` returns a number, an array or a dict of them.
    ``backend``: "processes" (joblib, every local core; the default), "serial", or "dask" with ``client=`` (a
    ``distributed.Client`` or a scheduler address, "tcp://host:8786"; a client alone implies "dask").
    ``store``: a .jsonl file where each finished run is appended; runs already in it are skipped.

    >>> result = cm.sweep(lambda a, b, seed: a * b + seed, {"a": [1, 2], "b": [10]}, seeds=2, backend="serial",
    ...                   progress=False)
    >>> [record["value"] for record in result.records]
    [10, 11, 20, 21]
    """
    points = as_points(grid)
    seed_list = _seeds(seeds)
    params = tuple(dict.fromkeys(name for point in points for name in point))
    if seeds is not None and "seed" in params:
        raise SweepInputError("a parameter named 'seed' clashes with seeds=: rename it, or drop seeds= and sweep "
                              "the seed as an ordinary parameter.")
    tasks = [(point, seed) for point in points for seed in seed_list]
    path = None if store is None else Path(store)
    done = {} if path is None else results_file.load_done(path, params)
    records: list[dict[str, Any] | None] = [done.get(run_key(point, seed)) for point, seed in tasks]
    todo = [index for index, record in enumerate(records) if record is None]
    started = time.perf_counter()
    with session(backend, client, n_jobs=n_jobs, default="processes") as backend_session:
        label = f"sweep on {backend_session.name} ({backend_session.workers} at a time)"
        with _progress_bar(progress, label, len(tasks), len(tasks) - len(todo)) as advance:
            work = [tasks[index] for index in todo]
            for position, outcome in backend_session.run_unordered(partial(attempt, fn), work):
                point, seed = work[position]
                record = {**point, **({} if seed is None else {"seed": seed}), **outcome.pop("outputs", {}),
                          "error": outcome.get("error"), "seconds": outcome["seconds"]}
                records[todo[position]] = record
                if path is not None:
                    results_file.append(path, record)
                advance(record["error"] is not None)
    finished = [record for record in records if record is not None]
    skip = set(params) | set(RESERVED)
    outputs = tuple(dict.fromkeys(name for record in finished for name in record if name not in skip))
    return SweepResult(finished, params, outputs, backend_session.name, time.perf_counter() - started,
                       resumed=len(tasks) - len(todo))


def _seeds(seeds: int | Iterable[int] | None) -> list[int | None]:
    if seeds is None:
        return [None]
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise SweepInputError(f"seeds must be a count ≥ 1 or a list of ints, not {seeds!r}.")
        return list(range(int(seeds)))
    listed = list(seeds) if isinstance(seeds, Iterable) and not isinstance(seeds, (str, bytes)) else None
    if not listed or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in listed):
        raise SweepInputError(f"seeds must be a count ≥ 1 or a non-empty list of ints, not {seeds!r}.")
    return [int(s) for s in listed]


@contextmanager
def _progress_bar(shown: bool, label: str, total: int, already: int):
    """``advance(failed)`` after each run: a rich bar with the count of failures, or nothing when not shown."""
    if not shown:
        yield lambda failed: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    failures = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(label + (f", {already} resumed" if already else ""), total=total, completed=already)

        def advance(failed: bool) -> None:
            nonlocal failures
            failures += failed
            note = f", {failures} failed" if failures else ""
            bar.update(task, advance=1, description=label + (f", {already} resumed" if already else "") + note)

        yield advance
