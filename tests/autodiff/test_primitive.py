"""Declaring a primitive's rules: the ``def…`` methods of ``Primitive`` are the one way, and they work."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import calcml as cm
from calcml.autodiff.errors import NoForwardRuleError
from calcml.autodiff.primitive import Primitive
from tests.autodiff.checks import assert_grad_matches_finite_differences, assert_jvp_agrees_with_vjp

SOURCE = Path(cm.__file__).parent
RULE_STORES = {"vjps", "jvps", "_vjp_argnum", "_jvp_all", "vmap_rule"}


def test_defpartials_gives_both_modes_from_the_local_partials():
    # f(x, y) = x·sin y:  ∂f/∂x = sin y, ∂f/∂y = x·cos y
    f = Primitive(lambda x, y: x * np.sin(y), name="x_sin_y_test", broadcasts=True)
    assert f.defpartials(lambda ans, x, y: np.sin(y), lambda ans, x, y: x * np.cos(y)) is f
    x, y = np.array([0.5, -1.5, 2.0]), np.array([0.3, 1.1, -2.4])
    gx, gy = cm.grad(lambda x, y: np.sum(f(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.sin(y), rtol=1e-15)
    np.testing.assert_allclose(gy, x * np.cos(y), rtol=1e-15)
    assert_grad_matches_finite_differences(lambda x, y: np.sum(f(x, y) ** 2), x, y)
    assert_jvp_agrees_with_vjp(lambda x, y: f(x, y), x, y)


def test_defvjp_argnum_and_defjvp_all_serve_any_number_of_arguments():
    # weighted(x_0, …, x_{n−1}) = Σ_k (k + 1) x_k:  ∂/∂x_k = k + 1,  ṫ_out = Σ_k (k + 1) ṫ_k
    weighted = Primitive(lambda *xs: sum((k + 1) * x for k, x in enumerate(xs)), name="weighted_sum_test")
    weighted.defvjp_argnum(lambda argnum, g, ans, *xs: (argnum + 1) * g)
    weighted.defjvp_all(lambda tangents, ans, *xs: sum((k + 1) * t for k, t in enumerate(tangents) if t is not None))
    for n in (1, 3, 5):
        xs = [np.full(2, float(k)) for k in range(n)]
        grads = cm.grad(lambda *xs: np.sum(np.sin(weighted(*xs))), argnums=tuple(range(n)))(*xs)
        slope = np.cos(sum((k + 1) * x for k, x in enumerate(xs)))
        for k, g in enumerate(grads):
            np.testing.assert_allclose(g, (k + 1) * slope, rtol=1e-15)
        assert_jvp_agrees_with_vjp(lambda *xs: np.sin(weighted(*xs)), *xs)


def test_an_argument_without_a_rule_is_named_in_the_error():
    scale = Primitive(lambda x, factor: x * factor, name="scale_test").defvjp(lambda g, ans, x, factor: g * factor)
    with pytest.raises(cm.OperationError, match="'scale_test' has no gradient with respect to its argument 1"):
        cm.grad(lambda f: np.sum(scale(np.ones(2), f)))(np.array(2.0))
    with pytest.raises(NoForwardRuleError, match="argument 0"):
        cm.jvp(lambda x: scale(x, 2.0), (np.ones(2),), (np.ones(2),))


def _rule_writes(tree: ast.AST) -> list[int]:
    """Lines that store a rule by hand: ``p.vjps[i] = …``, ``p._jvp_all = …`` and the like."""
    lines = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in targets:
            if isinstance(target, ast.Subscript):
                target = target.value
            if isinstance(target, ast.Attribute) and target.attr in RULE_STORES:
                lines.append(node.lineno)
    return lines


def test_rules_are_declared_only_through_the_primitive_methods():
    assert _rule_writes(ast.parse("p.vjps[0] = r\nq._jvp_all = r\np.defvjp(r)\n")) == [1, 2]
    offenders = [f"{path.relative_to(SOURCE)}:{line}" for path in sorted(SOURCE.rglob("*.py"))
                 if path != SOURCE / "autodiff" / "primitive.py"
                 for line in _rule_writes(ast.parse(path.read_text(encoding="utf-8")))]
    assert offenders == [], "declare rules with defvjp/defjvp/defpartials/defvjp_argnum/defjvp_all/defvmap"
