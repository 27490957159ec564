"""The same sweep — 32 training runs of the digits MLP recipe (4 learning rates × sgd, adam × 4 seeds, full
training set) — serially, on local processes (joblib/loky) and on a local Dask cluster of 2 worker processes;
prints the wall times and the speed-ups over serial, and checks that the three tables are identical.
Then one Monte Carlo integral of 4·10⁶ points on the three backends (identical estimates).

    python benchmarks/bench_sweep.py [--epochs 3] [--workers 2]

Worker start-up is counted for processes (a fresh loky pool) and not for Dask (the cluster's start is printed
on its own line: on a real cluster it is started once, by `dask scheduler` / `dask worker`).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import calcml as cm
from calcml.train.recipes import digits_run


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import dask
    from distributed import Client, LocalCluster

    grid = {"lr": [1e-3, 3e-3, 1e-2, 3e-2], "optimizer": ["sgd", "adam"], "epochs": [args.epochs]}
    print(f"sweep: 32 runs of the digits MLP, {args.epochs} epochs each; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    serial, serial_s = timed(lambda: cm.sweep(digits_run, grid, seeds=4, backend="serial", progress=False))
    work = sum(record["seconds"] for record in serial.records)
    print(f"  serial              {serial_s:7.2f} s   (sum of the runs' own times {work:.2f} s)")
    for start in ("cold", "warm"):  # cold: loky starts its workers (and they import calcml); warm: reused
        processes, processes_s = timed(lambda: cm.sweep(digits_run, grid, seeds=4, backend="processes",
                                                        n_jobs=args.workers, progress=False))
        print(f"  processes ({args.workers}, {start}) {processes_s:7.2f} s   speed-up {serial_s / processes_s:.2f}×   "
              f"(mean run {_mean_run(processes):.2f} s against {_mean_run(serial):.2f} s serially)")
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 (memory back to the OS early); calcml's training
    # allocates many small arrays, which that slows down: measured with it unset, then with Dask's default (in this
    # order: a LocalCluster's nanny writes the variable into this process's environment, which later workers inherit)
    no_trim = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    for label, config in (("no trim", no_trim), ("default", {})):
        with dask.config.set(config):
            (cluster, client), start_s = timed(lambda: _start(LocalCluster, Client, args.workers))
        with cluster, client:
            on_dask, dask_s = timed(lambda: cm.sweep(digits_run, grid, seeds=4, client=client, progress=False))
            print(f"  dask LocalCluster ({args.workers}, {label}) {dask_s:6.2f} s   speed-up {serial_s / dask_s:.2f}×"
                  f"   (mean run {_mean_run(on_dask):.2f} s; cluster start {start_s:.1f} s, not counted)")
            plain = [[{k: v for k, v in r.items() if k != "seconds"} for r in result.records]
                     for result in (serial, processes, on_dask)]
            assert plain[0] == plain[1] == plain[2], "the tables differ between backends"
            if label == "default":
                print("  the tables are identical on every backend (seconds aside)")
                _monte_carlo(client, args.workers)


def _monte_carlo(client, workers: int) -> None:
    f = lambda x, y, z: np.exp(-(x * x + y * y + z * z))
    box = [(0, 1)] * 3
    print("\nMonte Carlo, 4·10⁶ points of a 3-D Gaussian bump (245 blocks of 16384)")
    estimates = {}
    for name, options in (("serial", {}), ("processes", {"backend": "processes", "chunks": workers}),
                          ("dask", {"client": client, "chunks": 2 * workers})):
        estimates[name], seconds = timed(lambda: cm.integrate.montecarlo(f, box, n=4_000_000, rng=0, **options))
        print(f"  {name:<10} {seconds:6.2f} s   {estimates[name].value:.10f} ± {estimates[name].stderr:.1e}")
    assert len({r.value for r in estimates.values()}) == 1, "the estimates differ between backends"
    print("  the three estimates are identical")


def _mean_run(result) -> float:
    return float(np.mean([record["seconds"] for record in result.records]))


def _start(local_cluster, client_class, workers):
    cluster = local_cluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None)
    return cluster, client_class(cluster, set_as_default=False)


if __name__ == "__main__":
    main()
