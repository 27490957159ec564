"""The wheel users get: built from this tree, installed into a clean virtual environment with only its
runtime dependencies (fetched by pip from the package index), then run with no source tree in sight.

It takes one to two minutes (most of it pip installing NumPy, SymPy and SciPy into the new environment), so
it is marked ``wheel``: CI runs it with everything else; ``pytest -m "not wheel"`` leaves it out locally.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.wheel


def run(command: list, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``command`` with no PYTHONPATH, so that nothing but the clean environment can be imported."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the clean environment's bin folder, a folder outside the source tree to run in)."""
    work = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", ROOT], cwd=work)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (work / "dist").glob("calcml-*.whl")
    # sys.executable is the project's environment; `-m venv` makes a new one on the base interpreter,
    # which sees none of the project's packages.
    made = run([sys.executable, "-m", "venv", work / "venv"], cwd=work)
    assert made.returncode == 0, made.stderr
    bin_dir = work / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    pip = run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel], cwd=work)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    outside = work / "elsewhere"
    outside.mkdir()
    return wheel, bin_dir, outside


def test_the_wheel_ships_the_data_the_lab_page_and_py_typed(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"calcml/py.typed", "calcml/data/digits.npz", "calcml/lab/static/index.html"} <= names
    assert not any(name.startswith(("tests/", "benchmarks/", "examples/")) for name in names)


def test_the_installed_package_is_the_wheel_and_its_dependencies_are_whole(installed):
    _, bin_dir, outside = installed
    where = run([bin_dir / "python", "-c", "import calcml, sys; print(calcml.__file__, calcml.__version__)"],
                cwd=outside)
    assert where.returncode == 0, where.stderr
    path, version = where.stdout.split()
    assert Path(path).is_relative_to(bin_dir.parent) and not Path(path).is_relative_to(ROOT)
    assert run([bin_dir / "calcml", "--version"], cwd=outside).stdout.strip() == f"calcml {version}"
    check = run([bin_dir / "python", "-m", "pip", "check"], cwd=outside)
    assert check.returncode == 0, check.stdout


def test_the_installed_wheel_runs_the_tour(installed):
    """`calcml tour --no-report`: every chapter computed and checked on the runtime dependencies alone
    (no matplotlib, no lab, no test tools)."""
    _, bin_dir, outside = installed
    tour = run([bin_dir / "calcml", "tour", "--no-report", "--json"], cwd=outside, timeout=600)
    assert tour.returncode == 0, tour.stderr[-3000:]
    payload = json.loads(tour.stdout)
    assert payload["failures"] == 0 and len(payload["chapters"]) >= 10
    assert all(chapter["checks"] for chapter in payload["chapters"] if chapter["number"] <= 3)


def test_without_the_plot_extra_the_report_says_what_to_install(installed):
    _, bin_dir, outside = installed
    tour = run([bin_dir / "calcml", "tour"], cwd=outside, timeout=120)
    assert tour.returncode == 2 and "pip install 'calcml[plot]'" in tour.stderr, tour.stderr
    assert "Traceback" not in tour.stderr
