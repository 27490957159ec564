"""The safe parser: what it accepts, what it refuses, and that refusing executes nothing."""

import time

import pytest
import sympy as sp

from calcml.symbolic import ParseError, parse, sigmoid
from calcml.symbolic.parser import MAX_DEPTH, MAX_LENGTH, parse_rows

x, y = sp.symbols("x y", real=True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2x^2 + sin(x)", 2 * x**2 + sp.sin(x)),
        ("x(x+1)", x * (x + 1)),
        ("(x+1)(x-1)", (x + 1) * (x - 1)),
        ("2 sin(x) cos(x)", 2 * sp.sin(x) * sp.cos(x)),
        ("-x^2", -(x**2)),
        ("2^3^2", sp.Integer(512)),
        ("x**-2", x**-2),
        ("0.1x", x / 10),
        ("1.5e-3", sp.Rational(3, 2000)),
        ("e^x", sp.exp(x)),
        ("ln(x) + log(x, 2)", sp.log(x) + sp.log(x) / sp.log(2)),
        ("arcsin(x) + asin(x)", 2 * sp.asin(x)),
        ("sqrt(x) + abs(y)", sp.sqrt(x) + sp.Abs(y)),
        ("max(0, x) - min(x, y)", sp.Max(0, x) - sp.Min(x, y)),
        ("sigmoid(2x)", sigmoid(2 * x)),
        ("pi*x", sp.pi * x),
        ("x y", x * y),
    ],
)
def test_parses_to_the_expected_sympy_expression(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text, suggestion",
    [("sigmod(x)", "sigmoid"), ("Sin(x)", "sin"), ("tanhh(x)", "tanh"), ("sofmax(1, a, b)", "softmax"),
     ("logsumxp(a, b)", "logsumexp"), ("sqr(x)", "sqrt")],
)
def test_a_misspelt_function_gets_did_you_mean(text, suggestion):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.message.endswith(f"; did you mean {suggestion}?")
    assert str(info.value).splitlines()[0].startswith("cannot read the expression: unknown function")


def test_no_suggestion_when_nothing_is_close():
    with pytest.raises(ParseError) as info:
        parse("foo(x)")
    assert "did you mean" not in str(info.value) and "known functions:" in str(info.value)


def test_names_become_real_symbols_and_are_shared():
    table = {}
    a = parse("x + y", table)
    b = parse("x*y", table)
    assert a.free_symbols == b.free_symbols
    assert all(s.is_real for s in a.free_symbols)


@pytest.mark.parametrize(
    "text, column, words",
    [
        ("sin(x", 6, "expected ')'"),
        ("2*", 3, "ends too early"),
        ("x + * 2", 5, "unexpected '*'"),
        ("sin x", 1, "needs parentheses"),
        ("foo(x)", 1, "unknown function"),
        ("1/0", 3, "division by zero"),
        ("x $ 2", 3, "unexpected character"),
        ("", 1, "empty"),
        ("sin(x, y)", 1, "one argument"),
        ("softmax(5, a, b)", 1, "softmax needs"),
    ],
)
def test_syntax_errors_say_what_and_at_which_column(text, column, words):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.column == column
    assert words in str(info.value)
    assert f"column {column}" in str(info.value)


@pytest.mark.parametrize(
    "attack, words",
    [
        ("__import__('os').system('touch /tmp/calcml_pwned')", "underscore"),
        ("x.__class__", "attribute access"),
        ("x.__class__.__bases__[0].__subclasses__()", "attribute access"),
        ("lambda: 0", "'lambda' is not allowed"),
        ("(lambda x: x)(1)", "'lambda' is not allowed"),
        ("'abc'", "strings"),
        ('"rm -rf"', "strings"),
        ("x[0]", "brackets"),
        ("{x}", "braces"),
        ("eval(x)", "not allowed"),
        ("exec(x)", "not allowed"),
        ("getattr(x, y)", "not allowed"),
        ("import os", "not allowed"),
        ("x = 1", "'='"),
        ("x; y", "unexpected ';'"),
    ],
)
def test_injection_attempts_are_refused_with_a_clear_error(attack, words, tmp_path):
    with pytest.raises(ParseError) as info:
        parse(attack)
    assert words in str(info.value)


def test_refusing_executes_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    calls = []
    monkeypatch.setattr("builtins.__import__", _spy(__import__, calls))
    for attack in (f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')"):
        with pytest.raises(ParseError):
            parse(attack)
    assert not marker.exists()
    assert "os" not in calls


def _spy(real_import, calls):
    def spy(name, *args, **kwargs):
        calls.append(name)
        return real_import(name, *args, **kwargs)

    return spy


@pytest.mark.parametrize("text", ["9**9**9", "9^9^9", "10^1001", "2^(10^10)", "99999999^999", "1e2000"])
def test_huge_numbers_are_refused_quickly_not_computed(text):
    start = time.perf_counter()
    with pytest.raises(ParseError, match="too large|digits"):
        parse(text)
    assert time.perf_counter() - start < 0.5


def test_symbolic_exponents_within_bounds_are_fine():
    assert parse("x^1000") == x**1000
    assert parse("2^x") == 2**x


def test_length_and_depth_are_bounded():
    with pytest.raises(ParseError, match="characters long"):
        parse("x+" * MAX_LENGTH + "x")
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("-" * (MAX_DEPTH + 1) + "x")
    assert parse("(" * 20 + "x" + ")" * 20) == x


def test_rows_read_vectors_matrices_and_points():
    assert parse_rows("2x, 3y") == [[2 * x, 3 * y]]
    assert parse_rows("1, 2; 3, 4") == [[1, 2], [3, 4]]
    assert parse_rows("(0, 0); (1, -1)") == [[0, 0], [1, -1]]
    with pytest.raises(ParseError) as info:
        parse_rows("1, 2; 3, (")
    assert info.value.column == 11  # the end of the input, after the open parenthesis
