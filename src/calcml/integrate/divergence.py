"""Is a sequence of partial integrals converging? The checks that keep ε-extrapolation honest.

Near an endpoint singularity quad sums S_k = ∫ over the range minus [end, end ± w/2^k]. For f ~ |x − c|^α
the increments d_k = S_k − S_{k−1} form a geometric sequence of ratio r = 2^{−(1+α)}: the integral exists
exactly when r < 1 (α > −1). For α ≤ −1 the sequence grows without bound, yet Wynn's ε-algorithm still
returns a finite number — the analytic continuation (∫₀¹ x^{−3/2} "= −2"), which no partial sum
supports. Two facts decide (QUADPACK's divergence tests are built on the same ideas):

* growth: when the latest increments of one end keep their sign and do not shrink, the partial sums go
  to ±∞ at that end: the integral diverges. "Shrink" is judged on the base ratio r of the increments,
  not on d_k / d_{k−1} alone: a logarithm times a power gives d_k = (a + b·k)·rᵏ, whose successive
  ratios r·(1 + b/(a + b·k)) stay above 1 for hundreds of halvings when r is near 1 (∫₀¹ x^{−0.999} log x
  = −10⁶ converges). Such a sequence solves d_{k+2} − 2r·d_{k+1} + r²·d_k = 0; the smaller root,
  r = q₁ − √(q₁(q₁ − q₂)) with q₁ = d_{k+1}/d_k, q₂ = d_{k+2}/d_{k+1}, is the base ratio (= q₂ when the
  ratios are constant, a pure power).
* consistency: when the partial sums move monotonically, their limit lies beyond the last of them;
  an extrapolated value behind S_last contradicts the sequence it came from.

On (−∞, ∞) a third fact is used before any rule runs: ∫^∞ f converges only if x·f(x) → 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

GROWTH_RUN = 3  # increments that must all keep their sign and not shrink
NOT_SHRINKING = 1.0 - 1e-6  # a ratio this close to 1 is growth (∫ 1/x: every halving adds log 2)
SIGNIFICANT = 1e3  # an increment counts only when it is this many times its own error estimate
TAIL_GRID = 2.0 ** np.array([2, 4, 8, 16, 32, 48, 64])  # x where the tails are sampled (x⁴ stays finite)
TAIL_DECAY = 1e-3  # |x·f(x)| at the far end of the grid must have fallen below this fraction of its largest


def growth_sign(increments: Sequence[float], errors: Sequence[float]) -> int:
    """+1 or −1 when the last GROWTH_RUN increments of one end show the partial sums running off to ±∞,
    else 0.

    >>> growth_sign([0.5, 0.7071, 1.0], [1e-13] * 3)    # ∫₀¹ x^{−3/2}: ratio √2 at each halving
    1
    >>> growth_sign([0.5, 0.4997, 0.4993], [1e-13] * 3)  # ∫₀¹ x^{−0.999}: ratio 0.9993 < 1, converges
    0
    >>> growth_sign([-3.0, -3.5, -4.0], [1e-13] * 3)     # ∫₀¹ log(x)/x: d_k = −(a + b·k), base ratio 1
    -1
    >>> growth_sign([-3.0, -3.4976, -3.9944], [1e-13] * 3)  # ∫₀¹ x^{−0.999} log x: ratios > 1, base 0.9993
    0
    """
    if len(increments) < GROWTH_RUN:
        return 0
    last, noise = list(increments[-GROWTH_RUN:]), list(errors[-GROWTH_RUN:])
    if any(d == 0 or abs(d) < SIGNIFICANT * e for d, e in zip(last, noise)):
        return 0
    signs = {d > 0 for d in last}
    if len(signs) != 1:
        return 0
    q1, q2 = last[1] / last[0], last[2] / last[1]
    noise = 10.0 * sum(e / abs(d) for d, e in zip(last, noise)) + 1e-12
    base = q1 - math.sqrt(q1 * (q1 - q2)) if q1 - q2 > noise else q2  # falling ratios: (a + b·k)·rᵏ
    return (1 if last[-1] > 0 else -1) if base >= NOT_SHRINKING else 0


def behind_the_sequence(value: float, error: float, partial: Sequence[float]) -> bool:
    """True when the partial sums' last GROWTH_RUN steps all go one way and ``value`` lies behind the last
    partial sum by more than ``error``: a limit the sequence cannot have.

    >>> behind_the_sequence(-2.0, 1e-13, [0.8, 1.6, 2.7, 4.2])   # x^{−3/2}'s continuation, behind S = 4.2
    True
    """
    if len(partial) <= GROWTH_RUN:
        return False
    steps = [b - a for a, b in zip(partial[-GROWTH_RUN - 1:], partial[-GROWTH_RUN:])]
    if all(s > 0 for s in steps):
        return value < partial[-1] - error
    if all(s < 0 for s in steps):
        return value > partial[-1] + error
    return False


def divergent_value(diverges: dict[str, int]) -> tuple[float, float]:
    """(value, error) of a divergent integral: ±∞ when every diverging end runs off the same way, else NaN
    (∞ − ∞ has no value); the error is ∞."""
    signs = set(diverges.values())
    return (math.copysign(math.inf, signs.pop()) if len(signs) == 1 else math.nan), math.inf


def divergence_reason(limits: dict[str, float], diverges: dict[str, int]) -> str:
    """Where and how an integral diverges, in the user's variable (``limits``: end → x), and what to do."""
    parts = [f"to {'+' if sign > 0 else '−'}∞ as x → {limits[end]:g}" for end, sign in sorted(diverges.items())]
    opposite = len(set(diverges.values())) > 1
    return (f"it diverges ({' and '.join(parts)}): each step toward that end (halving the distance to it, or "
            f"about doubling x toward ±∞) adds as much to the integral as the previous one, or more, so the "
            f"partial integrals grow without bound"
            + (" — infinities of opposite sign do not cancel, the value is NaN" if opposite else "")
            + ". If you expected a finite value, check f near that end (the integrand is not integrable there).")


def tails_may_diverge(f: Callable[[np.ndarray], np.ndarray]) -> bool:
    """On (−∞, ∞): may a tail of f fail to be integrable? f (plain values) is sampled on the geometric grid
    ±2² … ±2⁶⁴ (14 evaluations); a tail where |x·f(x)| has not fallen to TAIL_DECAY of its largest value
    on the grid (x/(1+x²): x·f → 1), or is not finite, is suspect.

    A symmetric rule on the whole line cancels an odd f exactly (x/(1+x²) "= 0"); quad then cuts the
    range at x = 0, so that each half's divergence is seen on its own.

    >>> tails_may_diverge(lambda x: x / (1 + x * x)), tails_may_diverge(lambda x: np.exp(-x * x))
    (True, False)
    """
    x = np.concatenate([-TAIL_GRID, TAIL_GRID])
    with np.errstate(all="ignore"):
        scaled = np.abs(f(x) * x).reshape(2, -1)
    if not np.all(np.isfinite(scaled)):
        return True
    return bool(np.any(scaled[:, -1] > TAIL_DECAY * np.max(scaled, axis=1)))
