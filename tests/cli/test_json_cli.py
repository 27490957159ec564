"""``--json`` on every command that prints a result: standard output is exactly one JSON object, whose
numbers are the ones the command computed; and ``calcml --version``."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import calcml.cli.check  # noqa: F401  (each import registers its commands)
import calcml.cli.exercises  # noqa: F401
import calcml.cli.optimize  # noqa: F401
import calcml.cli.symbolic  # noqa: F401
import calcml.cli.tour  # noqa: F401
import calcml.cli.train  # noqa: F401
from calcml.cli.app import app

runner = CliRunner()


def one_json_object(result) -> dict:
    """The command's standard output parsed as one JSON object (strict JSON: no NaN or Infinity)."""
    text = result.stdout.strip()
    assert text.count("\n") == 0, f"expected one line of JSON, got:\n{text}"
    payload = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert isinstance(payload, dict)
    return payload


def test_version_prints_the_installed_version_and_exits_0():
    from importlib.metadata import version

    script = Path(sys.executable).with_name("calcml")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"calcml {version('calcml')}"


def test_derive_json():
    payload = one_json_object(runner.invoke(app, ["derive", "sin(x^2)", "--json"]))
    assert payload["result"] == "2*x*cos(x**2)"


def test_integrate_json_symbolic_and_numeric():
    exact = one_json_object(runner.invoke(app, ["integrate", "x*exp(x)", "--from", "0", "--to", "1", "--json"]))
    assert exact["result"] == "1"
    numeric = runner.invoke(app, ["integrate", "exp(-x^2)", "--wrt", "x", "--from", "-oo", "--to", "oo",
                                  "--numeric", "--json"])
    assert numeric.exit_code == 0, numeric.output
    payload = one_json_object(numeric)
    assert payload["value"] == pytest.approx(math.sqrt(math.pi), rel=1e-10)
    assert payload["error"] < 1e-8 and payload["evals"] > 0


def test_exercise_json_right_wrong_and_missing_answers():
    asked = one_json_object(runner.invoke(app, ["exercise", "--topic", "power-rule", "--seed", "1", "--json"],
                                          input="\n"))
    assert asked["answer"] is None and asked["correct"] is False
    right = runner.invoke(app, ["exercise", "--topic", "power-rule", "--seed", "1", "--json",
                                "--answer", asked["expected"]])
    assert right.exit_code == 0 and one_json_object(right)["correct"] is True
    wrong = runner.invoke(app, ["exercise", "--topic", "power-rule", "--seed", "1", "--json", "--answer", "x + 1"])
    payload = one_json_object(wrong)
    assert wrong.exit_code == 1 and payload["correct"] is False and payload["prompt"] == asked["prompt"]


def test_check_json(tmp_path):
    (tmp_path / "model.py").write_text("import numpy as np\n\ndef f(x):\n    return np.sum(np.sin(x) * x)\n")
    result = runner.invoke(app, ["check", f"{tmp_path / 'model.py'}:f", "--at", "0.5,2.0", "--json"])
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    x = np.array([0.5, 2.0])
    assert payload["passed"] is True and payload["max_rel_error"] < 1e-6
    np.testing.assert_allclose(payload["arguments"][0]["autodiff"], np.cos(x) * x + np.sin(x), rtol=1e-12)


def test_optimize_json_reports_every_run_and_the_pictures(tmp_path):
    result = runner.invoke(app, ["optimize", "x**2 + 10*y**2", "--optimizers", "gd,adam", "--lr", "0.05",
                                 "--steps", "200", "--start", "1,1", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert [run["optimizer"] for run in payload["runs"]] == ["gd", "adam"]
    gd = payload["runs"][0]
    # gradient descent on x² + 10y² with η = 0.05: x shrinks by 0.9 and y by 0 each step
    assert gd["final_point"] == pytest.approx([0.9 ** 200, 0.0], abs=1e-12)
    assert all(Path(path).is_file() for path in payload["pictures"])


def test_optimize_json_reports_a_divergence(tmp_path):
    result = runner.invoke(app, ["optimize", "x**2 + y**2", "--optimizers", "gd", "--lr", "5", "--steps", "2000",
                                 "--start", "1,1", "--out", str(tmp_path), "--json"])
    run = one_json_object(result)["runs"][0]
    # p ← p − 5·2p = −9p: past ‖p‖ > 1e6 at step 7, where the race stops it
    assert run["diverged"] is True and run["final_point"] == [(-9) ** 7] * 2
    assert run["final_loss"] == 2 * 9 ** 14


def test_json_output_is_strict_json():
    from calcml.cli.app import plain_json

    value = {"loss": np.float64("inf"), "path": np.array([1.0, np.nan]), "file": Path("a/b"), "n": np.int64(3),
             "pair": (np.float32(0.5), -math.inf)}
    assert plain_json(value) == {"loss": None, "path": [1.0, None], "file": "a/b", "n": 3, "pair": [0.5, None]}


def test_tour_json_lists_every_chapter_and_its_checks():
    from calcml.tour import CHAPTERS

    result = runner.invoke(app, ["tour", "--no-report", "--json"])
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert [c["number"] for c in payload["chapters"]] == list(range(1, len(CHAPTERS) + 1))
    assert payload["failures"] == 0 and payload["report"] is None
    checks = [check for chapter in payload["chapters"] for check in chapter["checks"]]
    assert checks and all(abs(c["computed"] - c["expected"]) <= c["tolerance"] * max(1, abs(c["expected"]))
                          for c in checks)
    assert not any("[/" in line for chapter in payload["chapters"] for line in chapter["lines"])


def test_train_json(tmp_path):
    result = runner.invoke(app, ["train", "digits", "--epochs", "2", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert payload["test_correct"] == round(payload["test_accuracy"] * payload["test_n"])
    assert payload["test_accuracy"] > 0.8  # two epochs of the digits MLP: far above chance (0.1)
    assert Path(payload["model_path"]).is_file() and payload["final"]["loss"] > 0
