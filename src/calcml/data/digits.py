"""The handwritten digits of scikit-learn (UCI optdigits, 1,797 images of 8×8), shipped with calcml.

``digits.npz`` holds the images as uint8 pixel counts 0..16 (``images``, (1797, 8, 8)), the labels
(``labels``) and the fixed train/test split (``is_test``). It was written once from
``sklearn.datasets.load_digits()``, with ``is_test = stratified_split(labels, 0.2, default_rng(0))``;
nothing is downloaded and scikit-learn is not needed to read it.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from calcml.data.dataset import Dataset

TEST_FRACTION, SPLIT_SEED = 0.2, 0  # how is_test was drawn (stored, so it never depends on NumPy's version)


def load_digits_archive() -> dict[str, np.ndarray]:
    """The raw arrays of the embedded archive: images (uint8 0..16), labels (uint8), is_test (bool)."""
    with resources.files("calcml.data").joinpath("digits.npz").open("rb") as file:
        with np.load(file) as archive:
            return {name: archive[name] for name in archive.files}


def digits(dtype: type = np.float32) -> Dataset:
    """Handwritten digits 0–9 as 8×8 images, split 1,438 train / 359 test (20% of each class).

    Features are the 64 pixels scaled to [0, 1] (pixel / 16), float32 by default; labels are int64.

    >>> data = cm.data.digits()
    >>> data.X_train.shape, data.images("test").shape
    ((1438, 64), (359, 8, 8))
    """
    archive = load_digits_archive()
    X = (archive["images"].reshape(len(archive["images"]), 64) / 16.0).astype(dtype)
    y = archive["labels"].astype(np.int64)
    is_test = archive["is_test"]
    return Dataset(
        name="digits", X_train=X[~is_test], y_train=y[~is_test], X_test=X[is_test], y_test=y[is_test],
        image_shape=(8, 8), classes=tuple(range(10)),
        description="scikit-learn's 8×8 handwritten digits (UCI optdigits), pixels / 16",
    )
