"""``calcml data fetch mnist --from DIR`` on small IDX files the test writes (real MNIST is not shipped)."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import calcml.cli.data  # noqa: F401  (registers the commands)
import calcml.cli.train  # noqa: F401
import calcml.data.fetch as fetch_module
from calcml.cli.app import app
from calcml.data import mnist

from ..data.test_fetch import standard_of
from ..data.test_idx import write_mnist

runner = CliRunner()


@pytest.fixture
def source(tmp_path, monkeypatch):
    """A folder with four small IDX files, and the published table replaced by their sizes and hashes."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    arrays = write_mnist(folder, compress=True)
    monkeypatch.setattr(fetch_module, "MNIST_FILES", standard_of(arrays, folder))
    monkeypatch.setenv("CALCML_DATA", str(tmp_path / "home"))
    return folder


def test_fetch_stores_the_checked_files_where_mnist_finds_them(source, tmp_path):
    result = runner.invoke(app, ["data", "fetch", "mnist", "--from", str(source)])
    assert result.exit_code == 0, result.output
    stored = tmp_path / "home" / "mnist"
    assert f"match the published sizes and SHA-256; stored in {stored}:" in result.output
    assert "t10k-labels-idx1-ubyte  13 bytes" in result.output  # 8-byte header + 5 labels, decompressed
    assert len(mnist().y_test) == 5


def test_train_mnist_reads_the_imported_files_without_data(source, tmp_path):
    fetched = runner.invoke(app, ["data", "fetch", "mnist", "--from", str(source)])
    assert fetched.exit_code == 0 and "use them with cm.data.mnist() or: calcml train mnist\n" in fetched.output
    result = runner.invoke(app, ["train", "mnist", "--epochs", "1", "--json", "--out", str(tmp_path / "models")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["test_n"] == 5 and report["dataset"] == "mnist"  # the five test images the fixture wrote
    assert (tmp_path / "models" / "mnist-mlp.npz").is_file()


def test_fetch_elsewhere_tells_how_to_point_at_the_folder(source, tmp_path):
    result = runner.invoke(app, ["data", "fetch", "mnist", "--from", str(source), "--to", str(tmp_path / "to")])
    assert result.exit_code == 0, result.output
    assert f"calcml train mnist --data {tmp_path / 'to'}" in " ".join(result.output.split())


def test_fetch_refuses_a_file_that_differs_in_one_line_with_exit_2(source, tmp_path):
    (source / "train-labels-idx1-ubyte.gz").write_bytes((source / "t10k-labels-idx1-ubyte.gz").read_bytes())
    result = runner.invoke(app, ["data", "fetch", "mnist", "--from", str(source), "--to", str(tmp_path / "to")])
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first.startswith(f"error: {source / 'train-labels-idx1-ubyte.gz'} holds 13 bytes (decompressed), but "
                            "the published train-labels-idx1-ubyte holds 20")
    assert "Traceback" not in result.output and list((tmp_path / "to").iterdir()) == []


def test_fetch_needs_a_known_name_and_a_folder(tmp_path):
    assert runner.invoke(app, ["data", "fetch", "mnist"]).exit_code == 2  # --from is required
    unknown = runner.invoke(app, ["data", "fetch", "cifar", "--from", str(tmp_path)])
    assert unknown.exit_code == 2 and "mnist" in unknown.output
    nowhere = runner.invoke(app, ["data", "fetch", "mnist", "--from", str(tmp_path / "nowhere")])
    assert nowhere.exit_code == 2 and "is not a folder" in nowhere.output


def test_the_console_script_has_the_data_command():
    done = subprocess.run([sys.executable, "-c", "from calcml.cli import main; main()", "data", "fetch", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--from" in done.stdout
