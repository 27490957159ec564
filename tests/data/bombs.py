"""Decompression bombs, small on disk, built fast: the tests' hostile files.

Deflate output for a block of zeros compressed after a full flush does not depend on what came before,
so one 16 MiB block compressed once (≈16 KB) and repeated N times is a valid stream of N·16 MiB zeros:
a 1 GiB bomb is 1 MB on disk and takes a fraction of a second to build (compressing 1 GiB at level 9
takes 17 s). ``gzip_bomb`` wraps it as a .gz, ``npz_bomb`` as one member of a zip (an .npz).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
from numpy.lib import format as npy

BLOCK = 16 << 20


def deflate_zeros(prefix: bytes, blocks: int) -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, uncompressed size) of ``prefix`` followed by blocks·16 MiB of zeros."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = zeros.compress(bytes(BLOCK)) + zeros.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(prefix)
    zero_block = bytes(BLOCK)
    for _ in range(blocks):
        crc = zlib.crc32(zero_block, crc)
    return start + block * blocks + b"\x03\x00", crc, len(prefix) + blocks * BLOCK


def gzip_bomb(path, prefix: bytes, blocks: int) -> int:
    """A .gz of ``prefix`` + blocks·16 MiB zeros; returns the uncompressed size."""
    raw, crc, size = deflate_zeros(prefix, blocks)
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + raw + struct.pack("<II", crc, size & 0xFFFFFFFF))
    return size


def npy_header(dtype, shape) -> bytes:
    out = io.BytesIO()
    npy.write_array_header_1_0(out, {"descr": npy.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                                     "shape": tuple(shape)})
    return out.getvalue()


def npz_bomb(path, members: dict[str, tuple[bytes, int]], declared_size: dict[str, int] | None = None) -> None:
    """A zip of ``name.npy`` members, each ``(prefix, blocks)``: an npy header (or anything) then zeros.

    ``declared_size`` lies about a member's uncompressed size in the zip headers (CRC then covers that many
    bytes, so a reader that stops there sees a valid member).
    """
    local, central, offset = [], [], 0
    for name, (prefix, blocks) in members.items():
        raw, crc, size = deflate_zeros(prefix, blocks)
        if declared_size and name in declared_size:
            size = declared_size[name]
            crc = zlib.crc32((prefix + bytes(max(0, size - len(prefix))))[:size])
        filename = (name + ".npy").encode()
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(raw), size)
        record = b"PK\x03\x04" + fields + struct.pack("<HH", len(filename), 0) + filename
        local.append(record + raw)
        central.append(b"PK\x01\x02" + struct.pack("<H", 20) + fields
                       + struct.pack("<HHHHHII", len(filename), 0, 0, 0, 0, 0, offset) + filename)
        offset += len(record) + len(raw)
    directory = b"".join(central)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(central), len(central), len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)


def measure(setup: str, call: str) -> dict:
    """Run ``call`` in a fresh interpreter after ``setup``: seconds, tracemalloc peak, growth of peak RSS,
    and the error it raised (type and message), as a dict."""
    template = textwrap.dedent("""
        import json, resource, time, tracemalloc
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        start = time.perf_counter()
        error = None
        try:
        CALL
        except Exception as e:
            error = [type(e).__name__, str(e)]
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
        print(json.dumps({"seconds": seconds, "traced_mb": peak / 2**20, "rss_growth_mb": rss / 1024,
                          "error": error}))
    """)
    script = setup + "\n" + template.replace("CALL", textwrap.indent(call, "    "))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
