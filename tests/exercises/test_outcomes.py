"""The checker's four outcomes, decimals and their tolerance, unknown names, and real counterexamples."""

import math
import re

import pytest
import sympy as sp

from calcml.errors import CalcmlError
from calcml.exercises import (
    CORRECT,
    MALFORMED,
    OUTCOMES,
    UNSIMPLIFIED,
    WRONG,
    UnknownNameError,
    check,
    generate,
)
from calcml.exercises.reading import read_answer, significant_digits


def test_the_four_outcomes():
    assert OUTCOMES == (CORRECT, UNSIMPLIFIED, WRONG, MALFORMED)
    correct = check("2x + 1", "1 + 2*x")
    assert correct.outcome == CORRECT and correct.correct
    unsimplified = check("2x + sin(x)^2 + cos(x)^2", "2x + 1")
    assert unsimplified.outcome == UNSIMPLIFIED and unsimplified.correct
    assert "not simplified" in unsimplified.feedback
    wrong = check("2x - 1", "2x + 1")
    assert wrong.outcome == WRONG and not wrong.correct
    assert "off by the constant -2" in wrong.hint
    x = wrong.counterexample["x"]
    assert float(2 * x - 1) != pytest.approx(float(2 * x + 1))  # the point really separates them
    malformed = check("2x + (1", "2x + 1")
    assert malformed.outcome == MALFORMED and not malformed.correct and malformed.column == 8
    assert "column 8" in malformed.feedback and "not closed" in malformed.feedback


def test_malformed_is_not_wrong_and_says_where():
    result = check("x^^2", "x^2")
    assert result.outcome == MALFORMED and result.verdict == MALFORMED and result.column == 3
    assert check("x^3", "x^2").outcome == WRONG
    shape = check("1, 2", "1, 2, 3", kind="vector")
    assert shape.outcome == MALFORMED and "3 components" in shape.feedback and "got 2" in shape.feedback
    matrix = check("1, 2; 3", "1, 2; 3, 4", kind="matrix")
    assert matrix.outcome == MALFORMED and "2×2" in matrix.feedback


def test_unknown_names_are_refused_with_their_column():
    result = check("2x + banana", "2x")
    assert result.outcome == MALFORMED and result.column == 6
    assert "unknown name 'banana'" in result.feedback and "may use: x" in result.feedback
    with pytest.raises(UnknownNameError) as caught:
        read_answer("y*x", {"x": sp.Symbol("x", real=True)})
    assert isinstance(caught.value, CalcmlError) and caught.value.column == 1
    number = check("k", "pi", kind="value")
    assert number.outcome == MALFORMED and "may use no variables" in number.feedback
    assert check("sin(x)^2 + cos(x)^2", "1", variables=["x"]).correct  # names may be granted
    antiderivative = check("x^2/2 + C", "x^2/2", kind="antiderivative")  # the constant is a known name
    assert antiderivative.correct


def test_an_exercise_refuses_names_it_does_not_have():
    exercise = generate("chain-rule", 2, seed=1)
    assert exercise.check("2*y").outcome == MALFORMED
    numeric = generate("softmax-cross-entropy", 2, seed=1)
    assert numeric.check("x, 0, 0").outcome == MALFORMED


@pytest.mark.parametrize("answer, digits", [("3.14159", 6), ("3.14", 3), ("0.0012", 2), ("2.50e-3", 3), ("7", None)])
def test_significant_digits(answer, digits):
    assert significant_digits(answer) == digits


def test_decimals_are_accepted_to_the_digits_given():
    pi = check("3.14159", "pi", kind="value")
    assert pi.outcome == CORRECT and "6 significant digits" in pi.feedback and pi.layer == "tolerance"
    assert check("3.1416", "pi", kind="value").correct  # rounded, not truncated
    truncated = check("3.1415", "pi", kind="value")  # the 5th digit of π rounds to 6
    assert truncated.outcome == WRONG
    assert check("-0.2689", "-sigmoid(-1)", kind="value").correct
    short = check("3.1", "pi", kind="value")
    assert short.outcome == WRONG and "at least 3 significant digits" in short.hint
    far = check("3.2", "pi", kind="value")
    assert far.outcome == WRONG and "3.2" in far.feedback


def test_an_explicit_tolerance_widens_and_still_refuses_beyond_it():
    assert check("3.1", "pi", kind="value", tolerance=0.02).outcome == CORRECT  # |3.1 − π|/π = 0.013
    refused = check("3.1", "pi", kind="value", tolerance=0.01)
    assert refused.outcome == WRONG and "tolerance 0.01" in refused.feedback
    assert check("0.0001", "0", kind="value", tolerance=1e-3).correct  # absolute when the expected value is 0
    assert not check("0.01", "0", kind="value", tolerance=1e-3).correct
    vector = check("0.7054, -0.9649, 0.2595", "softmax(1, 2, -1, 1) - 0, softmax(2, 2, -1, 1) - 1, "
                   "softmax(3, 2, -1, 1)", kind="vector")
    assert vector.correct
    for bad in (0, 1, -1e-3, True, "0.1"):
        with pytest.raises(ValueError, match="tolerance"):
            check("3.1", "pi", kind="value", tolerance=bad)


def test_decimals_in_expressions_are_exact_and_the_hint_says_so():
    result = check("0.333333333333*x", "x/3")
    assert result.outcome == WRONG and "decimals are read exactly" in result.hint
    assert check("0.333333*x", "x/3", tolerance=1e-5).correct


def test_counterexamples_are_real_points_where_both_are_real_or_only_one_is():
    result = check("log(x^2)", "2*log(x)")
    assert result.outcome == WRONG and result.layer == "domain"
    x = float(result.counterexample["x"])
    assert x < 0 and math.isfinite(math.log(x * x))  # yours is real there; 2·log(x) is not
    assert "agree where both are real" in result.feedback and "not a real number" in result.feedback
    assert not re.search(r"\d[+-]\d[\d.e+-]*[ij]\b", result.feedback)  # a real value is shown, never a complex one
    sqrt = check("sqrt(x^2)", "x")  # both real at x < 0, and different
    assert sqrt.layer == "numeric" and float(sqrt.counterexample["x"]) < 0
    assert check("log(x^2)", "2*log(x)", domain={"x": (0.1, 5)}).outcome == CORRECT


def test_exercise_mistakes_are_named():
    exercise = generate("softmax-cross-entropy", 2, seed=4)
    p = [float(v) + (1 if i == exercise.given["label"] else 0) for i, v in enumerate(exercise.expected)]
    forgot = exercise.check(", ".join(f"{v:.6f}" for v in p))
    assert forgot.outcome == WRONG and "subtract the one-hot label" in forgot.hint
    adam = generate("adam", 2, seed=0)
    assert adam.check(adam.mistakes[0][0]).hint == adam.mistakes[0][1]
    assert "bias correction" in adam.mistakes[0][1]
    assert adam.check(", ".join(f"{float(v):.8f}" for v in adam.expected)).outcome == CORRECT


@pytest.mark.parametrize("topic, hint", [("chain-rule", "derivative of the inner function"),
                                         ("product-rule", "not f′g′"), ("quotient-rule", "minus sign")])
def test_classic_mistakes_are_named(topic, hint):
    for seed in range(3):
        exercise = generate(topic, 2, seed=seed)
        mistaken = exercise.check(sp.sstr(exercise.mistakes[0][0]))
        assert mistaken.outcome == WRONG and hint in mistaken.hint, mistaken
        x = sp.Symbol("x", real=True)
        point = {x: sp.Float(mistaken.counterexample["x"], 30)}  # the counterexample really separates them
        assert abs(sp.N((exercise.mistakes[0][0] - exercise.expected).subs(point))) > 1e-9
