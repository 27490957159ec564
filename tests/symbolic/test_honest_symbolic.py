"""Never silently wrong: symbolic answers that are right, or refusals that say what, where and what to do.

Each refusal below was once a bare traceback or a quiet wrong answer (nan, a complex number for a real
integrand, oo·x in a Taylor polynomial, 0 for d/dx of "xy", "correct" for exp(log(x)) against x); the
cases that must keep working sit next to them, checked against SymPy or closed forms.
"""

import pytest
import sympy as sp
from typer.testing import CliRunner

import calcml as cm
import calcml.cli.symbolic  # noqa: F401  (registers the commands)
from calcml.cli.app import app
from calcml.symbolic import SymbolicError, derive, integrate, summation, taylor

x = sp.Symbol("x", real=True)
runner = CliRunner()


def refusal(fn, *args, **kwargs) -> str:
    with pytest.raises(SymbolicError) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, cm.CalcmlError)
    return str(info.value)


# ---------------------------------------------------------------------------------------------------------------
# integrals with parameters, divergent and non-real integrals


def test_parameter_integral_states_its_convergence_condition():
    r = integrate("exp(-a*x)", ("x", 0, "oo"))
    a = next(s for s in r.result.free_symbols if s.name == "a")
    assert isinstance(r.result, sp.Piecewise) and r.result.args[0].expr == 1 / a
    assert r.condition == (a > 0)
    assert "a > 0" in r.text()
    for value in (0.5, 3):  # where the condition holds, the value is the true integral
        truth = sp.integrate(sp.exp(-sp.Rational(value) * x), (x, 0, sp.oo))
        assert r.result.args[0].expr.subs(a, sp.Rational(value)) == truth


def test_parameter_integral_with_a_positive_symbol_is_plain():
    a, n = sp.Symbol("a", positive=True), sp.Symbol("n", positive=True)
    assert integrate(sp.exp(-a * x), ("x", 0, "oo")).result == 1 / a
    assert integrate(x**n, ("x", 0, 1)).result == 1 / (n + 1)


def test_power_with_unknown_sign_of_exponent_is_refused():
    message = refusal(integrate, "x^n", ("x", 0, 1))
    assert "sign of n" in message and "positive=True" in message


def test_integral_across_a_pole_is_refused_as_divergent_saying_where():
    message = refusal(integrate, "1/x", ("x", -1, 1))
    assert "diverges" in message and "x = 0" in message


def test_integral_of_a_non_real_integrand_is_refused_saying_where():
    message = refusal(integrate, "sqrt(x)", ("x", -1, 1))
    assert "not real" in message and "[-1, 0)" in message


def test_oscillating_improper_integral_is_refused():
    assert "diverges" in refusal(integrate, "sin(x)", ("x", 0, "oo"))


def test_plain_definite_integrals_still_work():
    assert integrate("exp(-x)", ("x", 0, "oo")).result == 1
    assert integrate("x^2", ("x", 0, 1)).result == sp.Rational(1, 3)
    assert integrate("1/x", ("x", 0, 1)).result == sp.oo          # divergent to +oo: said, not refused
    assert integrate("sqrt(x)", ("x", 0, 1)).result == sp.Rational(2, 3)


def test_cli_parameter_integral_prints_value_and_condition():
    result = runner.invoke(app, ["integrate", "exp(-a*x)", "--wrt", "x", "--from", "0", "--to", "oo"])
    assert result.exit_code == 0, result.output
    assert "= 1/a when a > 0" in result.output and "AttributeError" not in result.output


def test_cli_divergent_integral_is_an_error_not_nan():
    result = runner.invoke(app, ["integrate", "1/x", "--wrt", "x", "--from", "-1", "--to", "1"])
    assert result.exit_code != 0 and "nan" not in result.output and "diverges" in result.output


# ---------------------------------------------------------------------------------------------------------------
# series


def test_harmonic_series_diverges_to_infinity():
    assert summation("1/k", ("k", 1, "oo")).result == sp.oo
    assert summation("-k", ("k", 1, "oo")).result == -sp.oo


def test_basel_series_still_sums():
    assert summation("1/k^2", ("k", 1, "oo")).result == sp.pi**2 / 6


# ---------------------------------------------------------------------------------------------------------------
# Taylor polynomials


def test_taylor_of_abs_at_its_kink_is_refused():
    message = refusal(taylor, "abs(x)", "x", 0, 3)
    assert "f'" in message and "-1" in message and "x0 = 1" in message


@pytest.mark.parametrize("text", ["sqrt(x)", "1/x"])
def test_taylor_where_a_derivative_is_infinite_is_refused(text):
    message = refusal(taylor, text, "x", 0, 3)
    assert "infinite or undefined" in message and "another point" in message


@pytest.mark.parametrize("text, point", [("sin(x)", 0), ("exp(x)", 0), ("abs(x)", 1), ("sin(x)/x", 0)])
def test_taylor_where_smooth_matches_sympy(text, point):
    t = taylor(text, "x", point, 4)
    assert sp.expand(t.polynomial - sp.series(t.expr, x, point, 5).removeO()) == 0


# ---------------------------------------------------------------------------------------------------------------
# derivatives


@pytest.mark.parametrize("order", [0, -1, 101])
def test_derivative_order_outside_1_to_100_is_a_calcml_error(order):
    assert "order must be a whole number from 1 to 100" in refusal(derive, "sin(x)", "x", order=order)


def test_derivatives_of_order_one_and_two():
    assert derive("sin(x)", "x").result == sp.cos(x)
    assert derive("sin(x)", "x", order=2).result == -sp.sin(x)


def test_variable_only_inside_a_longer_name_is_refused():
    message = refusal(derive, "xy", "x")
    assert "one name" in message and "x*y" in message


def test_products_and_true_constants_still_differentiate():
    y = sp.Symbol("y", real=True)
    assert derive("x y", "x").result == y
    assert derive("x*y", "x").result == y
    assert derive("y^2", "x").result == 0  # x does not occur at all: a partial derivative of a constant


# ---------------------------------------------------------------------------------------------------------------
# the exercise checker: the domain of the answer as written counts


@pytest.mark.parametrize("answer, expected", [("exp(log(x))", "x"), ("x", "exp(log(x))"), ("sqrt(x)^2", "x")])
def test_checker_counts_the_domain_as_written(answer, expected):
    result = cm.exercises.check(answer, expected)
    assert result.outcome == "wrong", result.feedback
    assert result.counterexample["x"] < 0 and "not a real number" in result.feedback


def test_checker_domain_as_written_agrees_inside_a_positive_domain():
    assert cm.exercises.check("exp(log(x))", "x", domain={"x": (0.1, 3)}).outcome == "correct"
    assert cm.exercises.check("2*sin(x)*cos(x)", "sin(2x)").outcome == "correct"
