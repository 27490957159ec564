"""MNIST (or Fashion-MNIST, same format) from files a user already has: the four IDX files or ``mnist.npz``.

Nothing is downloaded. ``mnist(path)`` takes a directory holding

    train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte

(each optionally ``.gz``, and the ``train-images.idx3-ubyte`` spelling too), or a Keras-style
``mnist.npz`` with arrays ``x_train, y_train, x_test, y_test`` (the file itself or a directory holding it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from calcml.data.dataset import Dataset
from calcml.data.errors import DataFormatError, NotImportedError
from calcml.data.home import data_home
from calcml.data.idx import MAX_IDX_BYTES, read_idx
from calcml.data.npz import npz_members, read_members

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801


def mnist(path: str | os.PathLike | None = None, dtype: type = np.float32, max_bytes: int = MAX_IDX_BYTES
          ) -> Dataset:
    """MNIST from a directory of IDX files or an ``mnist.npz``: X (n, 784) in [0, 1] (pixel / 255),
    labels int64, the standard 60,000 / 10,000 split, ``images()`` in the (n, 28, 28) form. Without
    ``path``, the files imported once with ``calcml data fetch mnist --from DIR`` (``cm.data.fetch_mnist``).

    >>> data = cm.data.mnist("~/data/mnist")    # needs the MNIST files on disk  # doctest: +SKIP
    >>> data.X_train.shape                      # doctest: +SKIP
    (60000, 784)

    Raises DataFormatError naming the file when one is missing, corrupt, truncated or inconsistent
    (e.g. 60,000 images but 59,999 labels), or declares more than ``max_bytes`` (1 GiB; MNIST's images
    are 47 MB) — checked from the headers before anything is decompressed or allocated.
    """
    if path is None:
        return _imported(dtype, max_bytes)
    path = Path(path).expanduser()
    if path.is_file():
        return _from_npz(path, dtype, max_bytes)
    if not path.is_dir():
        raise DataFormatError(f"mnist: {path} is neither a directory of IDX files nor an mnist.npz file.")
    found = {key: find_idx_file(path, stem) for key, stem in IDX_FILES.items()}
    if all(f is None for f in found.values()) and (path / "mnist.npz").is_file():
        return _from_npz(path / "mnist.npz", dtype, max_bytes)
    missing = [IDX_FILES[key] for key, f in found.items() if f is None]
    if missing:
        raise DataFormatError(
            f"mnist: {path} lacks {', '.join(missing)} (plain or .gz).\n"
            "  point at the directory holding the four IDX files, or at an mnist.npz."
        )
    parts = {key: read_idx(file, max_bytes) for key, file in found.items()}
    for split in ("train", "test"):
        _check_pair(parts[f"{split}_images"], parts[f"{split}_labels"], found[f"{split}_images"],
                    found[f"{split}_labels"])
    return _dataset(parts["train_images"], parts["train_labels"], parts["test_images"], parts["test_labels"],
                    dtype, f"IDX files in {path}")


def _imported(dtype: type, max_bytes: int) -> Dataset:
    """MNIST from the data folder, where ``fetch_mnist`` put it (checked against the published files)."""
    folder = data_home() / "mnist"
    if not all((folder / stem).is_file() for stem in IDX_FILES.values()):
        raise NotImportedError(
            f"mnist: no MNIST files were imported into {folder} yet (nothing is downloaded).\n"
            "  import the four files you have once: calcml data fetch mnist --from DIR; or pass their folder: "
            "cm.data.mnist(DIR).", folder)
    return mnist(folder, dtype, max_bytes)


def find_idx_file(directory: Path, stem: str) -> Path | None:
    """``directory/stem`` as it is found: plain or ``.gz``, with ``-idx`` or ``.idx`` in the name; else None."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            candidate = directory / (name + suffix)
            if candidate.is_file():
                return candidate
    return None


def _check_pair(images: np.ndarray, labels: np.ndarray, images_file: Path, labels_file: Path) -> None:
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataFormatError(
            f"{images_file} holds {images.dtype} data of shape {images.shape}; MNIST images are uint8 "
            f"(n, rows, columns), magic number 0x{IMAGES_MAGIC:08X}."
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataFormatError(
            f"{labels_file} holds {labels.dtype} data of shape {labels.shape}; MNIST labels are uint8 (n,), "
            f"magic number 0x{LABELS_MAGIC:08X}."
        )
    if len(images) != len(labels):
        raise DataFormatError(
            f"{images_file} holds {len(images):,} images but {labels_file} holds {len(labels):,} labels; "
            "they must match one to one."
        )


def _from_npz(file: Path, dtype: type, max_bytes: int) -> Dataset:
    """Keras' mnist.npz: names, dtypes and shapes checked from the headers before any array is read."""
    wanted = ("x_train", "y_train", "x_test", "y_test")
    members = npz_members(file, max_bytes)
    if not set(wanted) <= set(members):
        raise DataFormatError(f"{file} holds {sorted(members)}; mnist.npz holds x_train, y_train, x_test, y_test.")
    x_train, y_train, x_test, y_test = (members[name] for name in wanted)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(x.shape) != 3 or len(y.shape) != 1 or x.shape[0] != y.shape[0]:
            raise DataFormatError(
                f"{file}: x_{split} has shape {x.shape} and y_{split} {y.shape}; expected (n, rows, columns) "
                "images and (n,) labels."
            )
        for member in (x, y):
            if member.dtype.kind not in "biuf":
                raise DataFormatError(f"{file}: {member.name} holds {member.dtype}; expected numbers.")
    arrays = read_members(file, (x_train, y_train, x_test, y_test))
    return _dataset(*(arrays[name] for name in wanted), dtype, str(file))


def _dataset(x_train, y_train, x_test, y_test, dtype, source: str) -> Dataset:
    image_shape = tuple(x_train.shape[1:])
    if tuple(x_test.shape[1:]) != image_shape:
        raise DataFormatError(f"{source}: train images are {image_shape} but test images {x_test.shape[1:]}.")
    flat = int(np.prod(image_shape))
    scale = 255.0 if np.issubdtype(x_train.dtype, np.integer) else 1.0
    X_train = (x_train.reshape(len(x_train), flat) / scale).astype(dtype)
    X_test = (x_test.reshape(len(x_test), flat) / scale).astype(dtype)
    # labels are class indices: classes 0 … the largest label, also when a cut-down copy lacks one of them
    classes = tuple(range(int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1))
    return Dataset(name="mnist", X_train=X_train, y_train=y_train.astype(np.int64), X_test=X_test,
                   y_test=y_test.astype(np.int64), image_shape=image_shape, classes=classes,
                   description=f"MNIST from {source}, pixels / 255")
