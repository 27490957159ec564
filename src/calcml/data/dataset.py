"""A data set split into training and test parts: what ``cm.data.digits()`` and ``cm.data.mnist()`` return."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Features ``X_*`` (n, d) float32 and labels ``y_*`` (n,) int64, split into train and test.

    Unpacks like scikit-learn's ``train_test_split``:

    >>> X_train, y_train, X_test, y_test = cm.data.digits()

    ``image_shape`` is the shape of one sample as a picture (8×8 for digits): ``images("train")``
    gives the (n, 8, 8) form, ``images("train", channels=True)`` the (n, 1, 8, 8) form a CNN takes.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, ...] | None = None
    classes: tuple[int, ...] = field(default=())
    description: str = ""

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))

    @property
    def n_features(self) -> int:
        """The number of features of one sample (columns of X)."""
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        """The number of classes (0 for regression targets)."""
        return len(self.classes)

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_train, y_train)``."""
        return self.X_train, self.y_train

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_test, y_test)``."""
        return self.X_test, self.y_test

    def images(self, split: str = "train", channels: bool = False) -> np.ndarray:
        """The samples of ``split`` ("train" or "test") as pictures: (n, *image_shape), or
        (n, 1, *image_shape) with ``channels=True``."""
        if self.image_shape is None:
            raise ValueError(f"the {self.name} data set has no image form: its samples are plain vectors.")
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}.")
        X = self.X_train if split == "train" else self.X_test
        shape = (len(X), 1, *self.image_shape) if channels else (len(X), *self.image_shape)
        return X.reshape(shape)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.X_train)} train + {len(self.X_test)} test samples, "
                f"{self.n_features} features, {self.n_classes} classes)")


def stratified_split(labels: np.ndarray, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask choosing round(test_fraction · n_c) test samples from each class c at random,
    so that train and test keep the class proportions of the whole set."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, not {test_fraction}.")
    is_test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        is_test[members[: int(round(test_fraction * len(members)))]] = True
    return is_test
