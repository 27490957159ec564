"""The IDX reader on files the tests write: round trips, MNIST directories and npz, and clear errors."""

import gzip

import numpy as np
import pytest

from calcml.data import DataFormatError, mnist, read_idx, write_idx


def write_mnist(directory, n_train=12, n_test=5, rows=4, cols=3, compress=False, seed=0):
    rng = np.random.default_rng(seed)
    suffix = ".gz" if compress else ""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_idx(directory / (name + suffix), array)
    return arrays


def idx_bytes(magic, dims, payload):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_of_every_idx_type(tmp_path, dtype, compress):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)
    assert read_idx(path).dtype == np.dtype(dtype)


def test_header_is_the_standard_big_endian_one(tmp_path):
    write_idx(tmp_path / "labels", np.array([7, 2, 1], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    write_idx(tmp_path / "ints", np.array([258], dtype=np.int32))
    assert (tmp_path / "ints").read_bytes()[-4:] == bytes([0, 0, 1, 2])


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_a_directory_of_idx_files(tmp_path, compress):
    arrays = write_mnist(tmp_path, compress=compress)
    ds = mnist(tmp_path)
    assert ds.X_train.shape == (12, 12) and ds.X_train.dtype == np.float32
    np.testing.assert_allclose(ds.X_train, arrays["train-images-idx3-ubyte"].reshape(12, 12) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert ds.images("test").shape == (5, 4, 3)
    # these 17 labels lack the digit 6, yet there are ten classes: a model needs a logit for label 9
    assert 6 not in np.union1d(ds.y_train, ds.y_test) and ds.classes == tuple(range(10)) and ds.n_classes == 10


def test_mnist_reads_the_kaggle_spelling_and_an_npz(tmp_path):
    arrays = write_mnist(tmp_path)
    for path in list(tmp_path.iterdir()):
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert mnist(tmp_path).X_test.shape == (5, 12)
    npz = tmp_path / "keras" / "mnist.npz"
    npz.parent.mkdir()
    np.savez(npz, x_train=arrays["train-images-idx3-ubyte"], y_train=arrays["train-labels-idx1-ubyte"],
             x_test=arrays["t10k-images-idx3-ubyte"], y_test=arrays["t10k-labels-idx1-ubyte"])
    for where in (npz, npz.parent):
        ds = mnist(where)
        np.testing.assert_array_equal(ds.y_train, arrays["train-labels-idx1-ubyte"])
        assert ds.X_train.max() <= 1.0


def test_a_wrong_magic_number_is_named(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(idx_bytes(0x12345678, [], b""))
    with pytest.raises(DataFormatError, match="not an IDX file: its magic number is 0x12345678"):
        read_idx(path)
    path.write_bytes(idx_bytes(0x00000A01, [3], b"abc"))  # type 0x0A does not exist
    with pytest.raises(DataFormatError, match="not an IDX file"):
        read_idx(path)


def test_truncated_data_says_how_much_is_missing(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(0x803, [10, 28, 28], bytes(1000)))
    with pytest.raises(DataFormatError, match=r"truncated: .*10 × 28 × 28 .*7,840 bytes.*only 1,000"):
        read_idx(path)


def test_truncated_header_and_tiny_files(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataFormatError, match="truncated inside its header"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataFormatError, match="too short"):
        read_idx(path)


def test_extra_bytes_after_the_data_are_corruption(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(0x801, [3], bytes(5)))
    with pytest.raises(DataFormatError, match="2 bytes more than its header"):
        read_idx(path)


def test_a_truncated_gzip_file_gets_a_clear_error(tmp_path):
    whole = gzip.compress(idx_bytes(0x801, [1000], bytes(1000)))
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFormatError, match="damaged or truncated gzip"):
        read_idx(path)


def test_mnist_checks_that_images_and_labels_agree(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(DataFormatError, match="12 images but .* 11 labels"):
        mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((12, 2), np.uint8))
    with pytest.raises(DataFormatError, match="MNIST labels are uint8 \\(n,\\)"):
        mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(12, np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 12), np.uint8))
    with pytest.raises(DataFormatError, match="MNIST images are uint8 \\(n, rows, columns\\)"):
        mnist(tmp_path)


def test_missing_files_and_corrupt_npz(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataFormatError, match="lacks t10k-labels-idx1-ubyte"):
        mnist(tmp_path)
    with pytest.raises(DataFormatError, match="neither a directory"):
        mnist(tmp_path / "nowhere")
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFormatError, match="not a readable .npz"):
        mnist(broken)
    np.savez(broken, images=np.zeros(3))
    with pytest.raises(DataFormatError, match="must hold|holds x_train"):
        mnist(broken)
