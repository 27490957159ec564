"""Independent random streams for work split into pieces, so the answer never depends on the split.

The samples are cut into consecutive blocks of a fixed size; block b draws from the b-th child of
``SeedSequence(seed).spawn`` (NumPy's guarantee: children are independent streams). Chunks sent to workers
are runs of whole blocks, so 1 chunk or 16, one core or a cluster, the same seed gives the same samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from calcml.sweep.errors import SweepInputError

T = TypeVar("T")


def seed_sequence(rng: Any) -> np.random.SeedSequence:
    """The root of the streams: ``SeedSequence(rng)`` for None (fresh entropy) or an int; a SeedSequence as
    given; for a Generator, a SeedSequence seeded from its next draws (so the Generator advances).

    >>> seed_sequence(7).entropy
    7
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2 ** 63, size=2).tolist())
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, (int, np.integer))):
        raise SweepInputError(f"rng must be None, an int seed, a numpy SeedSequence or Generator, not {rng!r}.")
    return np.random.SeedSequence(None if rng is None else int(rng))


def block_ranges(n: int, size: int) -> list[range]:
    """Consecutive ranges of ``size`` items covering 0..n (the last one may be shorter).

    >>> block_ranges(10, 4)
    [range(0, 4), range(4, 8), range(8, 10)]
    """
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


def contiguous_chunks(items: Sequence[T], chunks: int) -> list[list[T]]:
    """``items`` cut into ``min(chunks, len(items))`` runs of consecutive items, sizes differing by at most one.

    >>> contiguous_chunks([0, 1, 2, 3, 4], 2)
    [[0, 1], [2, 3, 4]]
    """
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise SweepInputError(f"chunks must be a whole number ≥ 1, not {chunks!r}.")
    count = min(int(chunks), len(items))
    bounds = [i * len(items) // count for i in range(count + 1)]
    return [list(items[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
