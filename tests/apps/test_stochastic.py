"""Itô vs Stratonovich against closed forms, and Langevin dynamics against the Boltzmann density."""

import numpy as np
import pytest

from calcml.apps.stochastic import (
    geometric_brownian_motion,
    integrals_of_w_dw,
    ito_drift_of_stratonovich,
    langevin_descent,
)
from calcml.integrate import quad


def within(samples, expected, n_se=4.0):
    standard_error = samples.std(ddof=1) / np.sqrt(len(samples))
    return abs(samples.mean() - expected) < n_se * standard_error


@pytest.mark.parametrize("T", [1.0, 2.5])
def test_ito_and_stratonovich_integrals_differ_by_half_the_time(T):
    n_steps = 500
    result = integrals_of_w_dw(T, n_steps, 10_000, rng=0)
    assert within(result.difference, T / 2)
    assert within(result.ito, 0.0)  # an Itô integral is a martingale: mean 0
    assert within(result.stratonovich, T / 2)
    # ½ Σ ΔW² has variance ½ Σ Δt² = T²/(2N): the quadratic variation is nearly deterministic
    assert result.difference.std() == pytest.approx(T / np.sqrt(2 * n_steps), rel=0.05)


def test_stratonovich_sum_telescopes_and_ito_sum_converges_to_its_closed_form():
    errors = []
    for n_steps in (100, 10_000):
        result = integrals_of_w_dw(1.0, n_steps, 2_000, rng=1)
        np.testing.assert_allclose(result.stratonovich, result.w_end**2 / 2, atol=1e-12)
        errors.append(np.mean(np.abs(result.ito - (result.w_end**2 - 1.0) / 2)))
    assert errors[1] < errors[0] / 5  # error ~ 1/√N: 100× more steps, 10× smaller


def test_geometric_brownian_motion_ito_and_stratonovich_means():
    sigma, x0, T = 0.5, 1.0, 1.0
    ends = geometric_brownian_motion(sigma, x0, T, n_steps=200, n_paths=20_000, rng=2)
    assert within(ends.ito_euler_maruyama, x0)
    assert within(ends.stratonovich_heun, x0 * np.exp(sigma**2 * T / 2))
    assert within(ends.stratonovich_via_ito_drift, x0 * np.exp(sigma**2 * T / 2))
    gap = ends.stratonovich_heun.mean() - ends.ito_euler_maruyama.mean()
    assert gap > 20 * ends.stratonovich_heun.std() / np.sqrt(20_000)  # the two readings really differ
    # pathwise (strong) agreement with the closed forms on the same Brownian paths
    assert np.mean(np.abs(ends.stratonovich_heun - ends.stratonovich_exact)) < 2e-3
    assert np.mean(np.abs(ends.ito_euler_maruyama - ends.ito_exact)) < 2e-2
    assert np.mean(np.abs(ends.stratonovich_via_ito_drift - ends.stratonovich_exact)) < 2e-2


def test_ito_drift_correction_from_forward_mode():
    x = np.linspace(-2, 2, 7)
    corrected = ito_drift_of_stratonovich(lambda t, x: 0.0 * x, lambda t, x: 0.3 * x)
    np.testing.assert_allclose(corrected(0.0, x), 0.5 * 0.09 * x, atol=1e-15)
    corrected = ito_drift_of_stratonovich(lambda t, x: -x, lambda t, x: np.sin(x))
    np.testing.assert_allclose(corrected(0.0, x), -x + 0.5 * np.sin(x) * np.cos(x), atol=1e-15)


def double_well(x):
    return np.sum((x**2 - 1) ** 2, axis=-1)


def test_langevin_samples_the_boltzmann_density_of_a_double_well():
    T = 0.5
    samples = langevin_descent(double_well, np.zeros((400, 1)), lr=0.01, temperature=T, n_steps=1500, rng=3,
                               burn_in=500)
    assert samples.shape == (1500, 400, 1)
    z = quad(lambda x: np.exp(-((x**2 - 1) ** 2) / T), -4, 4).value
    second_moment = quad(lambda x: x**2 * np.exp(-((x**2 - 1) ** 2) / T), -4, 4).value / z
    assert np.mean(samples**2) == pytest.approx(second_moment, abs=0.02)
    assert abs(np.mean(samples > 0) - 0.5) < 0.05  # both wells visited equally


def test_langevin_at_vanishing_temperature_is_gradient_descent():
    lr, x = 0.05, np.array([0.3, -2.0])
    samples = langevin_descent(lambda x: np.sum((x**2 - 1) ** 2), x, lr=lr, temperature=1e-14, n_steps=50, rng=4)
    for k in range(50):
        x = x - lr * 4 * x * (x**2 - 1)
        np.testing.assert_allclose(samples[k], x, atol=1e-5)
    np.testing.assert_allclose(samples[-1], [1.0, -1.0], atol=1e-4)


def test_langevin_rejects_non_positive_temperature():
    with pytest.raises(ValueError, match="temperature must be > 0"):
        langevin_descent(double_well, np.zeros((2, 1)), lr=0.1, temperature=0.0, n_steps=3)
