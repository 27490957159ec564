"""quad and its relatives refuse unusable arguments before calling f, and an integral whose value is 0
stops in a few dozen evaluations thanks to the default absolute tolerance (it used to run to the limit:
83,979 evaluations and an IntegrationWarning)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import calcml as cm
from calcml.integrate import DEFAULT_ATOL, IntegrationInputError, nquad, quad, quad_expression

phi = lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


def never_called(x):
    raise AssertionError("f must not be called for refused input")


@pytest.mark.parametrize("rtol, atol, match", [
    (np.nan, 1e-12, "rtol must be a finite number ≥ 0"), (-1.0, 1e-12, "rtol must be"),
    (np.inf, 1e-12, "rtol must be"), ("tight", 1e-12, "rtol must be"),
    (1e-10, np.nan, "atol must be"), (1e-10, -1e-12, "atol must be"), (0.0, 0.0, "both 0"),
])
def test_bad_tolerances_are_refused(rtol, atol, match):
    with pytest.raises(IntegrationInputError, match=match) as caught:
        quad(never_called, 0, 1, rtol=rtol, atol=atol)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, cm.CalcmlError)
    with pytest.raises(IntegrationInputError, match=match):
        nquad(never_called, [(0, 1), (0, 1)], rtol=rtol, atol=atol)


def test_the_issue_cases_no_longer_return_a_number():
    """quad(np.exp, 0, 1, rtol=nan) and rtol=-1 used to return 0.6487."""
    for rtol in (np.nan, -1):
        with pytest.raises(IntegrationInputError):
            quad(np.exp, 0, 1, rtol=rtol)


@pytest.mark.parametrize("a, b", [(np.nan, 1.0), (0.0, np.nan), (np.nan, np.inf)])
def test_nan_limits_are_refused_infinite_ones_are_not(a, b):
    with pytest.raises(IntegrationInputError, match="is NaN"):
        quad(never_called, a, b)
    with pytest.raises(IntegrationInputError, match="is NaN"):
        quad(never_called, cm.Tensor(np.array(a)), b)
    assert abs(float(quad(phi, -np.inf, np.inf)) - 1.0) < 1e-12


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_bad_limit_and_panels_are_refused(limit):
    with pytest.raises(IntegrationInputError, match="limit must be an integer"):
        quad(never_called, 0, 1, limit=limit)
    with pytest.raises(IntegrationInputError, match="panels must be an integer"):
        quad(never_called, 0, 1, panels=limit)


ZERO_INTEGRALS = {
    "x e^{−x²} over ℝ": (lambda x: x * np.exp(-x * x), -np.inf, np.inf),
    "x φ(x) over ℝ": (lambda x: x * phi(x), -np.inf, np.inf),
    "sin x on [0, 2π]": (np.sin, 0, 2 * np.pi),
    "x² e^{−x} − 2x e^{−x} on [0, ∞)": (lambda x: (x * x - 2 * x) * np.exp(-x), 0, np.inf),  # 2! − 2·1! = 0
    "x² − 1 on [−1, 2]": (lambda x: x * x - 1, -1, 2),  # not symmetric: [x³/3 − x] = 2/3 − 2/3
}


@pytest.mark.parametrize("name", ZERO_INTEGRALS)
def test_integrals_whose_value_is_zero_converge_quickly(name):
    f, a, b = ZERO_INTEGRALS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no IntegrationWarning
        result = quad(f, a, b)
    assert result.converged and result.evals <= 300, result  # 21–231 measured; 83,979 before
    assert abs(float(result)) <= DEFAULT_ATOL and result.error <= DEFAULT_ATOL


def test_without_an_absolute_tolerance_a_zero_integral_still_runs_to_the_limit_and_says_why():
    """atol=0 restores the purely relative test: it cannot be met at I = 0, and the warning says so."""
    with pytest.warns(cm.integrate.IntegrationWarning, match="about 0.*atol="):
        result = quad(lambda x: x * np.exp(-x * x), -np.inf, np.inf, atol=0.0, limit=100)
    assert not result.converged


def test_expectation_of_a_symmetric_density_is_zero_in_a_few_vectorized_calls():
    """A zero integral does not make quad refine without end; the density checks (the sign on a 4,000-point
    grid, ∫p = 1, the tails of |x|·p) are a fixed budget of a few vectorized calls."""
    calls = []

    def pdf(x):
        calls.append(np.size(x))
        return phi(x)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean = cm.prob.expectation(lambda x: x, pdf)
    assert abs(float(mean)) <= DEFAULT_ATOL and len(calls) <= 20 and sum(calls) <= 6000
    assert abs(float(cm.prob.variance(phi)) - 1.0) < 1e-10


def test_nquad_of_an_odd_function_is_zero_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = nquad(lambda x, y: x * y, [(-1, 1), (0, 1)])
    assert abs(float(result)) < 1e-12


def test_tiny_positive_integrals_keep_their_relative_accuracy():
    """The default atol is small: a normal tail probability of 1e-12 is still right to 1e-10 relative."""
    from scipy.stats import norm

    for x in (-5.0, -7.0, -8.0):
        assert abs(float(quad(phi, -np.inf, x)) / norm.cdf(x) - 1) < 1e-10


def test_variance_differentiates_through_its_plain_centre():
    """prob.variance reads the mean's value for the centre of its second pass (no float() of a Tensor)."""
    g = cm.grad(lambda s: cm.prob.variance(lambda x: np.exp(-x * x / (2 * s * s)) / (s * np.sqrt(2 * np.pi))))(1.5)
    assert abs(float(g) - 3.0) < 1e-7  # d/ds s² = 2s


def test_montecarlo_refuses_too_few_points_and_differentiates():
    with pytest.raises(IntegrationInputError, match="n must be an integer ≥ 2"):
        cm.integrate.montecarlo(lambda x: x, [(0, 1)], n=1)
    with pytest.raises(IntegrationInputError, match="finite box"):
        cm.integrate.montecarlo(lambda x: x, [(0, np.nan)])
    g = cm.grad(lambda w: cm.integrate.montecarlo(lambda x: w * x, [(0, 1)], n=1000, rng=0).value)(2.0)
    assert abs(float(g) - 0.5) < 0.05


@pytest.mark.parametrize("expr, lower, upper, match", [
    ("x*log(0)", "0", "1", "undefined as written"),
    ("x*cot(0)", "0", "1", "undefined as written"),
    ("x", "nan", "1", "--from nan is not a number"),
    ("x", "0", "zoo", "--to zoo is not a number"),
    ("x", "1+I", "2", "not a number"),
    ("x", "0", "10^1000", "too large for a float"),
])
def test_quad_expression_refuses_what_it_cannot_evaluate(expr, lower, upper, match):
    with pytest.raises(IntegrationInputError, match=match):
        quad_expression(expr, "x", lower, upper)
