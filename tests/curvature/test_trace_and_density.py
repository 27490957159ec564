import numpy as np
import pytest

from calcml.curvature import hessian_trace, spectral_density
from tests.curvature.small_network import problem


def test_hutchinson_is_within_3_standard_errors_of_the_exact_trace():
    loss, params, dense, _ = problem()
    r = hessian_trace(loss, params, samples=200, seed=3)
    exact = np.trace(dense)
    assert r.hvps == 200 and r.stderr > 0
    assert abs(r.value - exact) < 3 * r.stderr
    # its stderr is honest: the exact standard deviation of one Rademacher sample is √(2 Σ_{i≠j} H_ij²)
    off = dense - np.diag(np.diag(dense))
    assert r.stderr == pytest.approx(np.sqrt(2 * np.sum(off ** 2) / 200), rel=0.25)


def test_hutchinson_is_exact_for_a_diagonal_hessian():
    r = hessian_trace(lambda w: np.sum(np.arange(1.0, 6.0) * w ** 2) / 2, np.zeros(5), samples=4)
    assert r.value == 15.0 and r.stderr == 0.0


def test_slq_density_integrates_to_one_and_its_moments_match_the_exact_spectrum():
    loss, params, dense, exact = problem()
    n = len(exact)
    d = spectral_density(loss, params, num_probes=30, lanczos_steps=30, grid=4000, seed=0)
    assert d.hvps == 30 * 30
    assert np.trapezoid(d.density, d.grid) == pytest.approx(1.0, abs=1e-6)
    assert d.weights.sum() == pytest.approx(1.0)
    # every probe's quadrature is exact for vᵀHv and vᵀH²v, so the moments are Hutchinson estimates of
    # tr(H)/n and tr(H²)/n, whose standard deviation over 30 probes is √(2 Σ_{i≠j} M_ij²) / (n √30)
    def three_sigma(M):
        off = M - np.diag(np.diag(M))
        return 3 * np.sqrt(2 * np.sum(off ** 2)) / (n * np.sqrt(30))

    mean = np.trapezoid(d.grid * d.density, d.grid)
    second = np.trapezoid(d.grid ** 2 * d.density, d.grid)
    assert mean == pytest.approx(d.moment(1), rel=1e-6)                    # smoothing keeps the mean
    assert second == pytest.approx(d.moment(2) + d.sigma ** 2, rel=1e-6)   # and adds σ² to the second moment
    assert abs(d.moment(1) - exact.mean()) < three_sigma(dense)
    assert abs(d.moment(2) - np.mean(exact ** 2)) < three_sigma(dense @ dense)
    # the extreme Ritz values are the extreme eigenvalues (Lanczos finds the ends of the spectrum first)
    assert d.nodes.max() == pytest.approx(exact[-1], rel=1e-6)
    assert d.nodes.min() == pytest.approx(exact[0], rel=1e-3)


def test_slq_with_a_full_krylov_space_puts_weight_one_over_n_on_each_eigenvalue_on_average():
    values = np.array([1.0, 2.0, 5.0, 9.0])
    loss = lambda w: np.sum(values * w ** 2) / 2
    d = spectral_density(loss, np.zeros(4), num_probes=3, lanczos_steps=10, sigma=0.1, grid=np.linspace(0, 10, 2001))
    # Rademacher probes normalized: every weight (vᵢ/‖v‖)² is exactly 1/4 for a diagonal Hessian
    for value in values:
        assert d.weights[np.isclose(d.nodes, value)].sum() == pytest.approx(0.25)
    peak = d.density[np.argmin(abs(d.grid - 5.0))]
    assert peak == pytest.approx(0.25 / (0.1 * np.sqrt(2 * np.pi)), rel=1e-6)


def test_slq_density_matches_the_exact_spectrum_smoothed_by_the_same_gaussian():
    """The exact density (1/n) Σ_i N(t; λ_i, σ²) from eigvalsh, against SLQ with 30 probes × 30 steps: their L1
    distance (at most 2 for two densities) is a Hutchinson error over 30 probes, a few per cent at most."""
    loss, params, _, exact = problem()
    sigma = 0.05 * (exact[-1] - exact[0])
    grid = np.linspace(exact[0] - 5 * sigma, exact[-1] + 5 * sigma, 2000)
    d = spectral_density(loss, params, num_probes=30, lanczos_steps=30, grid=grid, sigma=sigma, seed=0)
    reference = np.exp(-0.5 * ((grid[:, None] - exact[None]) / sigma) ** 2).mean(axis=1) / (sigma * np.sqrt(2 * np.pi))
    assert np.trapezoid(np.abs(d.density - reference), grid) < 0.05
    assert np.max(np.abs(d.density - reference)) < 0.05 * reference.max()
