"""Every corpus expression is differentiated correctly (SymPy is the reference) with verified steps."""

import random

import pytest
import sympy as sp

from calcml.symbolic import derive, parse, to_elementary
from calcml.symbolic.verify import step_holds
from tests.symbolic.corpus import INTRO, ML, ML_WITH_RESPECT_TO

CASES = [(e, "x") for e in INTRO if "x" in e or e == "7"]
CASES += [(e, v) for e in ML for v in ML_WITH_RESPECT_TO.get(e, ["x" if "x" in e else "z"])]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 150
    assert len(ML) >= 50


def _value(expr, point):
    try:
        value = complex(sp.N(expr.xreplace(point), 25))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return value if all(map(lambda v: abs(v) < 1e12, (value.real, value.imag))) else None


def _agree_with_sympy(mine, expr, var, seed):
    """Compare with sympy.diff of the elementary form at random points (both signs)."""
    reference = sp.diff(to_elementary(expr), var)
    claim = to_elementary(mine)
    symbols = sorted(reference.free_symbols | claim.free_symbols | {var}, key=lambda s: s.name)
    rng = random.Random(seed)
    compared = 0
    for i in range(12):
        point = {
            s: sp.Float(rng.uniform(0.15, 0.9) * (1 if i % 3 else -1) + (0 if i % 3 else -0.3), 25) for s in symbols
        }
        a, b = _value(claim, point), _value(reference, point)
        if a is None or b is None:
            continue
        assert abs(a - b) <= 1e-12 * max(1, abs(b)), f"at {point}: calcml {a}, sympy {b}"
        compared += 1
    assert compared >= 3


@pytest.mark.parametrize("text, var", CASES, ids=[f"{v}:{e}" for e, v in CASES])
def test_derivative_matches_sympy_and_every_step_checks_out(text, var):
    d = derive(text, var)
    x = d.var
    assert x.name == var
    _agree_with_sympy(d.result, parse(text), x, seed=sum(map(ord, text)))
    assert d.steps.result == d.result
    for step in d.flat:
        assert step_holds(step), step.line()
        assert step.rule.split(".")[0] in ("diff", "ml", "algebra")


@pytest.mark.parametrize("text", ["sin(x^2)", "sigmoid(x)", "x^x", "relu(x)^3", "tanh(x)"])
def test_second_derivatives_match_sympy(text):
    d = derive(text, "x", order=2)
    assert d.steps.rule == "diff.higher_order" and len(d.steps.children) == 2
    _agree_with_sympy(d.result, sp.diff(parse(text), d.var), d.var, seed=1)
