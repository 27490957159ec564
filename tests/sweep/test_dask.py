"""A real Dask cluster: a distributed.LocalCluster of 2 worker processes on the loopback interface, started and
closed here. The sweep's table and the Monte Carlo estimates on it equal the serial ones exactly."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

import calcml as cm
from calcml.sweep import BackendUnavailableError
from tests.sweep.functions import fails_at_large_lr, quadratic_loss
from tests.sweep.test_sampling import BOX, gaussian_bump
from tests.sweep.test_sweep import GRID, without_times

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    environment = dict(os.environ)  # the nannies write their workers' variables (OMP_NUM_THREADS ...) in here
    started = time.perf_counter()
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as local:
            with distributed.Client(local, set_as_default=False) as client:
                yield local, client
    finally:
        os.environ.clear()
        os.environ.update(environment)
    assert time.perf_counter() - started < 60  # the whole module, cluster start and stop included


def test_sweep_on_dask_equals_serial_and_records_failures(cluster):
    _, client = cluster
    on_dask = cm.sweep(quadratic_loss, GRID, seeds=3, client=client, progress=False)
    assert on_dask.backend == "dask"
    assert without_times(on_dask) == without_times(cm.sweep(quadratic_loss, GRID, seeds=3, backend="serial",
                                                             progress=False))
    failing = cm.sweep(fails_at_large_lr, {"lr": [0.5, 1.0]}, seeds=2, backend="dask", client=client, progress=False)
    assert [r["error"] is None for r in failing.records] == [True, True, False, False]


def connected_clients(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.clients))


def test_a_scheduler_address_opens_and_closes_its_own_client(cluster, tmp_path):
    local, client = cluster
    before = connected_clients(client)
    store = tmp_path / "runs.jsonl"
    first = cm.sweep(quadratic_loss, {"lr": [0.1], "optimizer": ["adam"]}, seeds=2, client=local.scheduler_address,
                     store=store, progress=False)
    assert first.backend == "dask" and len(first.records) == 2
    again = cm.sweep(quadratic_loss, {"lr": [0.1], "optimizer": ["adam"]}, seeds=2, client=local.scheduler_address,
                     store=store, progress=False)
    assert again.resumed == 2 and without_times(again) == without_times(first)
    deadline = time.monotonic() + 10  # closing is asynchronous: the scheduler hears of it shortly after
    while connected_clients(client) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert connected_clients(client) == before


def test_monte_carlo_and_sde_on_dask_equal_one_core(cluster):
    _, client = cluster
    serial = cm.integrate.montecarlo(gaussian_bump, BOX, n=100_000, rng=5)
    on_dask = cm.integrate.montecarlo(gaussian_bump, BOX, n=100_000, rng=5, client=client, chunks=4)
    assert (on_dask.value, on_dask.stderr) == (serial.value, serial.stderr)
    estimate = cm.prob.grad_expectation(np.sin, "normal", (0.3, 1.0), n=10_000, rng=2, backend="dask", client=client)
    np.testing.assert_array_equal(estimate.grad, cm.prob.grad_expectation(np.sin, "normal", (0.3, 1.0), n=10_000,
                                                                          rng=2).grad)
    ts = np.linspace(0, 1, 11)
    paths = cm.sde.euler_maruyama(lambda t, x: -x, lambda t, x: 0.3, np.ones(2), ts, rng=1, n_paths=600,
                                  client=client)
    np.testing.assert_array_equal(paths, cm.sde.euler_maruyama(lambda t, x: -x, lambda t, x: 0.3, np.ones(2), ts,
                                                               rng=1, n_paths=600))


def test_an_unreachable_scheduler_is_a_clear_error():
    import dask

    refused = pytest.raises(BackendUnavailableError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), refused:
        cm.sweep(abs, {"x": [1]}, client="tcp://127.0.0.1:9", progress=False)


def test_calcml_sweep_on_the_cluster_writes_the_recipes_own_results(cluster, tmp_path):
    from typer.testing import CliRunner

    import calcml.cli.sweep  # noqa: F401  (registers the command)
    from calcml.cli.app import app
    from calcml.train.recipes import digits_run

    local, _ = cluster
    result = CliRunner().invoke(app, ["sweep", "digits", "--lr", "1e-2", "--optimizer", "sgd,adam", "--seeds", "1",
                                      "--epochs", "1", "--train-size", "100", "--format", "json", "--backend", "dask",
                                      "--scheduler", local.scheduler_address, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "on dask" in " ".join(result.output.split())
    table = json.loads((tmp_path / "sweep-digits.json").read_text())
    assert [(row["optimizer"], row["seed"]) for row in table] == [("sgd", 0), ("adam", 0)]
    for row in table:  # computed on a worker, bit for bit what this process computes
        here = digits_run(1e-2, row["optimizer"], 0, epochs=1, train_size=100)
        assert (row["train_loss"], row["test_accuracy"]) == (here["train_loss"], here["test_accuracy"])
