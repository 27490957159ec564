"""Does a Monte Carlo sample have a variance? Hill's estimate of the tail index.

The standard error V·s/√n of a Monte Carlo mean means something only when f(U) has a finite variance.
When |f(U)| has a power-law tail, P(|f(U)| > t) ~ C·t^{−α}, the variance is infinite for α ≤ 2 and
the mean itself for α ≤ 1 (∫₀¹ 1/u du: α = 1). The sample variance is then finite, but it never
settles and the ± it gives is meaningless.

Hill (1975) estimates α from the k largest values X₍₁₎ ≥ … ≥ X₍ₖ₊₁₎ of the sample:

    1/α̂ = (1/k) Σ_{i ≤ k} log(X₍ᵢ₎ / X₍ₖ₊₁₎),    standard error of α̂ ≈ α̂/√k,

with k = √n. A bounded f gives top values close to one another and α̂ → ∞; a light (exponential)
tail gives α̂ growing like log n. Hill's estimate is fooled by a bounded f that is ~0 on most of the
box (a sharp bump: the top √n values run from the peak down into its flanks), so a second fact is
required: with an infinite variance the largest single value keeps an O(1) share of Σ(f − mean)²
(for a finite variance the share falls to 0 as n grows). The variance is declared suspect when α̂
lies below 2 by two standard errors, α̂·(1 + 2/√k) < 2, and the largest value carries at least
LARGEST_SHARE of Σ(f − mean)².
"""

from __future__ import annotations

import math

import numpy as np

TOP_PER_BLOCK = 1024  # the largest |f| each block keeps; k = √n never needs more for n ≤ 10⁶
MIN_TAIL = 10  # fewer than this many tail values (n < 100): no verdict
LARGEST_SHARE = 0.1  # 1/u keeps ≥ 0.15 of Σ(f − mean)² in its largest value; a bump of width 1/600 of the box 0.025


def top_values(values: np.ndarray) -> np.ndarray:
    """The TOP_PER_BLOCK largest |values| of one block, largest first."""
    magnitudes = np.abs(values)
    if magnitudes.size > TOP_PER_BLOCK:
        magnitudes = np.partition(magnitudes, -TOP_PER_BLOCK)[-TOP_PER_BLOCK:]
    return np.sort(magnitudes)[::-1]


def tail_index(tops: list[np.ndarray], n: int) -> float | None:
    """Hill's α̂ from the blocks' largest |f|, with k = √n; None when it cannot be computed
    (too few points, or an atom at 0 among the top k + 1).

    >>> rng = np.random.default_rng(0)
    >>> round(tail_index([top_values(1 / rng.random(20000))], 20000), 1)   # Pareto(1): α = 1
    1.0
    >>> tail_index([top_values(rng.random(20000))], 20000) > 10            # bounded: no power tail
    True
    """
    k = min(int(math.isqrt(n)), TOP_PER_BLOCK - 1)
    if k < MIN_TAIL:
        return None
    largest = np.sort(np.concatenate(tops))[::-1][: k + 1]
    if len(largest) < k + 1 or largest[k] <= 0 or not np.all(np.isfinite(largest)):
        return None
    spread = float(np.mean(np.log(largest[:k] / largest[k])))
    return math.inf if spread == 0 else 1.0 / spread


def largest_share(tops: list[np.ndarray], mean: float, m2: float) -> float:
    """(max|f| − |mean|)² / Σ(f − mean)²: the share of the sample's spread carried by its largest value."""
    largest = max(float(t[0]) for t in tops if t.size)
    return (largest - abs(mean)) ** 2 / m2 if m2 > 0 and largest > abs(mean) else 0.0


def variance_suspect(alpha: float | None, share: float, n: int) -> bool:
    """True when α̂ is below 2 (infinite variance) by two standard errors and the largest value carries
    at least LARGEST_SHARE of the sample's Σ(f − mean)²."""
    if alpha is None:
        return False
    k = min(int(math.isqrt(n)), TOP_PER_BLOCK - 1)
    return alpha * (1.0 + 2.0 / math.sqrt(k)) < 2.0 and share >= LARGEST_SHARE
