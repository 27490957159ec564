"""A large batched einsum split between the machine's cores along the batch axis.

Per-example gradients of a dense layer are outer products, one per example: for the digits MLP's first
layer, 128 examples × 64 × 128 entries, 8 MB written by one ``einsum``. NumPy's einsum runs on one core
(BLAS splits a matmul between cores, einsum's own loops do not), so the replay hands each core a slice of
the batch, written into its part of one result:

    out[:B/2] = einsum(X[:B/2], G[:B/2]),   out[B/2:] = einsum(X[B/2:], G[B/2:])   at the same time.

Each example is computed exactly as before (the same loops, the same order of sums): only the schedule
changes. Below ``MIN_BYTES`` a thread costs more than it saves, and one core does it all.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MIN_BYTES = 1 << 21  # 2 MB of output: below this, starting the threads costs more than they save
_POOLS: dict[int, ThreadPoolExecutor] = {}


def usable_cores() -> int:
    """The cores this process may run on (``taskset`` and container limits count), at most ``OMP_NUM_THREADS``
    when it is set (the cap BLAS and PyTorch follow too: a process pool of one-thread workers stays one thread)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    cap = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(cap)) if cap.isdigit() and int(cap) > 0 else cores


def batched_einsum(subscripts: str, operands: list, batched: list[bool]) -> np.ndarray | None:
    """``np.einsum(subscripts, *operands)`` with the batch label first in every batched operand and in the
    output, computed slice by slice on several cores; None when it is small, or not plain arrays, or there
    is one core (the caller then runs it as usual)."""
    if not all(type(op) is np.ndarray for op in operands):  # Tensors and example values: the usual path
        return None
    cores = min(usable_cores(), 4)
    size = next(op.shape[0] for op, b in zip(operands, batched) if b)
    inputs, output = subscripts.split("->")
    lengths = {label: n for term, op in zip(inputs.split(","), operands) for label, n in zip(term, op.shape)}
    shape = tuple(lengths[label] for label in output)
    dtype = np.result_type(*operands)
    if cores < 2 or size < cores or int(np.prod(shape)) * dtype.itemsize < MIN_BYTES:
        return None
    out = np.empty(shape, dtype)
    bounds = np.linspace(0, size, cores + 1).astype(int)
    slices = [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]

    def part(rows: slice) -> None:
        np.einsum(subscripts, *[op[rows] if b else op for op, b in zip(operands, batched)], out=out[rows])

    pool = _POOLS.get(cores) or _POOLS.setdefault(cores, ThreadPoolExecutor(cores - 1, "calcml-einsum"))
    others = [pool.submit(part, rows) for rows in slices[1:]]
    part(slices[0])
    for future in others:
        future.result()
    return out
