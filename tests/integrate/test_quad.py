"""quad: known integrals to 1e-10 with honest error estimates, infinite ranges, endpoint singularities,
warnings, and derivatives (Leibniz rule for the limits, traced parameters of the integrand)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import calcml as cm
from calcml.integrate import IntegrandError, IntegrationWarning, gauss_kronrod, quad
from calcml.integrate.problems import SUITE, standard_normal_pdf
from tests.autodiff.checks import (
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_second_derivatives,
)

phi = standard_normal_pdf


@pytest.mark.parametrize("name", SUITE)
def test_known_integral_to_1e_10_with_an_honest_error_estimate(name):
    f, a, b, exact = SUITE[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntegrationWarning)
        with np.errstate(divide="ignore"):
            result = quad(f, a, b, rtol=1e-10)
    true_error = abs(float(result) - exact)
    assert true_error <= 1e-10 * abs(exact), (result, true_error)
    assert true_error <= result.error, f"error estimate {result.error:.2e} < true error {true_error:.2e}"
    assert result.converged and result.evals > 0


def test_error_estimate_is_honest_at_loose_tolerances_too():
    for name, (f, a, b, exact) in SUITE.items():
        for rtol in (1e-4, 1e-7):
            with np.errstate(divide="ignore"):
                result = quad(f, a, b, rtol=rtol)
            assert abs(float(result) - exact) <= max(result.error, 1e-15), (name, rtol, result)


def test_does_not_stop_when_every_first_sample_is_zero():
    # a bump between the first two Kronrod nodes of [0, 1]: the first 21 samples are all exactly zero
    nodes = (gauss_kronrod(10).nodes + 1) / 2
    lo, hi = nodes[0] + 1e-4, nodes[1] - 1e-4
    bump = lambda x: np.where((x > lo) & (x < hi), (x - lo) * (hi - x), 0.0)
    assert np.all(bump(nodes) == 0)
    exact = (hi - lo) ** 3 / 6  # ≈ 2e-7
    result = quad(bump, 0, 1, rtol=1e-8, atol=0.0)  # a purely relative tolerance on a tiny integral
    assert abs(float(result) - exact) <= 1e-8 * exact
    default = quad(bump, 0, 1, rtol=1e-8)  # the default atol = 1e-12 bounds the absolute error instead
    assert abs(float(default) - exact) <= 1e-12 and default.evals > 21


def test_does_not_stop_when_a_peak_hides_between_the_first_nodes():
    # found by the exercises' checks: on [-60, 60] the first 21 nodes see only the far tails (~1e-20) of a
    # peak of width ~1 at -1/2, and the integrand is 0 at the middle node, so Gauss and Kronrod both give
    # ~0 with an error "estimate" of 1e-20 — no significant digit, which must not count as converged
    f = lambda m: m * np.exp(-(m + 0.5) ** 2 / 1.4)
    exact = -0.5 * np.sqrt(1.4 * np.pi)  # ∫ m e^{-(m+½)²/1.4} dm = −½ · √(1.4 π) (the tails beyond ±60 are 0)
    for rtol in (1e-6, 1e-12):
        result = quad(f, -60, 60, rtol=rtol)
        assert abs(float(result) - exact) <= max(result.error, 1e-14), (rtol, result)
        assert abs(float(result) - exact) <= 10 * rtol * abs(exact)


def test_a_zero_integrand_is_zero_after_sixteen_panels():
    result = quad(lambda x: 0.0 * x, 0, 1)
    assert float(result) == 0.0 and result.intervals >= 16 and result.converged


def test_kronrod_rule_exact_to_degree_3n_plus_1_and_matches_quadpack_tables():
    for n in (7, 10):
        rule = gauss_kronrod(n)
        moment = lambda d: 2 / (d + 1) if d % 2 == 0 else 0.0
        for d in range(3 * n + 2):
            assert abs(rule.kronrod_weights @ rule.nodes ** d - moment(d)) < 1e-14, (n, d)
        d = 3 * n + 2 + (3 * n) % 2  # the first even degree above 3n + 1
        assert abs(rule.kronrod_weights @ rule.nodes ** d - moment(d)) > 1e-13
        xg, wg = np.polynomial.legendre.leggauss(n)
        np.testing.assert_allclose(np.sort(rule.nodes[rule.gauss_weights > 0]), xg, atol=1e-15)
        np.testing.assert_allclose(rule.gauss_weights[rule.gauss_weights > 0], wg, atol=1e-15)
    # QUADPACK qk15/qk21 (Piessens et al. 1983): outermost node and centre weight
    assert abs(gauss_kronrod(7).nodes[-1] - 0.991455371120812639206854697526329) < 1e-15
    assert abs(gauss_kronrod(7).kronrod_weights[7] - 0.209482141084727828012999174891714) < 1e-15
    assert abs(gauss_kronrod(10).nodes[-1] - 0.995657163025808080735527280689003) < 1e-15
    assert abs(gauss_kronrod(10).kronrod_weights[10] - 0.149445554002916905664936468389821) < 1e-15


def test_reversed_limits_and_empty_range():
    assert float(quad(np.exp, 1, 0)) == pytest.approx(-(math.e - 1), rel=1e-14)
    assert float(quad(np.exp, 2, 2)) == 0.0


def test_scalar_only_integrand_is_looped_over():
    result = quad(lambda x: math.exp(x) if x > 0.5 else 0.0, 0, 1, rtol=1e-8)
    assert abs(float(result) - (math.e - math.exp(0.5))) < 1e-8


def test_warns_when_the_tolerance_is_not_reached():
    with pytest.warns(IntegrationWarning, match="did not reach the tolerance"):
        result = quad(lambda x: np.abs(x - 0.3) ** -0.9, 0, 1, limit=20)
    assert not result.converged and "converged=False" in repr(result)


def test_interior_nan_is_a_clear_error():
    with pytest.raises(IntegrandError, match="not finite inside the range"):
        with np.errstate(invalid="ignore"):
            quad(lambda x: np.sqrt(x - 0.5) * 0 + np.where(x > 0.5, np.nan, 1.0), 0, 1)


def test_wrong_output_shape_is_a_clear_error():
    with pytest.raises(IntegrandError, match="same shape"):
        quad(lambda x: np.stack([x, x]), 0, 1)


def test_result_object_prints_and_converts():
    result = quad(np.exp, 0, 1)
    assert float(result) == pytest.approx(math.e - 1, rel=1e-15)
    assert "evals=" in repr(result) and "<table>" in result._repr_html_()


# ---- derivatives ------------------------------------------------------------------------------------
def test_leibniz_rule_for_the_upper_and_lower_limit():
    assert cm.grad(lambda b: quad(np.sin, 0, b).value)(1.0) == pytest.approx(math.sin(1.0), rel=1e-14)
    assert cm.grad(lambda a: quad(np.sin, a, 2.0).value)(1.0) == pytest.approx(-math.sin(1.0), rel=1e-14)
    assert cm.grad(lambda x: quad(phi, -np.inf, x).value)(1.96) == pytest.approx(phi(1.96), rel=1e-14)


def test_limit_gradients_match_finite_differences_and_forward_mode():
    f = lambda p: quad(lambda x: np.exp(-x * x) * np.cos(3 * x), p[0], p[1]).value
    p = np.array([-0.4, 1.3])
    assert_grad_matches_finite_differences(f, p)
    assert_jvp_agrees_with_vjp(lambda p: f(p) * np.ones(1), p)
    assert_second_derivatives(f, p)


def test_second_derivative_in_the_limit_is_f_prime():
    d2 = cm.grad(cm.grad(lambda b: quad(np.sin, 0, b).value))(0.7)
    assert d2 == pytest.approx(math.cos(0.7), rel=1e-12)


def test_parameter_gradient_matches_the_closed_form():
    # ∫ e^{−s x²} dx = √(π/s)  ⇒  d/ds = −½ √π s^{−3/2}
    g = cm.grad(lambda s: quad(lambda x: np.exp(-s * x * x), -np.inf, np.inf).value)(2.0)
    assert g == pytest.approx(-0.5 * math.sqrt(math.pi) * 2.0 ** -1.5, rel=1e-9)


def test_parameter_gradient_through_the_extrapolated_singular_integral():
    # ∫₀¹ x^s dx = 1/(s+1)  ⇒  d/ds = −1/(s+1)², with x^s singular at 0 for s < 0
    g = cm.grad(lambda s: quad(lambda x: x ** s, 0, 1).value)(-0.5)
    assert g == pytest.approx(-4.0, rel=1e-8)


def test_joint_parameter_and_limit_gradient_matches_finite_differences():
    f = lambda p: quad(lambda x: np.exp(-p[0] * x) * np.sin(x), 0, p[1]).value
    assert_grad_matches_finite_differences(f, np.array([0.7, 2.5]))
    # ∂/∂b = e^{−ab} sin b; ∂/∂a = −∫₀ᵇ x e^{−ax} sin x dx
    g = cm.grad(f)(np.array([0.7, 2.5]))
    assert g[1] == pytest.approx(math.exp(-0.7 * 2.5) * math.sin(2.5), rel=1e-12)
    assert g[0] == pytest.approx(-float(quad(lambda x: x * np.exp(-0.7 * x) * np.sin(x), 0, 2.5)), rel=1e-9)


def test_primitive_integral_with_limits_rules():
    from calcml.integrate import integral_with_limits

    f = lambda v: integral_with_limits(v[0], v[1], v[2], 0.5, 2.0)  # value, a, b; f(a)=0.5, f(b)=2
    g = cm.grad(f)(np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(g, [1.0, -0.5, 2.0])
    assert_jvp_agrees_with_vjp(lambda v: f(v) * np.ones(1), np.array([1.0, 0.0, 1.0]))
