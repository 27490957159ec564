"""``calcml sweep digits`` end to end (typer's CliRunner): the table and the picture are written, the printed
means are the table's, a second run resumes, and bad input is one clear line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import calcml.cli.sweep  # noqa: F401  (registers the command)
from calcml.cli.app import app
from calcml.train.recipes import digits_run

runner = CliRunner()
SMALL = ["--epochs", "1", "--train-size", "200", "--backend", "serial"]


def test_sweep_digits_writes_the_table_and_picture_and_resumes(tmp_path):
    args = ["sweep", "digits", "--lr", "1e-3,1e-2", "--optimizer", "sgd,adam", "--seeds", "2", *SMALL,
            "--out", str(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    rows = list(csv.DictReader((tmp_path / "sweep-digits.csv").open()))
    assert len(rows) == 2 * 2 * 2 and all(row["error"] == "" for row in rows)
    points = {(row["lr"], row["optimizer"]) for row in rows}
    assert points == {(lr, name) for lr in ("0.001", "0.01") for name in ("sgd", "adam")}
    # each row is the recipe's own result at that point and seed
    again = digits_run(float(rows[3]["lr"]), rows[3]["optimizer"], int(rows[3]["seed"]), epochs=1, train_size=200)
    assert float(rows[3]["train_loss"]) == again["train_loss"]
    assert json.loads(rows[3]["loss_per_epoch"]) == again["loss_per_epoch"]
    assert (tmp_path / "sweep-digits.png").stat().st_size > 10_000
    assert "0 resumed" in first.output

    second = runner.invoke(app, [*args, "--json", "--format", "json"])
    assert second.exit_code == 0, second.output
    report = json.loads(second.output.strip().splitlines()[-1])
    assert report["resumed"] == 8 and report["failed"] == 0 and report["runs"] == 8
    adam = [float(row["train_loss"]) for row in rows if row["optimizer"] == "adam" and row["lr"] == "0.01"]
    shown = next(s for s in report["summary"] if s["optimizer"] == "adam" and s["lr"] == 0.01)
    assert shown["mean"] == pytest.approx(np.mean(adam), rel=1e-12) and shown["n"] == 2
    assert len(json.loads((tmp_path / "sweep-digits.json").read_text())) == 8

    fresh = runner.invoke(app, [*args, "--fresh", "--seeds", "1", "--json"])
    assert json.loads(fresh.output.strip().splitlines()[-1])["resumed"] == 0


@pytest.mark.parametrize(("extra", "message"), [
    (["--lr", "0.1,-1"], "--lr takes positive learning rates"),
    (["--optimizer", "adam,lbfgs"], "--optimizer takes names separated by commas"),
    (["--backend", "dask"], "--backend dask needs --scheduler"),
    (["--backend", "serial", "--scheduler", "tcp://127.0.0.1:9"], "it goes with --backend dask"),
])
def test_bad_options_are_one_clear_line(tmp_path, extra, message):
    result = runner.invoke(app, ["sweep", "digits", "--out", str(tmp_path), *extra])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output


def test_an_unknown_recipe_is_refused(tmp_path):
    result = runner.invoke(app, ["sweep", "cifar", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown recipe 'cifar'" in result.output


def test_the_command_line_loads_the_training_recipes_only_when_sweeping():
    import subprocess
    import sys

    code = "import sys, calcml.cli.sweep; print('calcml.train' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
