"""Named rules, ML-style answers, immutable steps, renderings, and the self-check that withholds wrong steps."""

import dataclasses
import json

import pytest
import sympy as sp

from calcml.symbolic import Step, VerificationError, derive, parse, relu, sigmoid, softmax
from calcml.symbolic.verify import step_holds, verify_tree

x = sp.Symbol("x", real=True)


def rules(d):
    return [s.rule for s in d.flat]


@pytest.mark.parametrize(
    "text, rule",
    [
        ("7", "diff.constant"),
        ("x", "diff.identity"),
        ("3*x^2", "diff.constant_multiple"),
        ("x^2 + x", "diff.sum"),
        ("x^5", "diff.power"),
        ("x*sin(x)", "diff.product"),
        ("sin(x)/x", "diff.quotient"),
        ("sin(x^2)", "diff.chain"),
        ("exp(x)", "diff.exp"),
        ("2^x", "diff.exp_base"),
        ("log(x)", "diff.log"),
        ("log(x, 2)", "diff.log_base"),
        ("x^x", "diff.log_diff"),
        ("tan(x)", "diff.tan"),
        ("arctan(x)", "diff.atan"),
        ("cosh(x)", "diff.cosh"),
        ("abs(x)", "diff.abs"),
        ("max(0, x^2 - 1)", "diff.max"),
        ("sigmoid(x)", "ml.sigmoid"),
        ("relu(x)", "ml.relu"),
        ("softplus(x)", "ml.softplus"),
        ("logsumexp(a, x)", "ml.logsumexp"),
        ("softmax(1, x, a)", "ml.softmax"),
        ("-log(softmax(2, a, x, c))", "ml.cross_entropy_softmax"),
    ],
)
def test_each_rule_is_used_by_its_id(text, rule):
    assert rule in rules(derive(text, "x"))


def test_chain_rule_names_its_parts_and_children():
    d = derive("sin(x^2)", "x")
    chain = d.steps
    assert chain.rule == "diff.chain"
    u = sp.Symbol("u", real=True)
    assert chain.part("f") == sp.sin(u)
    assert chain.part("u") == x**2
    assert [c.rule for c in chain.children] == ["diff.sin", "diff.power"]
    assert chain.children[0].wrt == u and chain.children[0].result == sp.cos(u)
    assert d.result == 2 * x * sp.cos(x**2)


def test_ml_style_answers():
    assert derive("sigmoid(x)", "x").result == sigmoid(x) * (1 - sigmoid(x))
    assert derive("tanh(x)", "x").result == 1 - sp.tanh(x) ** 2
    assert derive("softplus(x)", "x").result == sigmoid(x)
    a, c = sp.symbols("a c", real=True)
    assert derive("-log(softmax(2, a, x, c))", "x").result == softmax(2, a, x, c) - 1  # p_x − y_x, y = one-hot(2)
    assert derive("-log(softmax(2, a, x, c))", "a").result == softmax(1, a, x, c)  # p_a − 0
    assert derive("logsumexp(a, x, c)", "x").result == softmax(2, a, x, c)
    z, y = sp.symbols("z y", real=True)
    assert derive("-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))", "z").result == sigmoid(z) - y


def test_relu_derivative_is_zero_at_zero_and_the_note_says_why():
    d = derive("relu(x)", "x")
    assert d.result == sp.Piecewise((0, x <= 0), (1, True))
    assert d.result.subs(x, 0) == 0
    assert sp.Heaviside(0) == sp.Rational(1, 2)  # SymPy's convention, which the note contrasts
    assert "Heaviside(0) is 1/2" in d.steps.note and "subgradient 0" in d.steps.note
    assert relu(x).rewrite(sp.Piecewise).subs(x, -2) == 0


def test_steps_are_immutable():
    step = derive("x^2", "x").steps
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.result = sp.Integer(0)
    assert isinstance(step.children, tuple) and isinstance(step.parts, tuple)


def test_flat_list_has_parents_before_children_and_every_step():
    d = derive("x*sin(x^2)", "x")
    flat = d.flat
    assert flat[0] is d.steps
    assert len(flat) == sum(1 for _ in d.steps.walk())
    for i, step in enumerate(flat):
        for child in step.children:
            assert flat.index(child) > i


def test_renderings():
    d = derive("sin(x^2)", "x")
    text = d.text()
    assert "chain rule" in text and "d/dx [sin(x**2)] = 2*x*cos(x**2)" in text and "u = x**2" in text
    assert r"\frac{d}{dx}" in d.latex() and d._repr_latex_().startswith("$$")
    assert "<ul" in d.html() and "<b>chain rule</b>" in d._repr_html_() and "diff.chain" not in d.html()
    payload = json.loads(json.dumps(d.to_dict()))
    assert payload["result"] == "2*x*cos(x**2)" and payload["steps"]["children"][0]["rule"] == "diff.sin"


def test_a_simplification_step_is_shown_and_checked():
    d = derive("(x^2 + 1)/(x - 1)", "x")
    assert d.steps.rule == "diff.result"
    simplify = d.steps.children[1]
    assert simplify.rule == "algebra.simplify" and simplify.kind == "equal"
    assert simplify.result == d.result


def test_a_wrong_step_is_caught_and_withheld():
    wrong = Step("diff.power", x**3, 3 * x**3, x)  # should be 3x²
    assert not step_holds(wrong)
    tree = Step("diff.sum", x**3 + x, 3 * x**3 + 1, x, children=(wrong, Step("diff.identity", x, sp.Integer(1), x)))
    with pytest.raises(VerificationError, match="sum rule"):  # the first wrong step, parents first
        verify_tree(tree)


def test_a_step_off_by_a_tiny_constant_is_caught():
    assert not step_holds(Step("diff.power", x**2, 2 * x + sp.Rational(1, 10**6), x))


def test_partial_derivative_treats_other_symbols_as_constants():
    d = derive("x^2*y + 3*x*y^2", "y")
    y = d.var
    assert sp.expand(d.result - (x**2 + 6 * x * y)) == 0
    assert "diff.constant_multiple" in rules(d)


def test_unknown_variable_means_derivative_zero_and_missing_variable_is_explained():
    assert derive("x^2", "t").result == 0
    with pytest.raises(ValueError, match="say which variable"):
        derive("x*y")


def test_accepts_sympy_expressions_too():
    assert derive(sp.sin(x) ** 2, x).result == 2 * sp.sin(x) * sp.cos(x)
    assert derive(parse("x^3"), "x", order=3).result == 6


def test_every_rule_id_in_the_source_has_a_readable_name():
    """The one table of names (rule_catalog.RULES) covers every id a step can carry: none is shown raw."""
    import pathlib
    import re

    import calcml
    from calcml.symbolic.rule_catalog import RULES, rule_title

    source = pathlib.Path(calcml.__file__).parent
    pattern = re.compile(r"\"((?:diff|ml|int|algebra|sum|product)\.[a-z_]+)\"")
    ids = {rule for path in source.rglob("*.py") for rule in pattern.findall(path.read_text(encoding="utf-8"))}
    assert {"diff.chain", "diff.power", "int.parts", "ml.sigmoid"} <= ids
    assert sorted(ids - set(RULES)) == []
    assert rule_title("diff.chain") == "chain rule" and rule_title("diff.power") == "power rule"


def test_powers_of_the_ml_functions_print_as_latex():
    # SymPy passes exp= to a function's _latex for σ(z)**2; the ML functions once refused it (TypeError)
    import sympy as sp

    from calcml.symbolic.ml_functions import logsumexp, relu, sigmoid, softplus

    z, w = sp.symbols("z w")
    assert sp.latex(sigmoid(z) ** 2) == r"\sigma^{2}\left(z\right)"
    assert sp.latex(relu(z) ** 3) == r"\operatorname{relu}^{3}\left(z\right)"
    assert sp.latex(softplus(z) ** 2) == r"\operatorname{softplus}^{2}\left(z\right)"
    assert sp.latex(logsumexp(z, w) ** 2) == r"\operatorname{logsumexp}^{2}\left(z, w\right)"
    assert sp.latex(sigmoid(z)) == r"\sigma\left(z\right)"
