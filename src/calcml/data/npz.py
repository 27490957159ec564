"""Reading ``.npz`` archives without trusting them: names, dtypes and shapes first, data last.

An ``.npz`` is a zip of ``name.npy`` members. ``np.load(path)[name]`` decompresses a member whole before
anyone can look at it, so a 4 MB archive holding a 4 GB member of zeros costs 4 GB and tens of seconds
before its names can be compared with what was expected. Here the zip's central directory gives each
member's declared uncompressed size (zipfile never returns more than that), and the first bytes of each
member give its npy header (``numpy.lib.format.read_magic`` / ``read_array_header_*``: dtype, shape,
order) without decompressing the data. Callers compare these with what they expect, and only then read.

>>> np.savez("model.npz", w=np.ones((3, 2)), b=np.zeros(2))
>>> members = npz_members("model.npz")              # headers only: nothing decompressed yet
>>> {name: (m.dtype.name, m.shape) for name, m in members.items()}
{'w': ('float64', (3, 2)), 'b': ('float64', (2,))}
>>> arrays = read_members("model.npz", members.values())     # after the caller has checked them
>>> arrays["w"].shape
(3, 2)
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy

from calcml.data.errors import DataFormatError

MAX_NPZ_BYTES = 1 << 31  # 2 GiB uncompressed, all members together
NPY_HEADER_LIMIT = 1 << 16  # numpy itself refuses headers beyond 10,000 bytes unless told otherwise


@dataclass(frozen=True)
class Member:
    """One array of an archive, as its npy header declares it."""

    name: str  # without the .npy suffix
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    nbytes: int  # declared uncompressed size of the whole member (header + data)


def npz_members(path: str | os.PathLike, max_bytes: int = MAX_NPZ_BYTES) -> dict[str, Member]:
    """Every member's name, dtype and shape, read from the headers only (no array data is decompressed).

    Raises DataFormatError naming the file when it is not a zip, a member is not an npy array, holds
    Python objects (pickles are never loaded), declares a size its header does not match, or the members
    together declare more than ``max_bytes``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise DataFormatError(
                    f"{path}: its members declare {total:,} bytes uncompressed, more than the limit of "
                    f"{max_bytes:,}; refused before decompressing anything (a corrupt file or a "
                    "decompression bomb; if it is genuine, pass max_bytes= larger).")
            return {member.name: member for member in (_member(archive, info, path) for info in infos)}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        if isinstance(error, DataFormatError):
            raise
        raise DataFormatError(f"{path} is not a readable .npz archive ({error}): it is corrupt or truncated.") \
            from error


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str | os.PathLike) -> Member:
    if not info.filename.endswith(".npy"):
        raise DataFormatError(f"{path}: member {info.filename!r} is not an .npy array; this is not an .npz of arrays.")
    with archive.open(info) as stream:
        try:
            version = npy.read_magic(stream)
            if version == (1, 0):
                shape, fortran_order, dtype = npy.read_array_header_1_0(stream, max_header_size=NPY_HEADER_LIMIT)
            else:
                shape, fortran_order, dtype = npy.read_array_header_2_0(stream, max_header_size=NPY_HEADER_LIMIT)
        except ValueError as error:
            raise DataFormatError(f"{path}: member {info.filename!r} has no valid npy header ({error}).") from error
        header_size = stream.tell() if stream.seekable() else None
    name = info.filename[: -len(".npy")]
    if dtype.hasobject:
        raise DataFormatError(f"{path}: '{name}' holds Python objects ({dtype}); only numeric arrays are read "
                              "(pickled data is never loaded).")
    data_size = math.prod(shape) * dtype.itemsize
    if header_size is not None and header_size + data_size != info.file_size:
        raise DataFormatError(
            f"{path}: '{name}' declares shape {shape} of {dtype} ({data_size:,} bytes) but the archive stores "
            f"{info.file_size - header_size:,} bytes of data for it: the file is corrupt.")
    return Member(name, dtype, tuple(shape), fortran_order, info.file_size)


def read_members(path: str | os.PathLike, members: Iterable[Member]) -> dict[str, np.ndarray]:
    """The arrays of the given (already checked) members; no pickles."""
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in members:
                with archive.open(member.name + ".npy") as stream:
                    array = npy.read_array(stream, allow_pickle=False, max_header_size=NPY_HEADER_LIMIT)
                if array.shape != member.shape or array.dtype != member.dtype:
                    raise DataFormatError(f"{path}: '{member.name}' changed while it was being read.")
                arrays[member.name] = array
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        if isinstance(error, DataFormatError):
            raise
        raise DataFormatError(f"{path} is not a readable .npz archive ({error}): it is corrupt or truncated.") \
            from error
    return arrays
