"""Decompression bombs (small on disk, gigabytes inside) are refused from their headers: in under a
second and under 100 MB, measured in a fresh process (tracemalloc peak and growth of the peak RSS).
The issue measured 17 s and 3.9 GB for a 1.9 MB .idx.gz, 21 s and 3.9 GB for a 3.8 MB .npz."""

from __future__ import annotations

import numpy as np
import pytest

from calcml.data import DataFormatError, mnist, read_idx
from tests.data.bombs import gzip_bomb, measure, npy_header, npz_bomb

GIB_BLOCKS = 64  # 64 × 16 MiB = 1 GiB of zeros, about 1 MB compressed


def idx_header(code, dims):
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def refused_cheaply(setup, call, match):
    result = measure(setup, call)
    assert result["error"] is not None, result
    assert result["error"][0] == "DataFormatError" and match in result["error"][1], result
    assert result["seconds"] < 1.0 and result["traced_mb"] < 100 and result["rss_growth_mb"] < 100, result
    return result


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    made = {}
    # 1 GiB of zeros behind a header declaring 2^32−1 × 2^32−1 × 2^32−1 doubles (overflows int64)
    made["huge dims"] = folder / "huge.idx.gz"
    gzip_bomb(made["huge dims"], idx_header(0x0E, [2**32 - 1] * 3), GIB_BLOCKS)
    # an honest-looking header (10,000 MNIST images, 7.8 MB) followed by 1 GiB of zeros
    made["long tail"] = folder / "tail.idx.gz"
    gzip_bomb(made["long tail"], idx_header(0x08, [10000, 28, 28]), GIB_BLOCKS)
    # declares 900 MB (under the cap) but the gzip is a few kB: it cannot hold that much
    made["short"] = folder / "short.idx.gz"
    gzip_bomb(made["short"], idx_header(0x08, [900, 1000, 1000]), 0)
    return made


def test_the_bombs_are_small_on_disk(bombs):
    assert bombs["huge dims"].stat().st_size < 4 << 20 and bombs["long tail"].stat().st_size < 4 << 20


def test_declared_dimensions_beyond_the_cap_are_refused_before_decompressing(bombs):
    result = refused_cheaply("from calcml.data import read_idx", f"read_idx({str(bombs['huge dims'])!r})",
                             "more than the limit of 1,073,741,824 bytes")
    assert "4294967295 × 4294967295 × 4294967295" in result["error"][1]


def test_data_beyond_the_declared_size_stops_the_read_one_chunk_later(bombs):
    """The header is plausible (7.8 MB); the reader stops at 7.8 MB + 1 MiB instead of inflating 1 GiB."""
    refused_cheaply("from calcml.data import read_idx", f"read_idx({str(bombs['long tail'])!r})",
                    "bytes more than its header")


def test_a_declared_size_the_gzip_cannot_hold_is_truncation(bombs):
    refused_cheaply("from calcml.data import read_idx", f"read_idx({str(bombs['short'])!r})", "cannot hold")


def test_plain_files_are_checked_against_their_length_before_reading(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(idx_header(0x0C, [2**32 - 1] * 4) + bytes(100))
    with pytest.raises(DataFormatError, match="more than the limit"):
        read_idx(path)
    path.write_bytes(idx_header(0x08, [1000, 1000]) + bytes(100))
    with pytest.raises(DataFormatError, match=r"truncated: .*1,000,000 bytes.*only 100"):
        read_idx(path)


def test_the_cap_can_be_raised_for_a_genuine_large_file(tmp_path):
    path = tmp_path / "big.idx.gz"
    gzip_bomb(path, idx_header(0x08, [2, 8 << 20]), 1)  # exactly 16 MiB of zeros
    with pytest.raises(DataFormatError, match="more than the limit of 1,000 bytes"):
        read_idx(path, max_bytes=1000)
    assert read_idx(path).shape == (2, 8 << 20)


def test_an_mnist_npz_bomb_is_refused_from_its_directory(tmp_path):
    path = tmp_path / "mnist.npz"
    npz_bomb(path, {"x_train": (npy_header(np.uint8, (1 << 30,)), GIB_BLOCKS),
                    "y_train": (npy_header(np.uint8, (0,)), 0)})
    assert path.stat().st_size < 4 << 20
    refused_cheaply("from calcml.data import mnist", f"mnist({str(path)!r}, max_bytes=100 << 20)",
                    "more than the limit")
    refused_cheaply("from calcml.data import mnist", f"mnist({str(path)!r})",  # the default cap is 1 GiB
                    "more than the limit of 1,073,741,824")
    refused_cheaply("from calcml.data import mnist", f"mnist({str(path)!r}, max_bytes=4 << 30)",
                    "mnist.npz holds x_train, y_train, x_test, y_test")  # the names, before any data


def test_an_npz_member_whose_header_disagrees_with_its_size_is_corrupt(tmp_path):
    path = tmp_path / "mnist.npz"
    npz_bomb(path, {name: (npy_header(np.uint8, (10**12, 28, 28)), 0)
                    for name in ("x_train", "y_train", "x_test", "y_test")})
    with pytest.raises(DataFormatError, match="the file is corrupt"):
        mnist(path)
