"""cm.sweep: the same seeds give the same table on every backend; a failing point is recorded while the others
complete; the results file resumes a sweep, skipping finished runs; the table, summary and files hold the
numbers the function returned."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import calcml as cm
from calcml.sweep import SweepInputError, SweepResult
from tests.sweep.functions import fails_at_large_lr, quadratic_loss

GRID = {"lr": [0.01, 0.1, 1.0], "optimizer": ["sgd", "adam"]}


def without_times(result: SweepResult) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "seconds"} for record in result.records]


def test_same_seeds_give_identical_tables_serial_and_processes():
    serial = cm.sweep(quadratic_loss, GRID, seeds=3, backend="serial", progress=False)
    processes = cm.sweep(quadratic_loss, GRID, seeds=3, backend="processes", n_jobs=2, progress=False)
    assert processes.backend == "processes" and serial.backend == "serial"
    assert without_times(serial) == without_times(processes)
    assert len(serial.records) == 3 * 2 * 3 and not serial.failures
    # each row is the function's own value at its point and seed (not a copy of another row)
    for record in serial.records:
        expected = quadratic_loss(record["lr"], record["optimizer"], record["seed"])
        assert record["loss"] == expected["loss"] and record["curve"] == expected["curve"].tolist()
    assert [(r["lr"], r["optimizer"], r["seed"]) for r in serial.records][:4] == [
        (0.01, "sgd", 0), (0.01, "sgd", 1), (0.01, "sgd", 2), (0.01, "adam", 0)]
    other_seeds = cm.sweep(quadratic_loss, GRID, seeds=[5, 6, 7], backend="serial", progress=False)
    assert [r["loss"] for r in other_seeds.records] != [r["loss"] for r in serial.records]


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_a_point_that_raises_is_recorded_and_the_rest_complete(backend):
    result = cm.sweep(fails_at_large_lr, {"lr": [0.1, 1.0, 0.5, 2.0]}, seeds=2, backend=backend, progress=False)
    assert len(result.records) == 8
    failed = [(r["lr"], r["seed"]) for r in result.failures]
    assert failed == [(1.0, 0), (1.0, 1), (2.0, 0), (2.0, 1)]
    assert all(r["error"] == f"FloatingPointError: loss diverged at lr={r['lr']}" for r in result.failures)
    assert all("value" not in r for r in result.failures)
    done = [(r["lr"], r["seed"], r["value"]) for r in result.records if r["error"] is None]
    assert done == [(0.1, 0, 0.1), (0.1, 1, 0.2), (0.5, 0, 0.5), (0.5, 1, 1.0)]
    assert "4 failed" in repr(result)


def test_resume_skips_finished_runs_and_retries_failed_ones(tmp_path):
    store = tmp_path / "runs.jsonl"
    calls = []

    def counted(lr, seed):
        calls.append((lr, seed))
        return fails_at_large_lr(lr, seed)

    first = cm.sweep(counted, {"lr": [0.1, 1.0]}, seeds=2, backend="serial", store=store, progress=False)
    assert len(calls) == 4 and first.resumed == 0
    assert len(store.read_text().splitlines()) == 4  # every finished run written, failures too
    calls.clear()
    second = cm.sweep(counted, {"lr": [0.1, 1.0, 0.3]}, seeds=2, backend="serial", store=store, progress=False)
    assert sorted(calls) == [(0.3, 0), (0.3, 1), (1.0, 0), (1.0, 1)]  # 0.1 done; 1.0 failed: tried again
    assert second.resumed == 2
    assert without_times(second)[:2] == without_times(first)[:2]
    assert [r["lr"] for r in second.records] == [0.1, 0.1, 1.0, 1.0, 0.3, 0.3]


def test_a_results_file_cut_short_by_a_crash_loses_only_that_run(tmp_path):
    store = tmp_path / "runs.jsonl"
    cm.sweep(fails_at_large_lr, {"lr": [0.1, 0.2]}, seeds=1, backend="serial", store=store, progress=False)
    lines = store.read_text().splitlines()
    store.write_text(lines[0] + "\n" + lines[1][:15])  # the second line half-written
    calls = []
    cm.sweep(lambda lr, seed: calls.append(lr) or lr, {"lr": [0.1, 0.2]}, seeds=1, backend="serial", store=store,
             progress=False)
    assert calls == [0.2]
    store.write_text("not json\n" + lines[0] + "\n")
    with pytest.raises(SweepInputError, match="line 1 is not a sweep record"):
        cm.sweep(fails_at_large_lr, {"lr": [0.1]}, seeds=1, backend="serial", store=store, progress=False)


def test_the_table_is_a_dataframe_with_pandas_and_records_without(monkeypatch):
    pandas = pytest.importorskip("pandas")
    result = cm.sweep(quadratic_loss, GRID, seeds=2, backend="serial", progress=False)
    frame = result.table
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["lr", "optimizer", "seed", "loss", "curve", "error", "seconds"]
    assert frame["loss"].tolist() == [r["loss"] for r in result.records]
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    assert result.table == result.records and result.table is not result.records


def test_summary_is_the_mean_and_spread_over_seeds():
    result = cm.sweep(quadratic_loss, GRID, seeds=4, backend="serial", progress=False)
    rows = result.summary("loss")
    assert len(rows) == 6
    for row in rows:
        values = [quadratic_loss(row["lr"], row["optimizer"], s)["loss"] for s in range(4)]
        assert row["n"] == 4
        assert row["mean"] == pytest.approx(np.mean(values), rel=1e-14)
        assert row["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        assert (row["min"], row["max"]) == (min(values), max(values))
    with pytest.raises(SweepInputError, match="no output 'accuracy'"):
        result.summary("accuracy")


def test_save_csv_and_json(tmp_path):
    import csv

    result = cm.sweep(fails_at_large_lr, {"lr": [0.5, 1.0]}, seeds=1, backend="serial", progress=False)
    rows = list(csv.DictReader(result.save(tmp_path / "t.csv").open()))
    assert [row["lr"] for row in rows] == ["0.5", "1.0"] and float(rows[0]["value"]) == 0.5
    assert rows[1]["error"].startswith("FloatingPointError") and rows[1]["value"] == ""
    data = json.loads(result.save(tmp_path / "sub" / "t.json").read_text())
    assert data[0]["value"] == 0.5 and data[1]["value"] is None and data[1]["error"].startswith("Floating")
    with pytest.raises(SweepInputError, match=r"end the name in \.csv or \.json"):
        result.save(tmp_path / "t.xlsx")


def test_points_from_grid_and_random_search():
    assert cm.sweep.grid(a=[1, 2], b=["x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    space = {"lr": cm.sweep.log_uniform(1e-4, 1e-1), "optimizer": ["sgd", "adam"], "epochs": 3}
    points = cm.sweep.random_search(space, n=50, seed=1)
    assert points == cm.sweep.random_search(space, n=50, seed=1) != cm.sweep.random_search(space, n=50, seed=2)
    lrs = np.array([p["lr"] for p in points])
    assert np.all((1e-4 <= lrs) & (lrs <= 1e-1)) and {p["optimizer"] for p in points} == {"sgd", "adam"}
    assert np.mean(lrs < 1e-2) > 0.4  # log-uniform: 2/3 of the mass below 1e-2 (uniform would give 9%)
    assert all(p["epochs"] == 3 for p in points)
    result = cm.sweep(lambda lr, optimizer, epochs: lr, points[:3], backend="serial", progress=False)
    assert [r["value"] for r in result.records] == [p["lr"] for p in points[:3]] and "seed" not in result.records[0]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: cm.sweep(abs, {"x": [1]}, backend="threads"), "backend must be one of"),
    (lambda: cm.sweep(abs, {"x": [1]}, backend="serial", client="tcp://127.0.0.1:1"), "client= is a Dask client"),
    (lambda: cm.sweep(lambda seed: seed, {"seed": [1]}, seeds=2), "clashes with seeds="),
    (lambda: cm.sweep(abs, {"x": [np.zeros(2)]}), "not a plain value"),
    (lambda: cm.sweep(abs, {"x": 3}), "must be a list of values"),
    (lambda: cm.sweep(abs, []), "non-empty list of points"),
    (lambda: cm.sweep(abs, [{"not a name": 1}]), "Python identifiers"),
    (lambda: cm.sweep(abs, {"x": [1]}, seeds=0), "seeds must be a count"),
    (lambda: cm.sweep(abs, {"x": [1]}, n_jobs=0), "n_jobs must be"),
    (lambda: cm.sweep.random_search({"lr": cm.sweep.log_uniform(0, 1)}, n=2), "low > 0"),
    (lambda: cm.sweep.uniform(1, 1), "finite low < high"),
])
def test_bad_input_is_a_clear_error_before_any_run(call, message):
    with pytest.raises(SweepInputError, match=message):
        call()


def test_outputs_that_cannot_be_tabulated_are_recorded_as_errors():
    result = cm.sweep(lambda x: {"x": x} if x else object(), {"x": [0, 1]}, backend="serial", progress=False)
    errors = [r["error"] for r in result.records]
    assert errors[0].startswith("TypeError: output 'value' is of type object")
    assert "output names must be strings other than the parameters" in errors[1]


def test_dask_without_a_client_says_how_to_get_one():
    distributed = pytest.importorskip("distributed")
    try:
        distributed.default_client()
        pytest.skip("a Dask client is active in this process")
    except ValueError:  # none: cm.sweep must say how to get one
        pass
    with pytest.raises(SweepInputError, match="backend='dask' needs client="):
        cm.sweep(abs, {"x": [1]}, backend="dask", progress=False)


def test_without_joblib_dask_and_pandas_serial_works_and_the_others_say_what_to_install(monkeypatch):
    for name in ("joblib", "distributed", "pandas"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing it raises ImportError
    result = cm.sweep(fails_at_large_lr, {"lr": [0.5]}, seeds=2, backend="serial", progress=False)
    assert result.table == result.records and [r["value"] for r in result.records] == [0.5, 1.0]
    assert cm.integrate.montecarlo(np.cos, [(0, 1)], n=1000, rng=0).evals == 1000
    hint = r"needs joblib; install it with: pip install 'calcml\[scale\]'"
    with pytest.raises(cm.sweep.BackendUnavailableError, match=hint):
        cm.sweep(fails_at_large_lr, {"lr": [0.5]}, seeds=1, progress=False)
    with pytest.raises(cm.sweep.BackendUnavailableError, match="needs dask.distributed"):
        cm.integrate.montecarlo(np.cos, [(0, 1)], n=1000, rng=0, client="tcp://127.0.0.1:8786")


def test_points_may_set_different_parameters_and_still_resume(tmp_path):
    points = [{"a": 1}, {"a": 2, "b": 3}]
    store = tmp_path / "runs.jsonl"
    first = cm.sweep(lambda a, b=10: a * b, points, backend="serial", store=store, progress=False)
    assert [r["value"] for r in first.records] == [10, 6] and first.params == ("a", "b")
    assert [row["mean"] for row in first.summary("value")] == [10.0, 6.0]
    again = cm.sweep(lambda a, b=10: -1, points, backend="serial", store=store, progress=False)
    assert again.resumed == 2 and [r["value"] for r in again.records] == [10, 6]
