"""Answers learners really type, judged by cm.exercises.check, each verdict also settled independently.

For every pair the truth is computed here, apart from calcml: both sides are read by SymPy's own parser
(implicit multiplication, ^ as power) with the ML functions written out, and evaluated at random points of the
domain; two sides are equal when they agree (1e-9) wherever either is real. The checker must say "correct"
exactly for the equal pairs, and "wrong" (with a reason) for the others.

Families: equivalent forms (factored/expanded, 1/x and x^-1, the sigmoid written out, e^x and exp(x), ln and
log, implicit multiplication, spaces), the notation the prompts print (x², −, ·, ×, σ, √, π), vectors and
matrices as lists, decimals against fractions, + C and ln|x| in antiderivatives, domain restrictions, and the
near-misses: a flipped sign, a missing chain-rule factor, a constant factor, (x^x)′ as x·x^(x−1), ∫fg as
∫f·∫g, a transposed Jacobian, a point of the domain where a kink sits outside it.
"""

from __future__ import annotations

import random

import pytest
import sympy as sp
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

import calcml as cm
from calcml.exercises import check

RIGHT = ("correct", "equivalent but not simplified")
X, Y = sp.symbols("x y", real=True)
_SIGMOID = sp.Lambda(X, 1 / (1 + sp.exp(-X)))
_TRUTH_NAMES = {
    "x": X, "y": Y, "e": sp.E, "ln": sp.log, "sigmoid": _SIGMOID,
    "softplus": sp.Lambda(X, sp.log(1 + sp.exp(X))), "relu": sp.Lambda(X, sp.Max(X, 0)), "abs": sp.Abs,
}
_TRANSFORMS = standard_transformations + (convert_xor, implicit_multiplication_application)


def truth(text: str) -> sp.Expr:
    """``text`` read by SymPy itself (not calcml's parser), ML functions written out."""
    return parse_expr(text, local_dict=dict(_TRUTH_NAMES), transformations=_TRANSFORMS)


def really_equal(answer: str, expected: str, domain: dict | None = None) -> bool:
    """Equal at 40 random points of the domain (default [−3, 3]) wherever either side is real."""
    a, e = truth(answer), truth(expected)
    rng = random.Random(3)
    low_x, high_x = (domain or {}).get("x", (-3, 3))
    low_y, high_y = (domain or {}).get("y", (-3, 3))
    for _ in range(40):
        point = {X: rng.uniform(low_x, high_x), Y: rng.uniform(low_y, high_y)}
        va, ve = complex(a.evalf(30, subs=point)), complex(e.evalf(30, subs=point))
        real_a, real_e = abs(va.imag) < 1e-12, abs(ve.imag) < 1e-12
        if real_a != real_e or (real_a and abs(va - ve) > 1e-9 * max(1, abs(ve))):
            return False
    return True


# (answer, expected, domain or None): equal forms a learner writes
EQUIVALENT_FORMS = [
    ("x^-1", "1/x", None),
    ("x**(-1)", "1/x", None),
    ("1/x^2", "x^-2", None),
    ("e^x", "exp(x)", None),
    ("e^(2x)", "exp(2*x)", None),
    ("ln(x)", "log(x)", {"x": (0.1, 3)}),
    ("1/(1 + e^(-x))", "sigmoid(x)", None),
    ("1/(1 + exp(-x))", "sigmoid(x)", None),
    ("exp(x)/(1 + exp(x))", "sigmoid(x)", None),
    ("sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))^2", None),
    ("sigmoid(x) - sigmoid(x)^2", "sigmoid(x)*(1 - sigmoid(x))", None),
    ("1 - tanh(x)^2", "4/(exp(x) + exp(-x))^2", None),
    ("(x + 1)*(x - 1)", "x^2 - 1", None),
    ("3x^2 - 6x + 3", "3(x - 1)^2", None),
    ("2x cos(x^2)", "2*x*cos(x^2)", None),
    ("2 x cos( x ^ 2 )", "2*x*cos(x^2)", None),
    ("x exp(x) + exp(x)", "(x + 1)*exp(x)", None),
    ("log(1 + exp(x))", "softplus(x)", None),
    ("1/(1 + exp(-x))", "exp(softplus(x) - softplus(-x))/(1 + exp(softplus(x) - softplus(-x)))", None),
    ("x^x*(ln(x) + 1)", "x^x*log(x) + x^x", {"x": (0.1, 3)}),
    ("(2x*(x + 1) - x^2)/(x + 1)^2", "(x^2 + 2x)/(x + 1)^2", {"x": (0, 3)}),
    ("1/(2*sqrt(x))", "x^(-1/2)/2", {"x": (0.1, 3)}),
    ("0.5*x^2", "x^2/2", None),
    ("max(x, 0)", "relu(x)", None),
    ("(abs(x) + x)/2", "relu(x)", None),
    ("2x*y + 3*y^2", "y*(2x + 3y)", None),
]

# (answer, expected, domain or None, words the feedback must contain): wrong answers learners give
NEAR_MISSES = [
    ("-2*x*sin(x^2)", "2*x*sin(x^2)", None, "sign"),
    ("cos(x^2)", "2*x*cos(x^2)", None, ""),                             # the inner derivative forgotten
    ("3*cos(3x + 1)", "-3*sin(3x + 1)", None, ""),
    ("exp(x^2)", "2*x*exp(x^2)", None, ""),
    ("x^2*cos(x)", "2*x*cos(x) - x^2*sin(x)", None, ""),             # product rule as f′g only
    ("x*x^(x - 1)", "x^x*(log(x) + 1)", {"x": (0.1, 3)}, ""),         # (x^x)′ by the power rule
    ("x^x*log(x)", "x^x*(log(x) + 1)", {"x": (0.1, 3)}, ""),          # by the exponential rule only
    ("4x", "2x", None, "2 times"),
    ("x^2/2", "x^2", None, "0.5 times"),
    ("sigmoid(x)^2", "sigmoid(x)*(1 - sigmoid(x))", None, ""),
    ("sigmoid(x)*(1 + sigmoid(x))", "sigmoid(x)*(1 - sigmoid(x))", None, ""),
    ("1 + tanh(x)^2", "1 - tanh(x)^2", None, ""),
    ("1/(1 + exp(x))", "sigmoid(x)", None, ""),                       # σ(−x)
    ("sqrt(x^2)", "x", None, ""),
    ("log(x^2)", "2*log(x)", None, ""),
    ("relu(x)", "abs(x)", None, ""),
    ("(x + 1)^2", "x^2 + 1", None, ""),
    ("x^2 + 1", "x^2", None, "constant 1"),
    ("-sigmoid(x)*(1 - sigmoid(x))", "sigmoid(x)*(1 - sigmoid(x))", None, "sign"),
]


@pytest.mark.parametrize("answer,expected,domain", EQUIVALENT_FORMS)
def test_an_equivalent_form_is_correct(answer, expected, domain):
    assert really_equal(answer, expected, domain), (answer, expected)      # the truth, apart from calcml
    result = check(answer, expected, domain=domain)
    assert result.outcome in RIGHT, (answer, expected, str(result))


@pytest.mark.parametrize("answer,expected,domain,words", NEAR_MISSES)
def test_a_near_miss_is_wrong_with_a_reason(answer, expected, domain, words):
    assert not really_equal(answer, expected, domain), (answer, expected)
    result = check(answer, expected, domain=domain)
    assert result.outcome == "wrong", (answer, expected, str(result))
    assert result.counterexample is not None and words in result.feedback, str(result)


def test_the_counterexample_of_a_near_miss_is_a_point_where_they_really_differ():
    result = check("cos(x^2)", "2*x*cos(x^2)")
    point = {X: sp.Float(result.counterexample["x"], 30)}
    assert abs(sp.cos(X**2).subs(point) - (2 * X * sp.cos(X**2)).subs(point)) > 1e-6


# ----------------------------------------------------------------------------------------------------------------
# the notation of the prompts, typed or pasted back (these were "malformed: unexpected character" before)

PROMPT_NOTATION = [
    ("x²", "x^2", True),
    ("3x² − 2x", "3*x^2 - 2*x", True),
    ("2·x·cos(x²)", "2*x*cos(x^2)", True),
    ("2×x", "2*x", True),
    ("−sin(x)", "-sin(x)", True),
    ("e^(−x)", "exp(-x)", True),
    ("σ(x)(1 − σ(x))", "sigmoid(x)*(1 - sigmoid(x))", True),
    ("x⁻¹", "1/x", True),
    ("x³", "x^2", False),
    ("−σ(x)(1 − σ(x))", "sigmoid(x)*(1 - sigmoid(x))", False),
    ("2x·cos(x)", "2*x*cos(x^2)", False),
]


@pytest.mark.parametrize("answer,expected,equal", PROMPT_NOTATION)
def test_the_notation_the_prompt_prints_is_read(answer, expected, equal):
    result = check(answer, expected)
    assert result.outcome == ("correct" if equal else "wrong"), (answer, str(result))


def test_square_root_and_pi_as_printed():
    assert check("1/(2√x)", "1/(2*sqrt(x))", domain={"x": (0.1, 3)}).outcome == "correct"
    assert check("π/4", "pi/4", kind="value").outcome == "correct"
    assert check("π/3", "pi/4", kind="value").outcome == "wrong"


def test_an_unknown_name_after_unicode_points_at_the_column_typed():
    result = check("x² + banana", "x^2")
    assert result.outcome == "malformed" and result.column == 6 and "banana" in result.feedback


def test_a_character_still_refused_points_at_its_own_column():
    result = check("x² ∂ 1", "x^2")
    assert result.outcome == "malformed" and result.column == 4


def test_decimals_with_a_unicode_minus_are_judged_to_their_digits():
    assert check("−0.333", "-1/3", kind="value").outcome == "correct"
    assert check("−0.334", "-1/3", kind="value").outcome == "wrong"


# ----------------------------------------------------------------------------------------------------------------
# vectors, gradients, Jacobians


@pytest.mark.parametrize("answer", ["2x, 2y", "(2x, 2y)", "[2x, 2y]", "[2*x, 2*y]", " 2x ,2y "])
def test_a_gradient_typed_as_tuple_or_list(answer):
    assert check(answer, "2x, 2y", kind="vector").outcome == "correct"


def test_a_gradient_as_a_python_list_or_tuple():
    assert check(["2*x", "2*y"], "2x, 2y", kind="vector").outcome == "correct"
    assert check((2 * X, 2 * Y), "2x, 2y", kind="vector").outcome == "correct"


def test_a_gradient_with_components_swapped_or_summed():
    swapped = check("[2y, 2x]", "2x, 2y", kind="vector")
    assert swapped.outcome == "wrong" and "component 1" in swapped.feedback
    summed = check("2x + 2y", "2x, 2y", kind="vector")
    assert summed.outcome == "malformed" and "2 components" in summed.feedback


@pytest.mark.parametrize("answer,right", [("[[y, x], [1, 2y]]", True), ("y, x; 1, 2y", True),
                                          ("[[y, 1], [x, 2y]]", False), ("y, 1; x, 2y", False)])
def test_a_jacobian_as_nested_lists_and_its_transpose(answer, right):
    result = check(answer, "y, x; 1, 2*y", kind="matrix")
    assert result.outcome == ("correct" if right else "wrong"), (answer, str(result))


def test_the_transposed_jacobian_of_an_exercise_is_named():
    exercise = next(e for e in (cm.exercises.generate("jacobians", 2, seed=s) for s in range(40))
                    if e.expected.shape == (2, 2) and e.expected != e.expected.T)
    transposed = "; ".join(", ".join(sp.sstr(v) for v in row) for row in exercise.expected.T.tolist())
    result = exercise.check(transposed)
    assert result.outcome == "wrong" and "transpose" in result.hint
    as_lists = "[" + ", ".join("[" + ", ".join(sp.sstr(v) for v in row) + "]"
                               for row in exercise.expected.tolist()) + "]"
    assert exercise.check(as_lists).outcome == "correct"


# ----------------------------------------------------------------------------------------------------------------
# numbers: decimals and fractions at the exercise's precision


@pytest.mark.parametrize("answer,expected,right", [
    ("0.25", "1/4", True), ("1/4", "0.25", True), ("0.333", "1/3", True), ("0.3333", "1/3", True),
    ("0.33", "1/3", False), ("0.334", "1/3", False), ("3.14159", "pi", True), ("3.14", "pi", True),
    ("3.15", "pi", False), ("0.105", "sigmoid(2)*(1 - sigmoid(2))", True),
    ("0.104", "sigmoid(2)*(1 - sigmoid(2))", False), ("-0.25", "1/4", False),
])
def test_decimals_against_fractions(answer, expected, right):
    result = check(answer, expected, kind="value")
    assert result.outcome == ("correct" if right else "wrong"), (answer, expected, str(result))


@pytest.mark.parametrize("answer,expected,right", [
    ("1/3", "0.333333", True), ("pi", "3.14159", True), ("exp(1)", "2.71828", True), ("22/7", "3.14159", False),
    ("1/3", "0.333334", False), ("sqrt(2)", "1.41421", True), ("sqrt(2)", "1.4142", True),
])
def test_an_exact_answer_against_a_teachers_rounded_value(answer, expected, right):
    """A teacher wrote the expected value rounded, to six digits; an exact answer that rounds to it is right
    (1/3 against "0.333333" was "wrong: yours is 0.3333333333, expected 0.333333")."""
    result = check(answer, expected, kind="value")
    assert result.outcome == ("correct" if right else "wrong"), (answer, expected, str(result))


# ----------------------------------------------------------------------------------------------------------------
# antiderivatives: + C, ln|x|, the product of integrals


@pytest.mark.parametrize("answer,expected,domain,right", [
    ("x^3/3 + C", "x^3/3", None, True),
    ("x^3/3", "x^3/3", None, True),                         # right, with the reminder about + C
    ("x^3/3 + 7", "x^3/3", None, True),
    ("(x^3 + 1)/3 + C", "x^3/3", None, True),
    ("x^3 + C", "x^3/3", None, False),
    ("log(abs(x)) + C", "log(abs(x))", None, True),
    ("ln(abs(x)) + C", "log(abs(x))", None, True),
    ("log(abs(x)) + C", "log(x)", {"x": (0.1, 3)}, True),
    ("log(x) + C", "log(abs(x))", {"x": (0.1, 3)}, True),
    ("-exp(-x) + C", "-exp(-x)", None, True),
    ("exp(-x) + C", "-exp(-x)", None, False),
    ("x*sin(x) + cos(x) + C", "x*sin(x) + cos(x)", None, True),
    ("x^2/2*sin(x) + C", "x*sin(x) + cos(x)", None, False),  # ∫ x cos x as (∫x)(∫cos)... of the wrong kind
    ("(x^2/2)*(-cos(x)) + C", "sin(x) - x*cos(x)", None, False),   # ∫ x sin x as ∫x · ∫sin x
    ("exp(x^2) + C", "exp(x^2)/2", None, False),            # the 1/2 of the substitution forgotten
    ("atan(x) + C", "arctan(x)", None, True),
    ("sigmoid(x) + C", "1/(1 + exp(-x))", None, True),
    ("-1/(1 + exp(x)) + C", "sigmoid(x)", None, True),       # σ(x) − 1: a constant away
])
def test_antiderivatives(answer, expected, domain, right):
    result = check(answer, expected, kind="antiderivative", var="x", domain=domain)
    assert result.outcome == ("correct" if right else "wrong"), (answer, expected, str(result))
    if right and "C" not in answer:
        assert "+ C" in result.feedback


def test_ln_x_for_the_integral_of_one_over_x_on_the_whole_line_is_wrong():
    """∫ dx/x = ln|x| + C; ln(x) + C is not real for x < 0, where 1/x is (it was judged "correct")."""
    result = check("log(x) + C", "log(abs(x))", kind="antiderivative", var="x")
    assert result.outcome == "wrong" and result.counterexample["x"] < 0
    assert "ln|u|" in result.hint
    assert sp.log(sp.Float(result.counterexample["x"])).is_real is False


def test_the_integrals_exercise_accepts_ln_x_on_its_positive_domain():
    exercise = next(e for e in (cm.exercises.generate("integrals", 1, seed=s) for s in range(60))
                    if e.question == 1 / X)
    assert exercise.domain["x"][0] > 0
    assert exercise.check("ln(x) + C").outcome == "correct"
    assert exercise.check("ln|x| + C").outcome == "malformed"        # says to use abs(x)
    assert exercise.check("ln(abs(x)) + C").outcome == "correct"
    assert exercise.check("-1/x^2 + C").outcome == "wrong"            # differentiated instead


# ----------------------------------------------------------------------------------------------------------------
# domains: a right answer on the domain given is right (a kink outside it is no counterexample)


@pytest.mark.parametrize("answer,expected,domain", [
    ("abs(x)", "x", {"x": (0, 3)}),
    ("abs(x - 1)", "x - 1", {"x": (2, 3)}),
    ("relu(x)", "x", {"x": (0, 3)}),
    ("max(x, 0)", "x", {"x": (0.5, 3)}),
    ("abs(x)/x", "1", {"x": (0.1, 3)}),
])
def test_a_kink_outside_the_domain_is_not_a_counterexample(answer, expected, domain):
    """|x| = x on [0, 3]: it was "wrong: at x = -0.001 yours is 0.001, expected -0.001"."""
    assert really_equal(answer, expected, domain)
    result = check(answer, expected, domain=domain, variables=["x"])
    assert result.outcome in RIGHT, str(result)


def test_a_kink_inside_the_domain_still_decides():
    result = check("abs(x)", "x", domain={"x": (-1, 3)})
    assert result.outcome == "wrong" and result.counterexample["x"] < 0


@pytest.mark.parametrize("answer,expected,right", [
    ("abs(y - 4) + x", "y - 4 + x", True),
    ("sqrt(y - 5)*x", "sqrt(y - 5)*x", True),
    ("log(y - 4)*x", "log(abs(y - 4))*x", True),
    ("abs(y - 4) + x", "4 - y + x", False),
])
def test_each_variable_is_probed_inside_its_own_range(answer, expected, right):
    """x in (0, 1) and y in (5, 6): points with y < 5 lay outside the domain and could reject a right answer."""
    domain = {"x": (0, 1), "y": (5, 6)}
    assert really_equal(answer, expected, domain) == right
    result = check(answer, expected, domain=domain)
    assert result.outcome == ("correct" if right else "wrong"), (answer, str(result))
    if not right:
        assert 5 <= result.counterexample["y"] <= 6 and 0 <= result.counterexample["x"] <= 1


# ----------------------------------------------------------------------------------------------------------------
# ReLU and |x| at their kink: the derivative everywhere else, and what learners write


def test_relu_derivative_written_with_abs_or_max():
    expected = cm.derive("relu(x)", "x").result           # Piecewise((0, x <= 0), (1, True))
    assert check("(1 + x/abs(x))/2", expected, domain={"x": (0.1, 3)}).outcome in RIGHT
    assert check("max(x, 0)/x", expected, domain={"x": (0.1, 3)}).outcome in RIGHT
    assert check("x/abs(x)", expected).outcome == "wrong"                      # sign(x): −1 for x < 0
    assert check("1", expected).outcome == "wrong"                             # only right for x > 0


def test_abs_derivative_away_from_zero():
    assert check("x/abs(x)", "abs(x)/x").outcome == "correct"
    assert check("1", "abs(x)/x", domain={"x": (0.1, 3)}).outcome in RIGHT
    assert check("1", "abs(x)/x").outcome == "wrong"


# ----------------------------------------------------------------------------------------------------------------
# the generated exercises: the expected answer in the forms learners type, and the topic's own near-misses


def _exercise(topic: str, level: int, wanted) -> cm.exercises.Exercise:
    for seed in range(80):
        exercise = cm.exercises.generate(topic, level, seed=seed)
        if wanted(exercise):
            return exercise
    raise AssertionError(f"no {topic} exercise of the kind wanted in 80 seeds")


def test_a_chain_rule_exercise_missing_the_inner_factor_is_named():
    exercise = _exercise("chain-rule", 2, lambda e: e.question.func in (sp.sin, sp.cos, sp.exp))
    inner = exercise.question.args[0]
    outer_only = sp.diff(exercise.question.func(X), X).subs(X, inner)
    result = exercise.check(sp.sstr(outer_only))
    assert result.outcome == "wrong" and "inner function" in result.hint
    assert exercise.check(sp.sstr(sp.expand(exercise.expected))).outcome in RIGHT


def test_a_product_rule_exercise_as_the_product_of_slopes_is_named():
    exercise = _exercise("product-rule", 1, lambda e: True)
    f, g = exercise.question.as_ordered_factors()[-2:]
    result = exercise.check(sp.sstr(sp.diff(f, X) * sp.diff(g, X)))
    assert result.outcome == "wrong" and "f′g′" in result.hint


def test_a_quotient_rule_exercise_with_the_wrong_sign_in_the_numerator_is_named():
    exercise = _exercise("quotient-rule", 1, lambda e: True)
    top, bottom = sp.fraction(exercise.question)
    plus = (sp.diff(top, X) * bottom + top * sp.diff(bottom, X)) / bottom**2
    result = exercise.check(sp.sstr(plus).replace("**", "^"))
    assert result.outcome == "wrong" and "minus" in result.hint
    minus = (sp.diff(top, X) * bottom - top * sp.diff(bottom, X)) / bottom**2
    assert exercise.check(sp.sstr(minus)).outcome in RIGHT


def test_a_gradient_exercise_as_a_list_and_reversed():
    exercise = _exercise("gradients", 1, lambda e: e.expected[0] != e.expected[1])
    as_list = "[" + ", ".join(sp.sstr(v) for v in exercise.expected) + "]"
    assert exercise.check(as_list).outcome == "correct"
    reversed_list = "[" + ", ".join(sp.sstr(v) for v in reversed(list(exercise.expected))) + "]"
    assert exercise.check(reversed_list).outcome == "wrong"


def test_a_cross_entropy_exercise_written_with_e_and_the_sigmoid_spelled_out():
    exercise = _exercise("losses", 3, lambda e: True)
    y = sp.sympify(exercise.expected - cm.symbolic.sigmoid(sp.Symbol("z", real=True))) * -1
    assert exercise.check(f"1/(1 + e^(-z)) - {y}").outcome in RIGHT
    assert exercise.check(f"{y} - 1/(1 + e^(-z))").outcome == "wrong"


# ----------------------------------------------------------------------------------------------------------------
# decimals inside vectors, matrices and points: each entry to its own digits


@pytest.mark.parametrize("answer,expected,kind,right", [
    ("0.5, 0.667", "1/2, 2/3", "vector", True),            # was wrong: "0.667 agrees only to 1 significant digit"
    ("0.50, -0.333", "1/2, -1/3", "vector", True),         # was wrong: "-0.333 agrees only to 2 significant digits"
    ("[0.5, 0.667]", "1/2, 2/3", "vector", True),
    ("0.25, 0.333; 1, 2", "1/4, 1/3; 1, 2", "matrix", True),
    ("0.5, 0.67", "1/2, 2/3", "vector", False),            # two digits are too few, whatever the others
    ("0.5, 0.668", "1/2, 2/3", "vector", False),
    ("0.5, -0.667", "1/2, 2/3", "vector", False),
])
def test_each_entry_is_judged_to_the_digits_it_was_written_with(answer, expected, kind, right):
    result = check(answer, expected, kind=kind)
    assert result.outcome == ("correct" if right else "wrong"), (answer, str(result))
    if not right:
        assert "component 2" in result.feedback


def test_the_digits_hint_names_the_entrys_own_digits():
    result = check("0.5, -0.33", "1/2, -1/3", kind="vector")
    assert result.outcome == "wrong" and "only to 2 significant digits" in result.feedback


@pytest.mark.parametrize("answer,expected,right", [
    ("(0.333, 1)", "(1/3, 1)", True),                      # was wrong: "not critical: (0.333, 1.0)"
    ("(1.414, 0); (-1.414, 0)", "(sqrt(2), 0); (-sqrt(2), 0)", True),
    ("(sqrt(2), 0)", "(1.41421356, 0)", True),             # a teacher's rounded point
    ("(0.33, 1)", "(1/3, 1)", False),
    ("(0.334, 1)", "(1/3, 1)", False),
    ("(1.414, 0)", "(sqrt(2), 0); (-sqrt(2), 0)", False),
    ("(sqrt(3), 0)", "(1.41421356, 0)", False),
    ("(1, 2); (3, 4)", "(3, 4); (1, 2)", True),
    ("[1, 2]; [3, 4]", "(3, 4); (1, 2)", True),
    ("(1, 2); (1, 2)", "(1, 2)", True),
    ("(1, 2); (5, 5)", "(1, 2)", False),
])
def test_points_with_decimals(answer, expected, right):
    result = check(answer, expected, kind="points")
    assert result.outcome == ("correct" if right else "wrong"), (answer, str(result))


# ----------------------------------------------------------------------------------------------------------------
# the textbook power of a function, sin²(x)


@pytest.mark.parametrize("answer,twin,expected,right", [
    ("sin^2(x)", "sin(x)^2", "sin(x)^2", True),
    ("sin²(x)", "sin(x)^2", "sin(x)^2", True),
    ("1 - tanh^2(x)", "1 - tanh(x)^2", "1/cosh(x)^2", True),
    ("1 - tanh²(x)", "1 - tanh(x)^2", "1/cosh(x)^2", True),
    ("2sin(x)cos^2(x)", "2*sin(x)*cos(x)^2", "2*sin(x)*cos(x)^2", True),
    ("σ²(x)", "sigmoid(x)^2", "sigmoid(x)^2", True),
    ("sin^2(x)", "sin(x)^2", "sin(x^2)", False),
    ("1 + tanh^2(x)", "1 + tanh(x)^2", "1/cosh(x)^2", False),
])
def test_a_power_written_between_the_function_and_its_argument(answer, twin, expected, right):
    """sin^2(x) was malformed: "sin needs parentheses; write sin(x)", though the parentheses were there.
    ``twin`` is the answer in the notation SymPy's own parser reads, for the truth."""
    assert really_equal(twin, expected) == right
    result = check(answer, expected)
    assert result.outcome == ("correct" if right else "wrong"), (answer, str(result))


def test_an_inverse_power_of_a_function_is_refused_as_ambiguous():
    result = check("sin^-1(x)", "asin(x)")
    assert result.outcome == "malformed" and "ambiguous" in result.feedback and "asin(x)" in result.feedback
    assert "sin(x)^2" in check("sin²x", "sin(x)^2").feedback        # the hint shows where the ( goes


def test_the_sign_function_calcml_prints_can_be_typed_back():
    """d/dx |x| is printed as sign(x); typing sign(x) back was "unknown function 'sign'; did you mean sin?"."""
    slope_of_abs = cm.derive("abs(x)", "x").result
    assert check("sign(x)", slope_of_abs).outcome == "correct"
    assert check("-sign(x)", slope_of_abs).outcome == "wrong"
    assert check("sign(x)", "1", domain={"x": (0.1, 3)}, variables=["x"]).outcome == "correct"
    assert check("sign(x)", "1", variables=["x"]).outcome == "wrong"


@pytest.mark.parametrize("answer,expected,right", [
    ("2xy", "2*x*y", True), ("2xy + 3y^2", "2*x*y + 3*y^2", True), ("exp(xy)y", "y*exp(x*y)", True),
    ("yx", "x*y", True), ("2xy", "2*x + y", False), ("xy^2", "x*y^2", True), ("xy^2", "(x*y)^2", False),
])
def test_a_product_of_one_letter_variables_written_together(answer, expected, right):
    """"2xy" was malformed: "unknown name 'xy'", though the problem's variables are x and y."""
    result = check(answer, expected)
    assert result.outcome == ("correct" if right else "wrong"), (answer, str(result))


def test_letters_together_stay_a_name_when_the_problem_has_that_name_or_a_letter_is_unknown():
    assert check("xy", "xy + 1", variables=["x", "y"]).outcome == "wrong"        # xy is a variable of its own
    unknown = check("xyt", "x*y")
    assert unknown.outcome == "malformed" and "xyt" in unknown.feedback and unknown.column == 1
    assert check("2xy, x^2", "2*x*y, x^2", kind="vector").outcome == "correct"
