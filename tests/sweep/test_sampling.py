"""Monte Carlo, gradient estimators and SDE ensembles split into blocks with their own random streams: the same
seed gives the same answer, sample for sample, for every chunk count and on every backend — and the answer is
still right."""

from __future__ import annotations

import numpy as np
import pytest

import calcml as cm
from calcml.sde.integrators import PATHS_PER_STREAM
from calcml.sweep import SweepInputError

BOX = [(0, 1), (0, 1), (0, 1)]


def gaussian_bump(x, y, z):
    return np.exp(-(x * x + y * y + z * z))


EXACT_BUMP = 0.41659603  # (√π/2 · erf 1)³


def test_montecarlo_is_the_same_for_every_chunk_count_and_backend():
    n = 100_000  # 7 blocks of 16384
    reference = cm.integrate.montecarlo(gaussian_bump, BOX, n=n, rng=11)
    for kwargs in ({"chunks": 2}, {"chunks": 7}, {"chunks": 50}, {"backend": "processes", "chunks": 3}):
        other = cm.integrate.montecarlo(gaussian_bump, BOX, n=n, rng=11, **kwargs)
        assert (other.value, other.stderr, other.evals) == (reference.value, reference.stderr, reference.evals), kwargs
    assert abs(reference.value - EXACT_BUMP) < 4 * reference.stderr
    different = cm.integrate.montecarlo(gaussian_bump, BOX, n=n, rng=12)
    assert different.value != reference.value  # the seed, not the split, decides the samples


def test_merged_block_statistics_equal_the_whole_sample_formulas():
    """The blocks' sums and variances merged in order give V·mean and V·std/√n of all the points."""
    n, size = 40_000, 16_384
    streams = np.random.SeedSequence(3).spawn(3)
    points = np.concatenate([np.random.default_rng(s).random((len(r), 3))
                             for s, r in zip(streams, cm.sweep.streams.block_ranges(n, size))])
    values = gaussian_bump(*points.T)
    result = cm.integrate.montecarlo(gaussian_bump, BOX, n=n, rng=3, chunks=2)
    assert result.value == pytest.approx(values.mean(), rel=1e-13)
    assert result.stderr == pytest.approx(values.std(ddof=1) / np.sqrt(n), rel=1e-10)


def test_montecarlo_stays_differentiable_in_this_process_and_refuses_elsewhere():
    # d/dw ∫₀¹ w x² dx = 1/3 (an estimate: within a few standard errors of it)
    g = cm.grad(lambda w: cm.integrate.montecarlo(lambda x: w * x ** 2, [(0, 1)], n=50_000, rng=0, chunks=3).value)
    assert abs(g(2.0) - 1 / 3) < 0.01
    with pytest.raises(cm.GraphEscapeError, match="differentiate with backend='serial'"):
        cm.grad(lambda w: cm.integrate.montecarlo(lambda x: w * x, [(0, 1)], n=20_000, rng=0, backend="processes",
                                                  chunks=2).value)(2.0)


@pytest.mark.parametrize(("estimator", "baseline"), [("reparam", None), ("score", "mean")])
def test_grad_expectation_is_the_same_for_every_chunk_count_and_backend(estimator, baseline):
    f = lambda x: np.cos(2 * x)
    args = (f, "normal", (1.5, 0.8), estimator)
    reference = cm.prob.grad_expectation(*args, n=20_000, rng=4, baseline=baseline)
    for kwargs in ({"chunks": 3}, {"backend": "processes", "chunks": 2}):
        other = cm.prob.grad_expectation(*args, n=20_000, rng=4, baseline=baseline, **kwargs)
        np.testing.assert_array_equal(other.grad, reference.grad)
        np.testing.assert_array_equal(other.variance, reference.variance)
    exact = -2 * np.sin(3.0) * np.exp(-2 * 0.64)  # ∂/∂μ E[cos 2x], x ~ N(μ, σ²)
    assert abs(reference.grad[0] - exact) < 4 * reference.stderr[0]


def test_sde_paths_are_the_same_for_every_chunk_count_and_backend():
    ts = np.linspace(0, 1, 21)
    ou = (lambda t, x: 1.5 * (0.5 - x), lambda t, x: 0.4)
    n_paths = 3 * PATHS_PER_STREAM + 10
    reference = cm.sde.euler_maruyama(*ou, np.array([2.0]), ts, rng=8, n_paths=n_paths)
    assert reference.shape == (21, n_paths, 1)
    for kwargs in ({"chunks": 4}, {"backend": "processes", "chunks": 2}):
        np.testing.assert_array_equal(cm.sde.euler_maruyama(*ou, np.array([2.0]), ts, rng=8, n_paths=n_paths,
                                                            **kwargs), reference)
    milstein = cm.sde.milstein(*ou, np.array([2.0]), ts, rng=8, n_paths=n_paths, chunks=3)
    np.testing.assert_allclose(milstein, reference, rtol=0, atol=0)  # constant noise: Milstein is Euler–Maruyama
    # mean of the Ornstein–Uhlenbeck process: 0.5 + (2 − 0.5) e^{−1.5 t}; spread σ²/(2θ)(1 − e^{−2θt})
    mean_exact = 0.5 + 1.5 * np.exp(-1.5)
    sd_exact = np.sqrt(0.16 / 3 * (1 - np.exp(-3.0)))
    assert abs(reference[-1, :, 0].mean() - mean_exact) < 4 * sd_exact / np.sqrt(n_paths) + 0.01  # + Euler's bias
    assert len({tuple(reference[-1, i * PATHS_PER_STREAM:i * PATHS_PER_STREAM + 3, 0]) for i in range(3)}) == 3


def test_a_path_in_a_later_block_is_named_by_its_number_in_the_ensemble():
    bad = PATHS_PER_STREAM + 7
    drift = lambda t, x: np.where((np.arange(len(x)) == 7)[:, None] & (len(x) == 10) & (t > 0.4), np.nan, -x)
    with pytest.raises(cm.sde.integrators.NonFiniteError, match=f"path {bad} became non-finite"):
        cm.sde.euler_maruyama(drift, lambda t, x: 0.1, np.zeros(1), np.linspace(0, 1, 6), rng=0,
                              n_paths=PATHS_PER_STREAM + 10, chunks=2)


def test_given_increments_run_here_and_bad_chunks_are_refused():
    ts = np.linspace(0, 1, 5)
    dW = cm.sde.brownian_increments(ts, 2, (1,), rng=0)
    with pytest.raises(cm.CalcmlError, match="pass rng= .a seed. instead of dW"):
        cm.sde.euler_maruyama(lambda t, x: -x, lambda t, x: 1.0, np.zeros(1), ts, n_paths=2, dW=dW,
                              backend="processes")
    with pytest.raises(SweepInputError, match="chunks must be a whole number"):
        cm.sde.euler_maruyama(lambda t, x: -x, lambda t, x: 1.0, np.zeros(1), ts, rng=0, chunks=0)
    with pytest.raises(cm.CalcmlError, match="chunks must be an integer"):
        cm.integrate.montecarlo(np.sin, [(0, 1)], n=100, rng=0, chunks=0)
    with pytest.raises(ValueError, match="n must be a whole number"):
        cm.prob.grad_expectation(np.sin, "normal", (0, 1), n=1)
