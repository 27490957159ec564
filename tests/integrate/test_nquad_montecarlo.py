"""nquad (iterated, variable limits), Monte Carlo and randomized quasi-Monte Carlo against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

import calcml as cm
from calcml.integrate import montecarlo, nquad, qmc


def test_xy_over_the_triangle_below_the_diagonal_is_one_eighth():
    result = nquad(lambda x, y: x * y, [(0, 1), (0, lambda x: x)])
    assert abs(float(result) - 1 / 8) <= 1e-12 and abs(float(result) - 1 / 8) <= result.error


@pytest.mark.parametrize("rho", [0.6, -0.3])
def test_correlated_gaussian_normaliser(rho):
    q = lambda x, y: np.exp(-(x * x - 2 * rho * x * y + y * y) / (2 * (1 - rho * rho)))
    result = nquad(q, [(-np.inf, np.inf), (-np.inf, np.inf)])
    exact = 2 * math.pi * math.sqrt(1 - rho * rho)
    assert abs(float(result) - exact) <= 1e-10 * exact


def test_triple_integral_over_the_simplex():
    # ∫∫∫_{x+y+z ≤ 1} x y z = 1/720
    result = nquad(lambda x, y, z: x * y * z, [(0, 1), (0, lambda x: 1 - x), (0, lambda x, y: 1 - x - y)],
                   rtol=1e-9)
    assert float(result) == pytest.approx(1 / 720, rel=1e-9)


def test_gradient_through_nquad():
    # ∫∫ e^{−s(x²+y²)} = π/s  ⇒  d/ds = −π/s²
    f = lambda s: nquad(lambda x, y: np.exp(-s * (x * x + y * y)), [(-np.inf, np.inf)] * 2, rtol=1e-8).value
    assert cm.grad(f)(2.0) == pytest.approx(-math.pi / 4, rel=1e-7)


GAUSS3 = (lambda x, y, z: np.exp(-(x * x + y * y + z * z)), [(0, 1)] * 3, (math.sqrt(math.pi) / 2 * math.erf(1)) ** 3)


def test_montecarlo_within_four_standard_errors_and_error_falls_like_root_n():
    f, box, exact = GAUSS3
    small = montecarlo(f, box, n=4_000, rng=1)
    large = montecarlo(f, box, n=64_000, rng=2)
    for r in (small, large):
        assert abs(r.value - exact) < 4 * r.stderr
    assert large.stderr == pytest.approx(small.stderr / 4, rel=0.1)  # 16× the points, ¼ the error


@pytest.mark.parametrize("method", ["sobol", "halton"])
def test_qmc_within_four_standard_errors_and_far_below_montecarlo(method):
    f, box, exact = GAUSS3
    r = qmc(f, box, n=2 ** 13, method=method, rng=0)
    assert abs(r.value - exact) < 4 * r.stderr + 1e-12
    assert r.stderr < montecarlo(f, box, n=2 ** 13, rng=0).stderr / 20


def test_montecarlo_rejects_an_infinite_box():
    with pytest.raises(ValueError, match="finite box"):
        montecarlo(lambda x: x, [(0, np.inf)], n=10)


@pytest.mark.parametrize("f", [lambda x: x[0] ** 2, lambda x: np.sum(x), lambda x: np.max(x)])
def test_montecarlo_refuses_an_f_written_for_one_point(f):
    # such an f returns one number for all the points, which was broadcast: ∫₀¹ x² came back as x₀² ± 0
    with pytest.raises(ValueError, match="one value per point"):
        montecarlo(f, [(0, 1)], n=1000, rng=0)
    with pytest.raises(ValueError, match="one value per point"):
        qmc(f, [(0, 1)])


@pytest.mark.parametrize("constant", [2.0, np.nan])
def test_montecarlo_of_a_constant_f_is_the_box_volume_times_it(constant):
    result = montecarlo(lambda x, y: constant, [(0, 2), (0, 3)], n=100, rng=0)
    np.testing.assert_equal(float(result), 6 * constant)
