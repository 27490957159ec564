"""Importing MNIST files a user has: checked against published sizes and hashes, stored, found again.

The real files are not here: the tests write small IDX files and compute the sizes and hashes the check
must hold them to, so the same code path that checks the published MNIST values is exercised."""

import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from calcml.data import DataFormatError, data_home, fetch_mnist, mnist, write_idx
from calcml.data.fetch import MNIST_FILES, StandardFile

from .test_idx import write_mnist


def standard_of(arrays, directory):
    """What the tests' files hold once decompressed: the table the check compares against."""
    table = {}
    for stem in arrays:
        for candidate in (directory / stem, directory / f"{stem}.gz"):
            if candidate.exists():
                content = candidate.read_bytes()
                content = gzip.decompress(content) if candidate.suffix == ".gz" else content
                table[stem] = StandardFile(len(content), hashlib.sha256(content).hexdigest())
    return table


@pytest.mark.parametrize("compress", [False, True])
def test_fetch_checks_stores_and_mnist_finds_the_files(tmp_path, monkeypatch, compress):
    source = tmp_path / "downloads"
    source.mkdir()
    arrays = write_mnist(source, compress=compress)
    monkeypatch.setenv("CALCML_DATA", str(tmp_path / "home"))
    folder = fetch_mnist(source, expected=standard_of(arrays, source))
    assert folder == tmp_path / "home" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(arrays)  # stored decompressed, nothing else left
    data = mnist()  # no path: the imported files
    np.testing.assert_array_equal(data.y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_allclose(data.X_test, arrays["t10k-images-idx3-ubyte"].reshape(5, -1) / 255, rtol=1e-6)


def test_the_dotted_spelling_and_an_explicit_destination(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    arrays = write_mnist(source)
    table = standard_of(arrays, source)
    (source / "train-images-idx3-ubyte").rename(source / "train-images.idx3-ubyte")
    folder = fetch_mnist(source, tmp_path / "elsewhere", expected=table)
    assert folder == tmp_path / "elsewhere" and (folder / "train-images-idx3-ubyte").is_file()


@pytest.mark.parametrize("damage", ["longer", "shorter", "hash"])
def test_a_file_that_is_not_the_published_one_is_refused_and_nothing_is_stored(tmp_path, damage):
    source = tmp_path / "src"
    source.mkdir()
    arrays = write_mnist(source, compress=True)
    table = standard_of(arrays, source)
    labels = "t10k-labels-idx1-ubyte"
    if damage == "longer":  # one label more than the published file has (8-byte header + 5 labels)
        write_idx(source / f"{labels}.gz", np.append(arrays[labels], 3).astype(np.uint8))
        words = f"holds more than 13 bytes (decompressed), but the published {labels} holds 13"
    elif damage == "shorter":
        write_idx(source / f"{labels}.gz", arrays[labels][:4])
        words = f"holds 12 bytes (decompressed), but the published {labels} holds 13"
    else:  # same length, one label changed
        write_idx(source / f"{labels}.gz", np.where(np.arange(5) == 0, 9 - arrays[labels], arrays[labels]))
        content = gzip.decompress((source / f"{labels}.gz").read_bytes())
        words = f"has SHA-256 {hashlib.sha256(content).hexdigest()[:16]}…, but the published {labels} has "
    with pytest.raises(DataFormatError) as info:
        fetch_mnist(source, tmp_path / "store", expected=table)
    message = str(info.value)
    assert message.startswith(f"{source / labels}.gz ") and words in message and "nothing was imported" in message
    assert list((tmp_path / "store").iterdir()) == []  # the three good files were not put in place either


def test_the_published_mnist_files_are_refused_when_the_content_differs(tmp_path):
    """The default table is MNIST's: small files under the standard names fail it by size, naming the file."""
    source = tmp_path / "src"
    source.mkdir()
    write_mnist(source)
    with pytest.raises(DataFormatError, match=r"but the published train-images-idx3-ubyte holds 47,040,016"):
        fetch_mnist(source, tmp_path / "store")


def test_the_published_table_agrees_with_the_format():
    # images: 16-byte header + n·28·28 bytes; labels: 8-byte header + n bytes (60,000 train, 10,000 test)
    assert MNIST_FILES["train-images-idx3-ubyte"].size == 47_040_016
    assert MNIST_FILES["t10k-images-idx3-ubyte"].size == 7_840_016
    assert MNIST_FILES["train-labels-idx1-ubyte"].size == 60_008
    assert MNIST_FILES["t10k-labels-idx1-ubyte"].size == 10_008
    assert all(len(f.sha256) == 64 and int(f.sha256, 16) for f in MNIST_FILES.values())
    assert len({f.sha256 for f in MNIST_FILES.values()}) == 4


def test_missing_files_and_a_source_that_is_not_a_folder(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    write_mnist(source)
    (source / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataFormatError, match=r"lacks t10k-images-idx3-ubyte \(plain or \.gz\)"):
        fetch_mnist(source, tmp_path / "store")
    with pytest.raises(DataFormatError, match="is not a folder"):
        fetch_mnist(tmp_path / "nowhere", tmp_path / "store")


def test_mnist_without_a_path_says_how_to_import(tmp_path, monkeypatch):
    monkeypatch.setenv("CALCML_DATA", str(tmp_path))
    with pytest.raises(DataFormatError, match=r"calcml data fetch mnist --from DIR"):
        mnist()


def test_data_home_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CALCML_DATA", str(tmp_path / "mine"))
    assert data_home() == tmp_path / "mine"
    monkeypatch.delenv("CALCML_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "xdg" / "calcml"


def test_the_chapter_18_example_trains_on_imported_files(tmp_path):
    """examples/ch18_mnist_cnn_real.py on four small 28×28 IDX files imported by fetch_mnist: the code path
    of the real run (load, standardize, train, evaluate, draw), in seconds. Its 99% needs the real files."""
    rng = np.random.default_rng(0)
    source = tmp_path / "src"
    source.mkdir()
    for split, n in (("train", 96), ("t10k", 32)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):  # each class lights its own band of rows: learnable in one epoch
            images[i, 2 * k:2 * k + 3, 4:24] = 255
        write_idx(source / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(source / f"{split}-labels-idx1-ubyte.gz", labels)
    home = tmp_path / "home"
    fetch_mnist(source, home / "mnist", expected=standard_of(dict.fromkeys(MNIST_FILES), source))
    script = Path(__file__).resolve().parents[2] / "examples" / "ch18_mnist_cnn_real.py"
    done = subprocess.run([sys.executable, str(script), "--fast", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CALCML_DATA": str(home), "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MNIST: 96 training and 32 test images of 28×28; 1 epoch(s)" in done.stdout
    assert "test accuracy" in done.stdout and (tmp_path / "out" / "mnist_cnn_real.png").stat().st_size > 5_000
    missing = subprocess.run([sys.executable, str(script), "--fast"], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "CALCML_DATA": str(tmp_path / "empty")})
    assert missing.returncode == 1 and "calcml data fetch mnist --from DIR" in missing.stderr
