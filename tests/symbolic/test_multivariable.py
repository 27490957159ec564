"""Gradients, Jacobians, Hessians and directional derivatives, with per-entry steps and evaluation."""

import pytest
import sympy as sp

from calcml.symbolic import SymbolicError, directional_derivative, gradient, hessian, jacobian, partial

x, y, z = sp.symbols("x y z", real=True)


def test_gradient_from_the_design_example():
    g = gradient("x**2*y + 3*x*y**2", ["x", "y"], at={"x": 2, "y": 3})
    # ∂/∂x = 2xy + 3y² = 12 + 27, ∂/∂y = x² + 6xy = 4 + 36
    assert g.value == sp.Matrix([39, 40])
    assert sp.simplify(g.result - sp.Matrix([2 * x * y + 3 * y**2, x**2 + 6 * x * y])) == sp.zeros(2, 1)
    assert g.entry(0).var == x and g.entry(1).var == y
    assert "entry (2, 1)" in g.text()


def test_jacobian_against_sympy():
    fs = ["x*y*z", "sin(x) + y^2", "exp(x*z)"]
    J = jacobian(fs, "x, y, z")
    reference = sp.Matrix([x * y * z, sp.sin(x) + y**2, sp.exp(x * z)]).jacobian([x, y, z])
    assert sp.simplify(J.result - reference) == sp.zeros(3, 3)
    assert jacobian("x*y, x + y", ["x", "y"], at={"x": 1, "y": 2}).value == sp.Matrix([[2, 1], [1, 1]])


def test_hessian_against_sympy_with_steps_per_entry():
    f = x**3 * y + sp.exp(x * y) + y**4
    H = hessian(f, ["x", "y"])
    assert sp.simplify(H.result - sp.hessian(f, (x, y))) == sp.zeros(2, 2)
    assert H.entry(0, 1).steps.expr == sp.diff(f, x)
    assert hessian("x^3 + x*y^2", ["x", "y"], at={"x": 1, "y": 2}).value == sp.Matrix([[6, 4], [4, 2]])


def test_directional_derivative_normalizes_the_direction():
    d = directional_derivative("x^2 + y^2", ["x", "y"], [3, 4], at={"x": 1, "y": 1})
    assert d.value == sp.Rational(14, 5)
    raw = directional_derivative("x^2 + y^2", ["x", "y"], [3, 4], at={"x": 1, "y": 1}, normalize=False)
    assert raw.value == 14
    with pytest.raises(SymbolicError, match="zero vector"):
        directional_derivative("x", ["x"], [0])
    with pytest.raises(SymbolicError, match="components"):
        directional_derivative("x*y", ["x", "y"], [1])


def test_partial_is_derive_with_others_constant():
    assert partial("x^2*y + y^3", "x").result == 2 * x * y
