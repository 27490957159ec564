"""Every command, used as a hostile user would: a one-line ``error:`` and a non-zero exit, no traceback,
and nothing expensive done before the arguments are checked (a bad --out must not cost a training run)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import calcml.cli.check  # noqa: F401  (each import registers its command)
import calcml.cli.optimize  # noqa: F401
import calcml.cli.symbolic  # noqa: F401
import calcml.cli.tour  # noqa: F401
import calcml.cli.train  # noqa: F401
from calcml.cli.app import app

runner = CliRunner()
UNWRITABLE = "/proc/calcml-cannot-write-here"


@pytest.fixture
def user_files(tmp_path):
    (tmp_path / "f.py").write_text("import numpy as np\n\ndef loss(x):\n    return np.sum(np.sin(x) ** 2)\n")
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path


def refused(args, match, code=2, seconds=10.0):
    start = time.perf_counter()
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    elapsed = time.perf_counter() - start
    assert result.exit_code == code, (args, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: ") and match in result.output, result.output
    assert len(lines) <= 3, result.output  # the error and, at most, a hint
    assert elapsed < seconds, (args, elapsed)
    return result


@pytest.mark.parametrize("lr", ["-1", "0", "nan", "inf"])
def test_optimize_refuses_a_bad_learning_rate(lr):
    refused(["optimize", "--lr", lr, "--steps", "10"], "--lr must be a finite number > 0")


def test_optimize_refuses_bad_numbers_and_formulas(user_files):
    refused(["optimize", "--tol", "nan"], "--tol must be a finite number ≥ 0")
    refused(["optimize", "--start", "nan,1"], "--start takes finite numbers")
    refused(["optimize", "x*log(0)"], "undefined or infinite as written")
    refused(["optimize", "__import__('os')"], "cannot read the expression")
    flat = runner.invoke(app, ["optimize", "0", "--steps", "5", "--out", str(user_files / "pictures")])
    assert flat.exit_code == 1 and "Traceback" not in flat.output  # a constant surface has no contour levels:
    assert flat.output.strip().splitlines()[-1].startswith("error: cannot draw the race on '0'")  # the table, then why


@pytest.mark.parametrize("command", [["optimize", "--steps", "10"], ["train", "--epochs", "1"], ["tour"]])
def test_an_unwritable_out_is_refused_before_any_work(command, user_files):
    refused(command + ["--out", UNWRITABLE], "cannot write there", seconds=5)
    refused(command + ["--out", str(user_files / "a-file")], "is a file, not a folder", seconds=5)
    refused(command + ["--out", str(user_files / "a-file" / "inside")], "cannot write there", seconds=5)


@pytest.mark.parametrize("lr", ["-1", "nan", "0"])
def test_train_refuses_a_bad_learning_rate_before_training(lr, tmp_path):
    result = refused(["train", "--epochs", "1", "--lr", lr, "--out", str(tmp_path)], "--lr must be", seconds=5)
    assert "training" not in result.output


def test_train_refuses_a_bad_data_file_in_one_line(user_files):
    refused(["train", "mnist", "--data", str(user_files / "a-file")], "not a readable .npz archive")
    refused(["train", "mnist", "--data", str(user_files / "missing")], "neither a directory")


def test_check_refuses_non_finite_points_and_tolerances(user_files):
    target = f"{user_files / 'f.py'}:loss"
    refused(["check", target, "--at", "nan"], "--at takes finite numbers")
    refused(["check", target, "--at", "1,inf"], "--at takes finite numbers")
    refused(["check", target, "--at", "1,2", "--rtol", "nan"], "--rtol must be a finite number > 0")
    refused(["check", target, "--at", "1,2", "--rtol", "-1"], "--rtol must be")


@pytest.mark.parametrize("args, match, code", [
    (["integrate", "x*log(0)", "--numeric", "--from", "0", "--to", "1"], "undefined as written", 2),
    (["integrate", "x", "--numeric", "--from", "0", "--to", "10^1000"], "too large for a float", 2),
    (["integrate", "x", "--numeric", "--from", "0", "--to", "oo"], "did not converge", 1),
    (["integrate", "1/x", "--numeric", "--from", "-1", "--to", "1"], "not finite inside the range", 1),
])
def test_numeric_integrals_fail_in_one_line(args, match, code):
    """The numeric path of `calcml integrate` (cli/symbolic.py) catches ValueError; quad_expression makes
    every failure one: input it cannot use (undefined integrands, non-real or overflowing limits: exit 2,
    like any bad input) and integrals that do not converge (exit 1)."""
    refused(args, match, code=code, seconds=30)


def test_a_nan_bound_is_bad_input():
    """The parser refuses 'nan' itself (exit 2, bad input), pointing at it, before any quadrature runs."""
    result = runner.invoke(app, ["integrate", "x", "--numeric", "--from", "nan", "--to", "1"],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith("error: ") and "not a number" in result.output


def test_the_console_script_turns_an_escaped_exception_into_one_line():
    """main() is the last line of defence: an exception no command caught is one line and exit 1."""
    script = ("import sys\nfrom calcml.cli import app, main\n"
              "@app.command()\ndef explode():\n    raise RuntimeError('inside')\n"
              "sys.argv = ['calcml', 'explode']\nmain()\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: RuntimeError: inside") and "CALCML_DEBUG=1" in out.stderr
    script = script.replace("RuntimeError('inside')", "ValueError('bad value')")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.strip() == "error: ValueError: bad value", out.stderr


def test_warnings_print_as_one_line_from_the_console_script():
    script = ("import sys, warnings\nfrom calcml.cli import app, main\n"
              "@app.command()\ndef warn():\n    warnings.warn('careful', UserWarning)\n"
              "sys.argv = ['calcml', 'warn']\nmain()\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stderr == "warning: careful\n", out.stderr
