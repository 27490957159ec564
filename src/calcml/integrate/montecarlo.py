"""Monte Carlo and quasi-Monte Carlo integration over a box, with a standard error.

    ∫_box f ≈ V · (1/n) Σ f(x_i),   standard error V · s/√n   (x_i uniform, s the sample std)

Monte Carlo's error falls like n^{−1/2} in any dimension. Quasi-Monte Carlo replaces the random
points by a low-discrepancy sequence (Sobol, Halton), whose error falls nearly like n^{−1} for smooth
f; to get an error estimate, the sequence is randomized (scrambled) R times independently and the
spread of the R estimates gives the standard error (Owen, "Monte Carlo theory, methods and
examples", ch. 17). The sequences come from ``scipy.stats.qmc`` (imported when ``qmc`` is first called).

``montecarlo`` draws its points in blocks of ``SAMPLES_PER_STREAM``, block b from the b-th stream spawned from
the seed (``calcml.sweep.blocks``), and merges the blocks' sums and variances in block order: with
``backend="processes"`` or ``"dask"`` the estimate is the same, sample for sample, as on one core.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.integrate.heavy_tail import largest_share, tail_index, top_values, variance_suspect
from calcml.integrate.quad import IntegrationInputError, IntegrationWarning, check_count
from calcml.sweep.blocks import map_blocks

SAMPLES_PER_STREAM = 16_384  # fixed, so that how the blocks are grouped into tasks never changes the samples


def _values(x: Any) -> np.ndarray:
    """Plain float values, read from a Tensor's value (the estimate itself stays traced)."""
    return np.asarray(x.value if type(x) is Tensor else x, dtype=float)


@dataclass
class MonteCarloResult:
    """An estimate, its standard error and the number of evaluations of f. ``converged`` is False when the
    sample's tail says f's variance is probably infinite (then the stderr means nothing; see heavy_tail.py)."""

    value: float
    stderr: float
    evals: int
    method: str
    converged: bool = True

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        flag = "" if self.converged else ", converged=False"
        return (f"MonteCarloResult(value={float(self.value):.10g}, stderr={self.stderr:.2e}, evals={self.evals}"
                f"{flag}, method={self.method!r})")


def _box(domain: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, float]:
    lo, hi = np.array([float(d[0]) for d in domain]), np.array([float(d[1]) for d in domain])
    if lo.size == 0 or not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise IntegrationInputError(f"montecarlo/qmc need a finite box [(lo, hi), ...], got {list(domain)!r}; "
                         "for an infinite range, change variables or sample from a density instead.")
    return lo, hi, float(np.prod(hi - lo))


def _evaluate(f: Callable, points: np.ndarray) -> Any:
    """f(x₀, x₁, …) with each coordinate an array of the n sample points. A constant f may return one number;
    one number that changes with the points (f read x[0] or summed x: written for a single point) is refused."""
    values = f(*points.T)
    if np.shape(values) == (points.shape[0],):
        return values
    if (np.ndim(values) == 0 and len(points) > 1
            and not np.array_equal(_values(f(*points[-1:].T)), _values(values), equal_nan=True)):
        raise IntegrationInputError(
            f"f returned one number for {len(points)} points, and another for a single point: it reads the arrays "
            "as one point (x[0], np.sum(x) ...). f takes one array per coordinate, all the points at once, and "
            "returns one value per point: f(x, y) = x * y for a 2-D box, f(x) = x ** 2 for [(0, 1)].")
    return np.broadcast_to(values, (points.shape[0],))


def montecarlo(f: Callable, domain: Sequence[tuple[float, float]], n: int = 100_000,
               rng: np.random.Generator | int | None = None, backend: str | None = None, client: Any = None,
               chunks: int | None = None) -> MonteCarloResult:
    """Plain Monte Carlo: V · mean f(uniform points) ± V · std/√n.

    f takes one array per coordinate, like ``nquad``'s f: f(x, y) for a 2-D box. ``backend`` "serial" (the
    default; the estimate may be differentiated with ``cm.grad``), "processes" or "dask" (with ``client=``, a
    ``distributed.Client`` or a scheduler address) spreads the blocks of points over ``chunks`` tasks; the same
    ``rng`` seed gives the same estimate on every backend and for every chunk count.

    >>> r = cm.integrate.montecarlo(lambda x, y: x * y, [(0, 1), (0, 1)], n=10**5, rng=0)
    >>> bool(abs(r.value - 0.25) < 4 * r.stderr)
    True
    >>> bool(r.value == cm.integrate.montecarlo(lambda x, y: x * y, [(0, 1), (0, 1)], n=10**5, rng=0, chunks=4).value)
    True
    """
    n = check_count(n, "n", "montecarlo", minimum=2)
    lo, hi, volume = _box(domain)
    if chunks is not None:
        chunks = check_count(chunks, "chunks", "montecarlo")
    blocks = map_blocks(partial(_block_moments, f, lo, hi), n, SAMPLES_PER_STREAM, rng, backend, client, chunks)
    total, count, mean, m2, _ = blocks[0]
    for block_sum, block_count, block_mean, block_m2, _ in blocks[1:]:  # Chan et al.'s pairwise update, in order
        delta = block_mean - mean
        merged = count + block_count
        mean, m2 = mean + delta * block_count / merged, m2 + block_m2 + delta * delta * count * block_count / merged
        total, count = total + block_sum, merged
    stderr = volume * float(np.sqrt(m2 / (n - 1))) / np.sqrt(n)
    tops = [block[4] for block in blocks]
    alpha, share = tail_index(tops, n), largest_share(tops, mean, m2)
    converged = not variance_suspect(alpha, share, n)
    if not converged:
        beyond = " and, below 1, the integral itself too" if alpha < 1 else ""
        warnings.warn(
            f"montecarlo: the ± {stderr:.2g} cannot be trusted: the largest value of f carries {share:.0%} of the "
            f"sample's spread, and the top values look like a power-law tail of index ≈ {alpha:.2f} (Hill's "
            f"estimate from the top √n of {n} samples), below 2, so f's variance is probably infinite{beyond} "
            "(or n is too small to sample a narrow peak more than a few times). If f is singular in the box, "
            "integrate it with quad/nquad or change variables to remove the singularity; else raise n.",
            IntegrationWarning, stacklevel=2)
    return MonteCarloResult(volume * total / n, stderr, n, "Monte Carlo", converged)


def _block_moments(f: Callable, lo: np.ndarray, hi: np.ndarray, block: range,
                   rng: np.random.Generator) -> tuple[Any, int, float, float, np.ndarray]:
    """One block's Σf (traced when f is), and the count, mean, Σ(f − mean)² and largest |f| of its plain values."""
    points = lo + (hi - lo) * rng.random((len(block), lo.size))
    values = _evaluate(f, points)
    plain = _values(values)
    mean = float(np.mean(plain))
    return np.sum(values), len(block), mean, float(np.sum((plain - mean) ** 2)), top_values(plain)


def qmc(f: Callable, domain: Sequence[tuple[float, float]], n: int = 2 ** 14, method: str = "sobol",
        scrambles: int = 8, rng: np.random.Generator | int | None = None) -> MonteCarloResult:
    """Randomized quasi-Monte Carlo: the mean of ``scrambles`` independently scrambled Sobol or Halton
    estimates (n points in all), with standard error std/√scrambles across them.

    >>> r = cm.integrate.qmc(lambda x, y: x * y, [(0, 1), (0, 1)], n=2**12, rng=0)
    >>> bool(abs(r.value - 0.25) < 1e-4)
    True
    """
    from scipy.stats import qmc as scipy_qmc  # a runtime dependency, imported here to keep import calcml fast

    if method not in ("sobol", "halton"):
        raise IntegrationInputError(f"qmc: method must be 'sobol' or 'halton', not {method!r}.")
    if isinstance(scrambles, bool) or not isinstance(scrambles, (int, np.integer)) or scrambles < 2:
        raise IntegrationInputError("qmc: at least 2 scrambles are needed to estimate the error.")
    n = check_count(n, "n", "qmc", minimum=2)
    lo, hi, volume = _box(domain)
    rng = np.random.default_rng(rng)
    per_scramble = max(1, n // scrambles)
    estimates = []
    for _ in range(scrambles):
        if method == "sobol":
            sampler = scipy_qmc.Sobol(lo.size, scramble=True, seed=rng)
            m = max(1, int(round(np.log2(per_scramble))))  # Sobol points are balanced in powers of 2
            unit = sampler.random_base2(m)
        else:
            unit = scipy_qmc.Halton(lo.size, scramble=True, seed=rng).random(per_scramble)
        estimates.append(volume * np.mean(_evaluate(f, lo + (hi - lo) * unit)))
    plain = np.array([float(_values(e)) for e in estimates])
    stderr = float(np.std(plain, ddof=1)) / np.sqrt(scrambles)
    value = sum(estimates[1:], estimates[0]) / scrambles
    return MonteCarloResult(value, stderr, scrambles * len(unit), f"randomized QMC ({method}, {scrambles} scrambles)")
