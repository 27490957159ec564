"""`calcml optimize`: the race table, the pictures, clear errors."""

import re

import numpy as np
from typer.testing import CliRunner

import calcml.cli.optimize  # noqa: F401  (registers the command)
from calcml.cli.app import app
from calcml.optim.race import race

runner = CliRunner()


def test_race_table_and_pictures(tmp_path):
    out = tmp_path / "pictures"
    result = runner.invoke(app, ["optimize", "rosenbrock", "--optimizers", "gd,momentum,adam", "--lr", "1e-3",
                                 "--steps", "400", "--start", "-1.2,1", "--out", str(out)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    expected = race("rosenbrock", ["gd", "momentum", "adam"], start=(-1.2, 1.0), lr=1e-3, steps=400)
    for run in expected.runs:
        row = next(line for line in result.output.splitlines() if f" {run.label} " in line)
        assert f"{run.final_loss:.6e}" in row
        assert ("yes" if run.diverged else "no") in row
    assert (out / "race-rosenbrock.png").stat().st_size > 0
    svg = (out / "race-rosenbrock.svg").read_text()
    assert "momentum 0.9 (η = 0.001)" in svg and "Adam (η = 0.001)" in svg
    assert "Pictures are in" in result.output and str(out.resolve()) in result.output.replace("\n", "")


def test_steps_to_tolerance_and_divergence_are_reported(tmp_path):
    result = runner.invoke(app, ["optimize", "quadratic", "--optimizers", "gd,newton", "--lr", "0.11",
                                 "--steps", "100", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    gd = next(line for line in result.output.splitlines() if " GD " in line)
    newton = next(line for line in result.output.splitlines() if " Newton " in line)
    assert "yes" in gd  # η = 0.11 > 2/20: the steep direction blows up
    assert re.search(r"│\s+1\s+│\s+no\s+│", newton)  # one Newton step to the minimum
    assert "‖p‖ > 1e+06" in result.output


def test_a_formula_surface(tmp_path):
    result = runner.invoke(app, ["optimize", "x**2 + 10*y**2", "--optimizers", "nesterov", "--lr", "0.05",
                                 "--steps", "200", "--start", "2,1", "--out", str(tmp_path), "--view", "contour"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "race-surface.svg").exists()
    final = race("x**2 + 10*y**2", ["nesterov"], start=(2, 1), lr=0.05, steps=200).runs[0]
    assert f"{final.final_loss:.6e}" in result.output
    assert np.isfinite(final.final_loss)


def test_bad_input_exits_2_with_a_message(tmp_path):
    for args, message in [
        (["optimize", "rosenbrok"], "no built-in surface"),
        (["optimize", "rosenbrock", "--optimizers", "gd,adamm"], "no optimizer 'adamm'"),
        (["optimize", "rosenbrock", "--start", "1"], "--start needs 2 numbers"),
        (["optimize", "rosenbrock", "--start", "a,b"], "--start takes numbers"),
        (["optimize", "x**2 + z", "--out", str(tmp_path)], "x and y"),
        (["optimize", "rosenbrock", "--view", "top"], "--view"),
    ]:
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_help_shows_examples():
    result = runner.invoke(app, ["optimize", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "calcml optimize rosenbrock --optimizers gd,momentum,adam" in result.output
    assert "himmelblau" in result.output and "newton" in result.output
