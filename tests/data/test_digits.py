"""The embedded digits are scikit-learn's, split stratified and fixed, scaled to [0, 1] float32."""

import subprocess
import sys

import numpy as np
import pytest

import calcml.data as data
from calcml.data.digits import SPLIT_SEED, TEST_FRACTION, load_digits_archive


def test_embedded_digits_are_scikit_learns_images_and_labels():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    archive = load_digits_archive()
    assert archive["images"].dtype == np.uint8 and archive["images"].shape == (1797, 8, 8)
    np.testing.assert_array_equal(archive["images"], reference.images)
    np.testing.assert_array_equal(archive["labels"], reference.target)


def test_features_are_float32_pixels_over_16_and_images_have_the_8x8_form():
    ds = data.digits()
    archive = load_digits_archive()
    assert ds.X_train.dtype == np.float32 and ds.X_train.shape == (1438, 64) and ds.X_test.shape == (359, 64)
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    np.testing.assert_array_equal(ds.X_test * 16, archive["images"][archive["is_test"]].reshape(-1, 64))
    assert ds.images("test").shape == (359, 8, 8)
    assert ds.images("train", channels=True).shape == (1438, 1, 8, 8)
    np.testing.assert_array_equal(ds.images("train")[5], ds.X_train[5].reshape(8, 8))
    assert ds.y_train.dtype == np.int64 and ds.classes == tuple(range(10))
    X_train, y_train, X_test, y_test = ds
    assert X_train is ds.X_train and y_test is ds.y_test


def test_split_is_stratified_disjoint_and_the_documented_one():
    archive = load_digits_archive()
    labels, is_test = archive["labels"], archive["is_test"]
    for c in range(10):
        members = labels == c
        assert abs(is_test[members].sum() - TEST_FRACTION * members.sum()) <= 0.5
    redrawn = data.stratified_split(labels, TEST_FRACTION, np.random.default_rng(SPLIT_SEED))
    np.testing.assert_array_equal(redrawn, is_test)
    first, second = data.digits(), data.digits()
    np.testing.assert_array_equal(first.y_test, second.y_test)


def test_loading_digits_needs_no_scikit_learn():
    code = "import sys, calcml.data as d; d.digits(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_stratified_split_refuses_a_fraction_outside_zero_one():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        data.stratified_split(np.zeros(5), 1.0, np.random.default_rng(0))
