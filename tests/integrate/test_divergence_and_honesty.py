"""quad, nquad and montecarlo never return a confident wrong number: a divergent integral is ±inf/NaN with
converged=False and a warning (or refused), a missed peak is found, a complex f is refused, an error report
never contradicts itself; and the integrals that converge, however slowly, are not flagged."""

import math
import warnings

import numpy as np
import pytest
from scipy.special import sici
from typer.testing import CliRunner

import calcml as cm
import calcml.cli.symbolic  # noqa: F401  (registers the commands)
from calcml.cli.app import app
from calcml.integrate import IntegrandError, IntegrationWarning, montecarlo, nquad, quad


def run(fn, *args, **kwargs):
    """fn's result and the messages of the IntegrationWarnings it gave."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, IntegrationWarning)]


def assert_divergent(result, messages, sign):
    """The truth is ±∞: the value says so, and the result is flagged, with a warning that says where."""
    assert result.converged is False and result.error == math.inf, result
    if sign == 0:  # ∞ − ∞
        assert math.isnan(float(result)), result
    else:
        assert float(result) == sign * math.inf, result
    assert any("diverges" in m for m in messages), messages


@pytest.mark.parametrize("f, a, b", [
    (lambda x: 1 / x ** 2, 0, 1),            # was −1 ± 6.9e-13, converged
    (lambda x: x ** -1.5, 0, 1),             # was −2.0 ± 2.2e-13, converged
    (lambda x: x ** -0.5, 1, np.inf),        # was −2.0, converged
    (lambda x: 1 / x, 0, 1),                 # log divergence: was 24.3 ± 1.4, unconverged
    (lambda x: 1 / x, 1, np.inf),
    (lambda x: x * x / (np.pi * (1 + x * x)), -np.inf, np.inf),  # E[X²] of a Cauchy variable
], ids=["1/x² on [0,1]", "x^-1.5 on [0,1]", "x^-0.5 on [1,∞)", "1/x on [0,1]", "1/x on [1,∞)", "Cauchy E[X²]"])
def test_a_positive_divergent_integral_is_plus_infinity_and_flagged(f, a, b):
    assert_divergent(*run(quad, f, a, b), sign=1)


def test_reversed_limits_give_minus_infinity():
    assert_divergent(*run(quad, lambda x: x ** -1.5, 1, 0), sign=-1)


@pytest.mark.parametrize("f", [lambda x: x / (1 + x ** 2), lambda x: x / (np.pi * (1 + x * x))],
                         ids=["x/(1+x²)", "Cauchy E[X]"])
def test_an_odd_function_divergent_at_both_ends_does_not_cancel_to_zero(f):
    assert_divergent(*run(quad, f, -np.inf, np.inf), sign=0)  # was −6e-14, converged


def test_a_gaussian_on_a_huge_finite_range_is_found():
    result, messages = run(quad, lambda x: np.exp(-x ** 2), -1e6, 1e6)  # was 0 ± 0, converged
    assert abs(float(result) - math.sqrt(math.pi)) < 1e-9 and result.converged and not messages


def test_a_narrow_spike_is_found():
    for width in (1e-2, 1e-3):
        result, messages = run(quad, lambda x: np.exp(-((x - 37.3) / width) ** 2), 0, 100)
        assert abs(float(result) - math.sqrt(math.pi) * width) < 1e-10 * width and not messages


def test_a_complex_integrand_is_refused_not_cut_to_its_real_part():
    with pytest.raises(IntegrandError, match="complex"):
        quad(lambda x: np.exp(1j * x), 0, 1)  # was 0.8415 = sin 1, the real part only


def test_nquad_on_the_plane_reports_an_error_within_its_tolerance():
    result, messages = run(nquad, lambda x, y: np.exp(-x ** 2 - y ** 2), [(-np.inf, np.inf)] * 2)
    assert abs(float(result) - math.pi) < 1e-9 and not messages
    assert result.converged and result.error <= 1e-10 * math.pi  # was error=1.55 with converged=True


def test_montecarlo_of_an_infinite_integral_is_flagged():
    result, messages = run(montecarlo, lambda u: 1 / u, [(0, 1)], n=20000, rng=0)  # was 14.0 ± 4.6, silent
    assert result.converged is False and any("variance" in m for m in messages)


@pytest.mark.parametrize("f, domain", [
    (lambda x, y: x * y, [(0, 1), (0, 1)]),
    (np.exp, [(0, 1)]),
    (np.log, [(0, 1)]),                                      # singular but square-integrable
    (lambda u: u ** (-1 / 3), [(0, 1)]),                     # tail index 3: finite variance
    (lambda x, y: np.exp(-x * x - y * y), [(0, 1), (0, 1)]),
    (lambda x: np.exp(-((x - 0.5) / 0.01) ** 2), [(-3, 3)]),  # a sharp bump: mostly 0, bounded
    (lambda x, y: (x * x + y * y < 1) * 1.0, [(0, 1), (0, 1)]),
], ids=["xy", "exp", "log", "u^-1/3", "gaussian", "bump", "indicator"])
def test_montecarlo_does_not_flag_ordinary_integrands(f, domain):
    for seed in range(3):
        result, messages = run(montecarlo, f, domain, n=20000, rng=seed)
        assert result.converged and not messages, (seed, result, messages)


def test_the_cli_refuses_a_divergent_numeric_integral():
    out = CliRunner().invoke(app, ["integrate", "1/x^2", "--from", "0", "--to", "1", "--numeric"])
    assert out.exit_code == 1 and "diverges" in out.output and "≈" not in out.output


def test_normalize_of_a_divergent_power_is_not_a_negative_constant():
    try:
        result, messages = run(cm.prob.normalize, lambda x: x ** -1.5, (0, 1))
    except cm.CalcmlError:
        return
    assert messages and not float(result[1]) < 0  # was Z = −2.0, silent


@pytest.mark.parametrize("f, a, b, exact", [
    (lambda x: 1 / np.sqrt(x), 0, 1, 2.0),
    (np.log, 0, 1, -1.0),
    (lambda x: np.exp(-x), 0, np.inf, 1.0),
    (lambda x: np.sinc(x / np.pi), 0, 50, sici(50.0)[0]),             # sin(x)/x
    (lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi), -np.inf, np.inf, 1.0),
    (lambda x: x ** -0.999, 0, 1, 1000.0),                            # increments shrink by 0.9993 per halving
    (lambda x: x ** -0.999 * np.log(x), 0, 1, -1e6),                  # (a + b·k)·0.9993ᵏ: ratios above 1
    (lambda x: x ** -1.5, 1, np.inf, 2.0),
    (lambda x: x ** -0.5 * (1 - x) ** -0.5, 0, 1, math.pi),
    (lambda x: x * np.exp(-x * x), -np.inf, np.inf, 0.0),             # odd, convergent: still 0
], ids=["1/√x", "log x", "e^-x on [0,∞)", "sin x/x on [0,50]", "Gaussian on ℝ", "x^-0.999",
        "x^-0.999 log x", "x^-1.5 on [1,∞)", "Beta(½,½)", "x e^-x² on ℝ"])
def test_convergent_integrals_are_not_flagged(f, a, b, exact):
    result, messages = run(quad, f, a, b)
    assert result.converged and not messages, (result, messages)
    assert abs(float(result) - exact) <= max(1e-9 * abs(exact), 1e-12), result
    assert abs(float(result) - exact) <= max(10 * result.error, 1e-15), result
