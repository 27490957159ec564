"""Import the MNIST files a user already has into calcml's data folder, checked against the published ones.

Nothing is downloaded: ``fetch_mnist(source)`` takes a folder holding the four IDX files (plain or ``.gz``,
under their standard names), checks each one's size and SHA-256 *once decompressed* against the published
values of the standard files, and only when all four pass stores them (decompressed) in
``data_home() / "mnist"``, where ``cm.data.mnist()`` finds them with no path. The check is on the content,
not on the archive's bytes, so a file gunzipped or re-compressed by another tool still passes, and a
different data set in the same format (Fashion-MNIST, a cut-down copy) is refused by name.

The folder is ``data_home()`` (calcml.data.home).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from calcml.data.errors import DataFormatError
from calcml.data.home import data_home
from calcml.data.idx import CHUNK, GZIP_MAGIC
from calcml.data.mnist import IDX_FILES, find_idx_file


@dataclass(frozen=True)
class StandardFile:
    """What a published file holds once decompressed: its length in bytes and its SHA-256."""

    size: int
    sha256: str


# The four files of MNIST (LeCun, Cortes & Burges), decompressed: 16- or 8-byte IDX header + the data.
MNIST_FILES: dict[str, StandardFile] = {
    "train-images-idx3-ubyte": StandardFile(
        16 + 60_000 * 28 * 28, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": StandardFile(
        8 + 60_000, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": StandardFile(
        16 + 10_000 * 28 * 28, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": StandardFile(
        8 + 10_000, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}


def fetch_mnist(source: str | os.PathLike, destination: str | os.PathLike | None = None,
                expected: Mapping[str, StandardFile] | None = None) -> Path:
    """Check the four MNIST files in the folder ``source`` and store them in ``destination``
    (default ``data_home() / "mnist"``); return that folder. ``expected`` (default ``MNIST_FILES``) maps each
    standard name to the size and SHA-256 its decompressed content must have.

    >>> folder = cm.data.fetch_mnist("~/Downloads")   # the four files, plain or .gz  # doctest: +SKIP
    >>> cm.data.mnist().X_train.shape                 # found there from now on      # doctest: +SKIP
    (60000, 784)

    Raises DataFormatError naming the file when one is missing, or its size or hash is not the published
    one; then nothing is stored (all four are checked before any is put in place).
    """
    expected = MNIST_FILES if expected is None else expected
    source = Path(source).expanduser()
    if not source.is_dir():
        raise DataFormatError(f"fetch mnist: {source} is not a folder; give the folder holding the four MNIST "
                              "files (train-images-idx3-ubyte.gz and the others).")
    found = {stem: file for stem in IDX_FILES.values() if (file := find_idx_file(source, stem)) is not None}
    missing = [stem for stem in IDX_FILES.values() if stem not in found]
    if missing:
        raise DataFormatError(f"fetch mnist: {source} lacks {', '.join(missing)} (plain or .gz).\n"
                              "  give the folder holding all four files under their standard names.")
    target = Path(destination).expanduser() if destination is not None else data_home() / "mnist"
    target.mkdir(parents=True, exist_ok=True)
    checked: dict[str, Path] = {}
    try:
        for stem, file in found.items():
            checked[stem] = _checked_copy(file, stem, expected[stem], target)
        for stem, temporary in checked.items():
            temporary.replace(target / stem)
    finally:
        for temporary in checked.values():
            temporary.unlink(missing_ok=True)
    return target


def _checked_copy(file: Path, stem: str, standard: StandardFile, target: Path) -> Path:
    """The decompressed content of ``file`` in a temporary file in ``target``, after its size and SHA-256
    matched ``standard``; the temporary file is removed when they do not."""
    digest = hashlib.sha256()
    handle, name = tempfile.mkstemp(prefix=f".{stem}.", dir=target)
    temporary = Path(name)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out, _content(file) as stream:
            while size <= standard.size:  # read one chunk past the expected size at most
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
    except (EOFError, OSError, zlib.error) as error:
        temporary.unlink(missing_ok=True)
        raise DataFormatError(f"{file} is a damaged gzip file ({error}); fetch it again.") from error
    problem = ""
    if size != standard.size:
        amount = f"{size:,}" if size <= standard.size else f"more than {standard.size:,}"
        problem = f"holds {amount} bytes (decompressed), but the published {stem} holds {standard.size:,}"
    elif digest.hexdigest() != standard.sha256:
        problem = (f"has SHA-256 {digest.hexdigest()[:16]}…, but the published {stem} has "
                   f"{standard.sha256[:16]}…")
    if problem:
        temporary.unlink(missing_ok=True)
        raise DataFormatError(
            f"{file} {problem}: it is damaged or not MNIST's file, so nothing was imported.\n"
            "  get the file again; for another data set in the same format, load its folder directly with "
            "cm.data.mnist(folder) (no check)."
        )
    return temporary


def _content(file: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed when it is gzip (known by its first two bytes, not its name)."""
    with file.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    return gzip.open(file, "rb") if compressed else file.open("rb")
