"""Sampling split into blocks with their own random streams, run on any backend, gathered in block order.

``map_blocks(work, n, size, rng, backend)`` cuts n samples into blocks of ``size`` (``streams.block_ranges``),
gives block b the generator of the b-th spawned SeedSequence, groups whole blocks into chunks (one task per
chunk) and returns ``[work(block, generator) for each block]`` in block order. Neither the backend nor the
chunk count changes any block's samples, so combining the per-block results in order gives the same answer,
bit for bit, on one core, local processes or a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import numpy as np

from calcml.autodiff.errors import GraphEscapeError
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.tree import leaves
from calcml.sweep.backends import session
from calcml.sweep.streams import block_ranges, contiguous_chunks, seed_sequence

T = TypeVar("T")
Work = Callable[[range, np.random.Generator], T]


def map_blocks(work: Work, n: int, size: int, rng: Any = None, backend: str | None = None, client: Any = None,
               chunks: int | None = None, n_jobs: int | None = None) -> list[T]:
    """``work(block, generator)`` for each block of ``size`` of the ``n`` samples, in block order.

    ``backend`` "serial" (the default: in this process, where results may stay traced for ``cm.grad``),
    "processes" or "dask" (``client=``); ``chunks`` tasks in all (default: one per worker).

    >>> sums = map_blocks(lambda block, g: g.random(len(block)).sum(), 10, 4, rng=0)
    >>> len(sums), sums == map_blocks(lambda block, g: g.random(len(block)).sum(), 10, 4, rng=0, chunks=3)
    (3, True)
    """
    ranges = block_ranges(n, size)
    blocks = list(zip(ranges, seed_sequence(rng).spawn(len(ranges))))
    with session(backend, client, n_jobs=n_jobs, default="serial") as open_backend:
        pieces = contiguous_chunks(blocks, open_backend.workers if chunks is None else chunks)
        done = open_backend.run(partial(_run_chunk, work, open_backend.name), pieces)
    return [result for chunk in done for result in chunk]


def _run_chunk(work: Work, backend: str, chunk: Sequence[tuple[range, np.random.SeedSequence]]) -> list:
    results = [work(block, np.random.default_rng(stream)) for block, stream in chunk]
    if backend != "serial" and any(isinstance(leaf, Tensor) for leaf in leaves(results)):
        raise GraphEscapeError(
            f"a block computed on backend={backend!r} returned a calcml Tensor (a value being differentiated); its "
            "derivative cannot travel between processes.\n  differentiate with backend='serial' (the default), "
            "or pass plain arrays.")
    return results
