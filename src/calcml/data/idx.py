"""The IDX format of MNIST (LeCun et al.): a 4-byte magic number, the dimensions, then the data.

    magic  = 0x00 0x00 <type> <ndim>        type 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    dims   = ndim big-endian uint32                       0x0D float32, 0x0E float64
    data   = prod(dims) values, big-endian, row-major

So train-images-idx3-ubyte starts 0x00000803 (2051: uint8, 3 dims) and the labels 0x00000801 (2049).
Files may be gzip-compressed (``.gz``); ``read_idx`` checks every field and the length and says what is
wrong with a corrupt or truncated file instead of returning garbage.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from calcml.data.errors import DataFormatError

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """The contents of ``path``, decompressed when it is gzip (by its first two bytes, whatever its name)."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"no such file: {path}")
    raw = path.read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DataFormatError(
            f"{path} is a damaged or truncated gzip file ({error}).\n"
            "  re-download it, or decompress it yourself (gunzip) to see how much of it survives."
        ) from error


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip when ``compress`` or the name ends in .gz): the inverse of
    ``read_idx``, for making small test files."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot hold {array.dtype}; use uint8, int8, int16, int32, float32 or float64.")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_TYPES[code], copy=False).tobytes()
    path = Path(path)
    if compress or (compress is None and path.suffix == ".gz"):
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """The array held by the IDX bytes ``data``; ``source`` names them in error messages."""
    if len(data) < 4:
        raise DataFormatError(f"{source} is {len(data)} bytes long: too short for an IDX header.")
    zero, code, ndim = data[:2], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        raise DataFormatError(
            f"{source} is not an IDX file: its magic number is 0x{magic:08X}.\n"
            "  an IDX file starts 0x0000TTNN, TT the type (08 = uint8 ... 0E = float64) and NN the number "
            "of dimensions, e.g. 0x00000803 for MNIST images and 0x00000801 for labels."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(
            f"{source} is truncated inside its header: {ndim} dimensions need {header} bytes, the file has "
            f"{len(data)}."
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    dims = " × ".join(str(d) for d in shape)
    if found < expected:
        raise DataFormatError(
            f"{source} is truncated: its header promises {dims} values of {dtype.name} ({expected:,} bytes), "
            f"but only {found:,} bytes follow the header.\n"
            "  the download or extraction was cut short: fetch the file again."
        )
    if found > expected:
        raise DataFormatError(
            f"{source} has {found - expected:,} bytes more than its header ({dims} values of {dtype.name}) "
            "describes: it is corrupt or not an IDX file."
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip) into an ndarray in native byte order, checking its header
    (magic number, type, dimensions) against its length.

    >>> images = cm.data.read_idx("train-images-idx3-ubyte.gz")       # (60000, 28, 28) uint8
    """
    return parse_idx(read_bytes(path), source=str(path))
