"""``calcml derive`` and ``integrate`` through typer's test runner (``exercise``: test_exercises_cli.py)."""

import json
import time

import pytest
from typer.testing import CliRunner

import calcml.cli.symbolic  # noqa: F401  (registers the commands)
from calcml.cli.app import app

runner = CliRunner()


def test_derive_prints_the_result():
    result = runner.invoke(app, ["derive", "sin(x^2)", "--wrt", "x"])
    assert result.exit_code == 0
    assert "d/dx [sin(x**2)] = 2*x*cos(x**2)" in result.output


def test_derive_with_steps_shows_readable_rule_names_not_internal_ids():
    result = runner.invoke(app, ["derive", "sigmoid(w*x + b)", "--wrt", "x", "--steps"])
    assert result.exit_code == 0
    assert "chain rule:" in result.output and "derivative of the sigmoid:" in result.output
    assert "diff.chain" not in result.output and "ml.sigmoid" not in result.output


def test_steps_are_never_wrapped_inside_an_expression():
    from calcml.symbolic import derive

    expr = "sin(x^2)*exp(tanh(x**3 + 2*x))/(1 + x**2)"
    result = runner.invoke(app, ["derive", expr, "--steps"])  # the runner's console is 80 columns wide
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) > 120  # long claims run on instead of being broken
    for step in derive(expr, "x").flat:
        assert any(f"{step.title}: {step.statement()}" in line for line in lines), step.statement()


def test_derive_latex_is_the_whole_equation_on_one_line():
    latex = runner.invoke(app, ["derive", "sin(x^2)", "--latex"])
    assert latex.exit_code == 0
    assert latex.output == r"\frac{d}{dx}\left(\sin{\left(x^{2} \right)}\right) = 2 x \cos{\left(x^{2} \right)}" + "\n"
    long = runner.invoke(app, ["derive", "sin(x^2)*exp(tanh(x**3 + 2*x))/(1 + x**2)", "--latex"])
    assert long.exit_code == 0 and len(long.output.splitlines()) == 1 and len(long.output) > 200
    assert long.output.startswith("\\frac{d}{dx}\\left(") and " = \\frac{" in long.output
    second = runner.invoke(app, ["derive", "x^3", "--order", "2", "--latex"])
    assert second.output == "\\frac{d^{2}}{dx^{2}}\\left(x^{3}\\right) = 6 x\n"


def test_integrate_latex_is_the_whole_equation():
    indefinite = runner.invoke(app, ["integrate", "x*exp(x)", "--latex"])
    assert indefinite.output == "\\int x e^{x} \\, dx = x e^{x} - e^{x} + C\n"
    definite = runner.invoke(app, ["integrate", "x^2", "--from", "0", "--to", "1", "--latex"])
    assert definite.output == "\\int\\limits_{0}^{1} x^{2}\\, dx = \\frac{1}{3}\n"


def test_derive_json():
    payload = json.loads(runner.invoke(app, ["derive", "x^3", "--json"]).output)
    assert payload["result"] == "3*x**2" and payload["steps"]["rule"] == "diff.power"
    assert payload["steps"]["title"] == "power rule"


@pytest.mark.parametrize("args", [["derive", "-x**2"], ["derive", "--", "-x**2"], ["derive", "-x**2", "--wrt", "x"],
                                  ["derive", "--wrt", "x", "-x**2"], ["derive", "--wrt=x", "-x**2", "--steps"]])
def test_an_expression_may_start_with_a_minus(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("d/dx [-x**2] = -2*x")


@pytest.mark.parametrize("args, headline", [
    (["derive", "-x", "--steps"], "d/dx [-x] = -1"),  # -x is also --wrt: with no value, the expression
    (["derive", "-x", "y", "x*y"], "d/dy [x*y] = x"),  # ... and with a value and an expression, the option
    (["integrate", "-x", "--from", "0", "--to", "1"], "∫ from 0 to 1 of -x dx = -1/2"),
    (["integrate", "-x", "--from", "0", "--to", "1", "--numeric"], "∫ from 0 to 1 of -x ≈ -0.5"),
])
def test_a_minus_expression_that_looks_like_a_short_option(args, headline):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(headline)


def test_a_negative_bound_is_still_the_option_s_value():
    result = runner.invoke(app, ["integrate", "-x^2", "--from", "-1", "--to", "1"])
    assert result.exit_code == 0, result.output
    assert "= -2/3" in result.output
    unknown = runner.invoke(app, ["derive", "x", "-y"])  # with the expression given, -y is an unknown option
    assert unknown.exit_code == 2 and "No such option" in unknown.output


def test_a_misspelt_function_gets_a_suggestion():
    result = runner.invoke(app, ["derive", "sigmod(x)"])
    assert result.exit_code == 2
    assert _error_line(result) == ("error: cannot read the expression: unknown function 'sigmod'; did you mean "
                                   "sigmoid? (column 1)")


def test_derive_errors_are_readable_with_exit_code_2():
    result = runner.invoke(app, ["derive", "sin(x", "--wrt", "x"])
    assert result.exit_code == 2
    assert "column 6" in result.output and "Traceback" not in result.output
    attack = runner.invoke(app, ["derive", "__import__('os').system('echo hi')"])
    assert attack.exit_code == 2 and "underscore" in attack.output


def test_integrate_indefinite_and_definite():
    indefinite = runner.invoke(app, ["integrate", "x*exp(x)", "--wrt", "x"])
    assert indefinite.exit_code == 0 and "x*exp(x) - exp(x) + C" in indefinite.output
    definite = runner.invoke(app, ["integrate", "x*exp(x)", "--wrt", "x", "--from", "0", "--to", "1", "--steps"])
    assert definite.exit_code == 0 and "= 1" in definite.output and "fundamental theorem" in definite.output
    half = runner.invoke(app, ["integrate", "x", "--from", "0"])
    assert half.exit_code == 2 and "both --from and --to" in half.output


def test_integrate_numeric_matches_the_closed_form():
    import math

    from typer.testing import CliRunner

    from calcml.cli.app import app

    result = CliRunner().invoke(app, ["integrate", "x*sin(30*x)", "--from", "0", "--to", "2*pi", "--numeric"])
    assert result.exit_code == 0, result.output
    value = float(result.output.split("≈")[1].split()[0])
    assert abs(value - (-math.pi / 15)) < 1e-10
    missing = CliRunner().invoke(app, ["integrate", "x", "--numeric"])
    assert missing.exit_code == 1 and "--from" in missing.output


def _error_line(result) -> str:
    """The first line of the output; a one-line error starts with 'error:' and nothing is a traceback."""
    assert "Traceback" not in result.output, result.output
    return result.output.strip().splitlines()[0]


def test_a_coefficient_bomb_is_refused_in_one_line_with_exit_2():
    result = runner.invoke(app, ["derive", "((3x)^1000)^10"])
    assert result.exit_code == 2
    assert _error_line(result).startswith("error: cannot read the expression: the coefficient")
    assert "more than 4000 digits" in result.output


@pytest.mark.parametrize("value", ["inf", "-1", "0", "nan", "301", "1e9"])
def test_timeout_must_be_finite_positive_and_bounded(value):
    result = runner.invoke(app, ["derive", "sin(x)", "--timeout", value])
    assert result.exit_code == 2, result.output
    line = _error_line(result)
    assert line.startswith("error: --timeout:") and "<= 300" in line


def test_integrate_checks_its_timeout_too():
    result = runner.invoke(app, ["integrate", "x", "--timeout", "inf"])
    assert result.exit_code == 2 and _error_line(result).startswith("error: --timeout:")


@pytest.mark.parametrize(
    "expr, words",
    [("sin(x", "column 6"), ("x +* 2", "unexpected"), ("2**", "ends too early"), ("open('f')", "not allowed")],
)
def test_bad_expressions_give_one_error_line_and_exit_2(expr, words):
    result = runner.invoke(app, ["derive", expr])
    assert result.exit_code == 2
    assert _error_line(result).startswith("error: cannot read the expression") and words in result.output


def test_a_timeout_is_one_line_and_exit_1():
    slow = "*".join(f"sin(x + {k})^3" for k in range(60))
    start = time.perf_counter()
    result = runner.invoke(app, ["derive", slow, "--order", "3", "--timeout", "1"])
    assert time.perf_counter() - start < 2.5
    assert result.exit_code == 1
    assert "did not finish within 1 s and was stopped" in _error_line(result)


@pytest.mark.parametrize(
    "args, words",
    [
        (["integrate", "x*log(0)", "--from", "0", "--to", "1", "--numeric"], "undefined"),
        (["integrate", "x", "--from", "nan", "--to", "1", "--numeric"], "not a number"),
        (["derive", "x^2", "--order", "1000"], "order must be a whole number from 1 to 100"),
        (["integrate", "x*y"], "say which variable"),
    ],
)
def test_other_bad_arguments_are_one_line_errors(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert _error_line(result).startswith("error:") and words in result.output


@pytest.mark.parametrize("bound", ["nan", "NaN"])
def test_a_nan_bound_is_refused_not_read_as_a_variable(bound):
    result = runner.invoke(app, ["integrate", "x", "--wrt", "x", "--from", bound, "--to", "1"])
    assert result.exit_code == 2
    assert "not a number" in result.output and "nan**2" not in result.output and "Traceback" not in result.output


def test_an_integral_sympy_fails_on_inside_is_a_one_line_error_that_suggests_the_numeric_way():
    result = runner.invoke(app, ["integrate", "x", "--wrt", "x", "--from", "inf", "--to", "1"])
    assert result.exit_code != 0
    assert "--numeric" in result.output and "Traceback" not in result.output and "unexpected" not in result.output
