"""The IDX format of MNIST (LeCun et al.): a 4-byte magic number, the dimensions, then the data.

    magic  = 0x00 0x00 <type> <ndim>        type 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    dims   = ndim big-endian uint32                       0x0D float32, 0x0E float64
    data   = prod(dims) values, big-endian, row-major

So train-images-idx3-ubyte starts 0x00000803 (2051: uint8, 3 dims) and the labels 0x00000801 (2049).
Files may be gzip-compressed (``.gz``); ``read_idx`` checks every field and the length and says what is
wrong with a corrupt or truncated file instead of returning garbage.

A file is never trusted with memory: the declared size prod(dims)·itemsize is computed exactly (Python
integers: no overflow) and checked against a cap (``max_bytes``, 1 GiB by default; MNIST's largest file
is 47 MB) and against what the file can hold (its length, or 1032× its length for gzip, deflate's
largest ratio) *before* anything is allocated or decompressed; gzip data is then read in 1 MiB chunks
into a buffer of the declared size, and reading stops at the declared size plus one chunk. A 1 MB
"decompression bomb" declaring 10^12 values is refused in microseconds.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from calcml.data.errors import DataFormatError

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 1 << 30  # 1 GiB of data (EMNIST's largest file is 0.55 GB)
CHUNK = 1 << 20
DEFLATE_MAX_RATIO = 1032  # deflate never expands data more than this (RFC 1951: 258 bytes per 2 bits)


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


def read_idx(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (plain or gzip) into an ndarray in native byte order, checking its header
    (magic number, type, dimensions) against its length and against ``max_bytes`` before reading the data.

    >>> from pathlib import Path          # magic 0 0 8 1 (uint8, one dimension), size 3, then the data
    >>> _ = Path("labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> cm.data.read_idx("labels-idx1-ubyte")
    array([7, 2, 1], dtype=uint8)
    >>> images = cm.data.read_idx("train-images-idx3-ubyte.gz")  # needs MNIST's file  # doctest: +SKIP

    Raises DataFormatError naming the file: not IDX, truncated, extra bytes, damaged gzip, or a declared
    size above ``max_bytes`` (raise it for a genuine file that large).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"no such file: {path}")
    size = path.stat().st_size
    with path.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return read_idx_stream(raw, str(path), max_bytes, plain_size=size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return read_idx_stream(stream, str(path), max_bytes, compressed_size=size)
        except (EOFError, OSError, zlib.error) as error:
            raise DataFormatError(
                f"{path} is a damaged or truncated gzip file ({error}).\n"
                "  re-download it, or decompress it yourself (gunzip) to see how much of it survives."
            ) from error


def parse_idx(data: bytes, source: str = "<bytes>", max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """The array held by the IDX bytes ``data``; ``source`` names them in error messages."""
    return read_idx_stream(io.BytesIO(data), source, max_bytes, plain_size=len(data))


def read_idx_stream(stream: BinaryIO, source: str, max_bytes: int, plain_size: int | None = None,
                    compressed_size: int | None = None) -> np.ndarray:
    """Header first, every size checked, then the data in bounded chunks into a buffer of the declared size.

    ``plain_size``: the exact length of uncompressed data (then truncation and extra bytes are known before
    reading); ``compressed_size``: the length of the gzip file holding the stream.
    """
    head = _read_up_to(stream, 4)
    if len(head) < 4:
        raise DataFormatError(f"{source} is {len(head)} bytes long: too short for an IDX header.")
    zero, code, ndim = head[:2], head[2], head[3]
    if zero != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        raise DataFormatError(
            f"{source} is not an IDX file: its magic number is 0x{int.from_bytes(head, 'big'):08X}.\n"
            "  an IDX file starts 0x0000TTNN, TT the type (08 = uint8 ... 0E = float64) and NN the number "
            "of dimensions, e.g. 0x00000803 for MNIST images and 0x00000801 for labels."
        )
    header = 4 + 4 * ndim
    dims_bytes = _read_up_to(stream, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataFormatError(
            f"{source} is truncated inside its header: {ndim} dimensions need {header} bytes, the file has "
            f"{4 + len(dims_bytes)}."
        )
    shape = tuple(int.from_bytes(dims_bytes[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
    dtype = IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # exact: a Python integer cannot overflow
    dims = " × ".join(str(d) for d in shape)
    promise = f"its header promises {dims} values of {dtype.name} ({expected:,} bytes)"
    if expected > max_bytes:
        raise DataFormatError(
            f"{source}: {promise}, more than the limit of {max_bytes:,} bytes; refused before reading.\n"
            "  a corrupt header or a decompression bomb; if the file is genuine, pass max_bytes= larger."
        )
    if plain_size is not None:
        found = plain_size - header
        if found < expected:
            raise DataFormatError(
                f"{source} is truncated: {promise}, but only {found:,} bytes follow the header.\n"
                "  the download or extraction was cut short: fetch the file again."
            )
        if found > expected:
            raise DataFormatError(
                f"{source} has {found - expected:,} bytes more than its header ({dims} values of {dtype.name}) "
                "describes: it is corrupt or not an IDX file."
            )
    if compressed_size is not None and expected > DEFLATE_MAX_RATIO * compressed_size + CHUNK:
        raise DataFormatError(
            f"{source} is truncated: {promise}, but a gzip file of {compressed_size:,} bytes cannot hold more "
            f"than about {DEFLATE_MAX_RATIO * compressed_size:,}.\n  fetch the file again."
        )
    data = np.empty(expected, dtype=np.uint8)
    view = memoryview(data)
    filled = 0
    while filled < expected:
        n = stream.readinto(view[filled:filled + CHUNK])
        if not n:
            break
        filled += n
    if filled < expected:
        raise DataFormatError(
            f"{source} is truncated: {promise}, but only {filled:,} bytes follow the header.\n"
            "  the download or extraction was cut short: fetch the file again."
        )
    extra = stream.read(CHUNK)
    if extra:
        amount = f"{len(extra):,}" if len(extra) < CHUNK else f"more than {CHUNK:,}"
        raise DataFormatError(
            f"{source} has {amount} bytes more than its header ({dims} values of {dtype.name}) describes: it "
            "is corrupt or not an IDX file."
        )
    return data.view(dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _read_up_to(stream: BinaryIO, n: int) -> bytes:
    """Up to n bytes (fewer only at the end of the stream)."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)
