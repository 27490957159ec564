"""The regression table of tricky answer pairs, and the other answer kinds."""

import pytest
import sympy as sp

from calcml.exercises import EQUIVALENT, LIKELY_EQUIVALENT, NOT_EQUIVALENT, check

YES = (EQUIVALENT, LIKELY_EQUIVALENT)

# (answer, expected, equivalent?, domain)
TABLE = [
    # the sigmoid's derivative, written many ways
    ("sigmoid(x)*(1 - sigmoid(x))", "1/(4*cosh(x/2)^2)", True, None),
    ("exp(-x)/(1 + exp(-x))^2", "sigmoid(x)*(1 - sigmoid(x))", True, None),
    ("exp(x)/(1 + exp(x))^2", "sigmoid(x) - sigmoid(x)^2", True, None),
    ("sigmoid(x)^2", "sigmoid(x)*(1 - sigmoid(x))", False, None),
    ("(1 + tanh(x/2))/2", "sigmoid(x)", True, None),
    # tanh with exponentials
    ("(exp(x) - exp(-x))/(exp(x) + exp(-x))", "tanh(x)", True, None),
    ("(exp(2x) - 1)/(exp(2x) + 1)", "tanh(x)", True, None),
    ("1 - tanh(x)^2", "1/cosh(x)^2", True, None),
    ("1 + tanh(x)^2", "1/cosh(x)^2", False, None),
    ("2*sigmoid(2x) - 1", "tanh(x)", True, None),
    # ReLU forms
    ("relu(x)", "max(0, x)", True, None),
    ("relu(x)", "(x + abs(x))/2", True, None),
    ("max(x, 0)", "(x + abs(x))/2", True, None),
    ("relu(x)", "abs(x)", False, None),
    ("relu(x)", "max(0, x - 0.001)", False, None),
    ("relu(x - 1)", "max(0, x) - 1", False, None),
    ("softplus(x) - softplus(-x)", "x", True, None),
    # logarithms: equal only where both are real
    ("log(x^2)", "2*log(x)", False, None),
    ("log(x^2)", "2*log(x)", True, {"x": (0.01, 10)}),
    ("log(x^2)", "2*log(abs(x))", True, None),
    ("log(x*y)", "log(x) + log(y)", False, None),
    ("log(exp(x))", "x", True, None),
    ("exp(log(x))", "x", True, {"x": (0.01, 10)}),
    ("sqrt(x^2)", "x", False, None),
    ("sqrt(x^2)", "abs(x)", True, None),
    # off by a tiny constant, a factor, a sign
    ("2x + 1e-9", "2x", False, None),
    ("0.333333333333*x", "x/3", False, None),
    ("0.5*x^2", "x^2/2", True, None),
    ("2*x*cos(x^2)", "cos(x^2)", False, None),
    ("-sin(x)", "sin(x)", False, None),
    # trigonometric identities
    ("sin(2x)", "2*sin(x)*cos(x)", True, None),
    ("sin(x)^2 + cos(x)^2", "1", True, None),
    ("cos(2x)", "1 - 2*sin(x)^2", True, None),
    ("sec(x)^2", "1 + tan(x)^2", True, None),
    ("tan(x)", "sin(x)/cos(x)", True, None),
    # algebra
    ("(x + 1)^2", "x^2 + 2x + 1", True, None),
    ("(x^2 - 1)/(x - 1)", "x + 1", True, None),
    ("(x + 1)^2", "x^2 + 1", False, None),
    ("x^(1/2)*x^(1/2)", "x", True, {"x": (0.01, 10)}),
    ("1/(1/x)", "x", True, None),
    # ML: softmax and log-sum-exp
    ("softmax(1, a, b)", "exp(a)/(exp(a) + exp(b))", True, None),
    ("softmax(1, a, b)", "sigmoid(a - b)", True, None),
    ("logsumexp(a, b)", "log(exp(a) + exp(b))", True, None),
    ("logsumexp(a, b)", "max(a, b)", False, None),
]


def test_the_table_is_large_enough():
    assert len(TABLE) >= 30


@pytest.mark.parametrize("answer, expected, equivalent, domain", TABLE, ids=[f"{a} ~ {e}" for a, e, *_ in TABLE])
def test_regression_table(answer, expected, equivalent, domain):
    result = check(answer, expected, domain=domain, variables=["x"])
    if equivalent:
        assert result.verdict in YES, result
    else:
        assert result.verdict == NOT_EQUIVALENT, result
        assert result.counterexample is not None and result.feedback


def test_counterexample_is_a_real_point_where_they_differ():
    result = check("log(x^2)", "2*log(x)")
    point = result.counterexample["x"]
    assert point < 0
    assert sp.N(sp.log(point**2) - 2 * sp.log(point)) != 0
    assert "not" in result.verdict


def test_feedback_names_common_mistakes():
    assert "sign is flipped" in check("-2x", "2x").feedback
    assert "off by the constant 1" in check("x^2 + 1", "x^2").feedback
    assert "3 times" in check("3*sin(x)", "sin(x)").feedback
    assert "could not read your answer" in check("2x +", "2x").feedback
    assert check("2x +", "2x").outcome == "malformed"


def test_structure_and_normal_form_layers_are_used_first():
    assert check("2x", "2*x").layer == "structure"
    assert check("(x + 1)^2", "x^2 + 2x + 1").layer == "normal form"


def test_proved_versus_numeric():
    assert check("sin(2x)", "2 sin(x) cos(x)").verdict == EQUIVALENT


def test_antiderivatives_are_equal_up_to_a_constant():
    missing_c = check("x^3/3", "x^3/3", kind="antiderivative")
    assert missing_c.verdict == EQUIVALENT and "+ C" in missing_c.feedback
    with_c = check("x^3/3 + C", "x^3/3", kind="antiderivative")
    assert with_c.verdict == EQUIVALENT and "+ C" not in with_c.feedback
    shifted = check("x^3/3 + 5 + C", "x^3/3", kind="antiderivative")
    assert shifted.correct and "only by a constant" in shifted.feedback
    assert check("sin(x)^2/2", "-cos(x)^2/2", kind="antiderivative").correct
    wrong = check("x^3", "x^3/3", kind="antiderivative")
    assert wrong.verdict == NOT_EQUIVALENT and "derivative of your answer" in wrong.feedback


def test_vectors_matrices_and_points():
    assert check("2x*y, x^2", ["2*x*y", "x^2"], kind="vector").verdict == EQUIVALENT
    wrong = check("2x*y, x", ["2*x*y", "x^2"], kind="vector")
    assert wrong.verdict == NOT_EQUIVALENT and "component 2" in wrong.feedback
    assert check("2, 0; 0, 2", sp.Matrix([[2, 0], [0, 2]]), kind="matrix").verdict == EQUIVALENT
    assert "2×2" in check("2, 0", sp.Matrix([[2, 0], [0, 2]]), kind="matrix").feedback
    assert check("(1, -1); (0, 0)", [(0, 0), (1, -1)], kind="points").verdict == EQUIVALENT
    assert "missing" in check("(0, 0)", [(0, 0), (1, -1)], kind="points").feedback
    assert "not critical" in check("(0, 0); (2, 2)", [(0, 0)], kind="points").feedback


def test_values():
    assert check("e", "exp(1)", kind="value").verdict == EQUIVALENT
    assert check("oo", sp.oo, kind="value").verdict == EQUIVALENT
    assert check("3", "pi", kind="value").verdict == NOT_EQUIVALENT  # an integer is exact: no rounding assumed
