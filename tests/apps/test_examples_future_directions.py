"""The future-directions examples run with their CI settings, print their key numbers and write their pictures."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name, expected", [
    ("policy_gradients", ["theorem vs cm.grad: max difference", "CartPole-v1"]),
    ("quantum_parameter_shift", ["max |shift − engine|", "1.4142", "target -0.8"]),
    ("stochastic_calculus", ["difference", "Boltzmann (quadrature)", "gradient descent"]),
])
def test_example_runs_fast_and_writes_its_picture(name, expected, tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--fast", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
