"""Critical points classified by Hessian eigenvalues; convexity proved or sampled (and saying which)."""

import sympy as sp

from calcml.symbolic import critical_points, is_convex

x, y = sp.symbols("x y", real=True)


def test_critical_points_of_a_saddle_and_a_minimum():
    cps = critical_points("x^3 - 3x + y^2", ["x", "y"])
    assert [(p.point["x"], p.point["y"], p.kind) for p in cps] == [(-1, 0, "saddle"), (1, 0, "minimum")]
    assert sorted(cps[0].eigenvalues) == [-6, 2]
    assert cps[1].value == -2


def test_maximum_and_degenerate():
    (top,) = critical_points("-(x - 1)^2 - 2(y + 2)^2", ["x", "y"])
    assert top.kind == "maximum" and top.point == {"x": 1, "y": -2}
    (flat,) = critical_points("x^4 + y^4", ["x", "y"])
    assert flat.kind == "degenerate" and flat.eigenvalues == (0, 0)


def test_one_variable_with_trigonometry():
    kinds = {p.point["x"]: p.kind for p in critical_points("sin(x)", ["x"])}
    assert kinds[sp.pi / 2] == "maximum" and kinds[3 * sp.pi / 2] == "minimum"


def test_convexity_proved_where_sympy_can_decide():
    for f in ("x^2 + y^2", "exp(x)", "softplus(x)", "logsumexp(x, y)", "x^2 + x*y + y^2"):
        verdict = is_convex(f)
        assert verdict.convex and verdict.proved, (f, verdict)


def test_sampled_verdicts_say_they_are_sampled():
    for f, convex in (
        ("sigmoid(x)", False),
        ("x^3", False),
        ("x*y", False),
        ("-relu(x)", False),
        ("relu(x)", True),
        ("abs(x) + y^2", True),
        ("max(x, y)", True),
    ):
        verdict = is_convex(f)
        assert verdict.convex is convex, (f, verdict)
        assert verdict.method == "sampled" and not verdict.proved
        if convex:
            assert "evidence, not a proof" in verdict.reason
        else:
            assert verdict.counterexample is not None


def test_concave_everywhere_is_refuted_symbolically():
    verdict = is_convex("-x^2")
    assert not verdict.convex and verdict.proved
