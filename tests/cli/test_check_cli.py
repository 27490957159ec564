"""`calcml check FILE.py:FUNCTION --at ...`: a user's NumPy function checked against finite differences."""

import re

import numpy as np
import pytest
from typer.testing import CliRunner

import calcml.cli.check  # noqa: F401  (registers the command)
from calcml.cli.app import app

runner = CliRunner()

USER_CODE = '''
import numpy as np

def loss(x):
    return np.sum(np.tanh(x) ** 2)

def g(x, y):
    return np.sin(x * y) + x ** 2

def two(a, v):
    return a * np.sum(v ** 3)

def relu_sum(x):
    return np.sum(np.maximum(x, 0.0))

def broken(x):
    raise RuntimeError("the model is not ready")
'''


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "user_model.py"
    path.write_text(USER_CODE)
    return path


def invoke(*args):
    return runner.invoke(app, ["check", *args], env={"COLUMNS": "200"})


def test_a_vector_argument_passes_with_the_right_gradient(module):
    result = invoke(f"{module}:loss", "--at", "1.0,2.0")
    assert result.exit_code == 0, result.output
    exact = 2 * np.tanh([1.0, 2.0]) * (1 - np.tanh([1.0, 2.0]) ** 2)
    for value in exact:
        assert f"{value:.10f}"[:11] in result.output
    assert "passed" in result.output


def test_one_number_per_parameter_for_a_function_of_several_scalars(module):
    result = invoke(f"{module}:g", "--at", "0.5,2")
    assert result.exit_code == 0, result.output
    assert f"{2 * np.cos(1.0) + 1.0:.10f}"[:11] in result.output  # ∂/∂x = y cos(xy) + 2x
    assert f"{0.5 * np.cos(1.0):.10f}"[:11] in result.output  # ∂/∂y = x cos(xy)


def test_repeated_at_gives_several_arguments(module):
    result = invoke(f"{module}:two", "--at", "2", "--at", "1,-1,3")
    assert result.exit_code == 0, result.output
    assert re.search(r"│\s+0\s+│\s+—\s+│\s+27\s+│", result.output)  # ∂/∂a = Σ v³ = 1 − 1 + 27
    assert re.search(r"│\s+1\s+│\s+\(2,\)\s+│\s+54\s+│", result.output)  # ∂/∂v₃ = 3a v₃² = 54


def test_a_kink_fails_with_exit_1(module):
    result = invoke(f"{module}:relu_sum", "--at", "1e-9,1")
    assert result.exit_code == 1, result.output
    assert "failed" in result.output and "kink" in result.output


@pytest.mark.parametrize("target, at, message", [
    ("missing.py:loss", "1", "no such file: missing.py"),
    ("{module}:nope", "1", "has no function 'nope'; its functions: broken, g, loss, relu_sum, two"),
    ("{module}", "1", "FILE.py:FUNCTION"),
    ("{module}:loss", "1,x", "--at takes numbers"),
])
def test_clear_errors_for_bad_input(module, target, at, message):
    result = invoke(target.format(module=module), "--at", at)
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")


def test_missing_at_and_a_function_that_raises(module):
    result = invoke(f"{module}:loss")
    assert result.exit_code == 2 and "--at" in result.output
    result = invoke(f"{module}:broken", "--at", "1")
    assert result.exit_code == 1 and "RuntimeError: the model is not ready" in result.output.replace("\n", "")


def test_help_shows_examples():
    result = runner.invoke(app, ["check", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "calcml check model.py:loss --at 1.0,2.0" in result.output
