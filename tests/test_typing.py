"""The public API type-checks with mypy: zero errors on the package's ``__init__`` files (what ``import calcml``
exposes) and on ``typing_public_api.py``, a user's program using DESIGN.md's public names. The configuration
is ``[tool.mypy]`` in pyproject.toml; ``py.typed`` ships in the wheel, so users' type checkers see the same."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One mypy cache for this module's runs: the first run is cold (about a minute), the next ones fast."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(cache_dir: Path, *targets: str) -> subprocess.CompletedProcess:
    """``python -m mypy`` with the project's configuration, on ``targets`` (default: its ``files``)."""
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(cache_dir), *targets]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_public_api_has_no_type_errors(cache_dir):
    result = mypy(cache_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_the_type_check_catches_a_misuse(cache_dir, tmp_path):
    """The check is live: a user's misuse of the public API is reported (not hidden by an Any)."""
    program = tmp_path / "misuse.py"
    program.write_text(
        "import numpy as np\n"
        "import calcml as cm\n\n"
        "cm.no_such_function(1.0)\n"
        "print(cm.integrate.quad(np.sin, 0, 1).valu)\n"
        "cm.Tensor(np.ones(2), requires_grad='yes').backward()\n"
        "name: int = cm.__version__\n"
        "cm.sweep(abs, {'x': [1]}, seeds=2, backend=3)\n"  # a module that is called: checked like a function
    )
    result = mypy(cache_dir, str(program))
    assert result.returncode == 1 and "Found 5 errors" in result.stdout, result.stdout + result.stderr
    for expected in ('Module has no attribute "no_such_function"', 'has no attribute "valu"',
                     '"requires_grad" to "Tensor" has incompatible type "str"', 'expression has type "str"',
                     '"backend" has incompatible type "int"; expected "str | None"'):
        assert expected in result.stdout, result.stdout
