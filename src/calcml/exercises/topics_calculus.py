"""Topics of chapters 3 and 5 with numbers: directional derivatives, Jacobian matrices, a Newton step."""

from __future__ import annotations

import random

import sympy as sp

from calcml.exercises.drawing import integers
from calcml.exercises.exercise import Problem, Topic

X, Y, Z = sp.symbols("x y z", real=True)
_TRIPLES = ((3, 4, 5), (5, 12, 13), (8, 15, 17), (1, 2, 2))


def _polynomial(rng: random.Random, variables, terms: int) -> sp.Expr:
    f = sp.Integer(0)
    while not all(f.has(v) for v in variables):
        f = sum(c * sp.Mul(*[v ** rng.randint(0, 2) for v in variables])
                for c in integers(rng, terms, -4, 4, nonzero=True))
    return sp.expand(f)


def _directional_derivatives(rng: random.Random, level: int) -> Problem:
    variables = (X, Y, Z) if level == 3 else (X, Y)
    f = _polynomial(rng, variables, 2 + level)
    if level == 2:
        f += rng.choice([sp.exp(X * Y), sp.sin(X - Y), sp.log(1 + X**2 + Y**2)])
    point = integers(rng, len(variables), -2, 2)
    triple = (1, 2, 2, 3) if level == 3 else rng.choice(_TRIPLES[:3])
    direction = [sp.Integer(c * rng.choice((1, -1))) for c in triple[: len(variables)]]
    length = sp.sqrt(sum(c**2 for c in direction))
    at = dict(zip(variables, point, strict=True))
    gradient = sp.Matrix([sp.diff(f, v).subs(at) for v in variables])
    v = sp.Matrix(direction)
    expected = sp.simplify((gradient.T * v)[0] / length)
    names = ", ".join(map(str, variables))
    return Problem(
        (f"Find the directional derivative of f({names}) = ", f, " at the point ", sp.Tuple(*point),
         " in the direction of v = ", sp.Tuple(*direction), " (normalize v first)."),
        "value", expected, question=f,
        steps=(f"∇f = ({', '.join(sp.sstr(sp.diff(f, v)) for v in variables)})",
               f"∇f at the point = ({', '.join(sp.sstr(g) for g in gradient)})",
               f"‖v‖ = {sp.sstr(length)}, u = v/‖v‖",
               f"D_u f = ∇f · u = {sp.sstr(expected)}"),
        mistakes=(((gradient.T * v)[0], "the direction must be a unit vector: divide v by its length ‖v‖"),),
        given={"f": f, "variables": variables, "point": point, "direction": direction},
    )


def _jacobians(rng: random.Random, level: int) -> Problem:
    pieces = [X * Y, X**2, Y**2, sp.sin(X), sp.exp(Y), sp.cos(X * Y), sp.exp(X - Y), X**2 * Y]
    outputs = 3 if level == 3 else 2
    components = []
    for _ in range(outputs):
        a, b = rng.sample(pieces if level > 1 else pieces[:3], 2)
        c1, c2 = integers(rng, 2, -3, 3, nonzero=True)
        components.append(c1 * a + c2 * b)
    F = sp.Matrix(components)
    J = F.jacobian([X, Y])
    if level == 3:
        point = dict(zip((X, Y), integers(rng, 2, -1, 1), strict=True))
        segments = ("Find the Jacobian matrix J = ∂F/∂(x, y) of F(x, y) = ", F, " at the point ",
                    sp.Tuple(point[X], point[Y]), " (3 rows, one per output; 2 columns, one per input).")
        expected, variables, given = J.subs(point), (), {"F": F, "point": (point[X], point[Y])}
    else:
        segments = ("Find the Jacobian matrix J = ∂F/∂(x, y) of F(x, y) = ", F,
                    " (one row per output, one column per input).")
        expected, variables, given = J, (X, Y), {"F": F, "point": None}
    mistakes = ((expected.T, "that is the transpose: row i of J holds the partial derivatives of output i"),)
    return Problem(segments, "matrix", expected, question=F, variables=variables,
                   steps=tuple(f"row {i + 1}: ∇({sp.sstr(c)}) = {sp.sstr(list(J.row(i)))}"
                               for i, c in enumerate(components)) + (f"J = {sp.sstr(expected.tolist())}",),
                   mistakes=mistakes if J.shape[0] == J.shape[1] else (), given=given)


def _newton_step(rng: random.Random, level: int) -> Problem:
    if level == 3:
        f = _polynomial(rng, (X, Y), 3) + X**4 / 4 + Y**2
        x0 = integers(rng, 2, -2, 2, nonzero=True)
        at = {X: x0[0], Y: x0[1]}
        g = sp.Matrix([sp.diff(f, v) for v in (X, Y)]).subs(at)
        H = sp.hessian(f, (X, Y)).subs(at)
        if H.det() == 0:
            return _newton_step(rng, level)
        step = H.inv() * g
        expected = sp.Matrix(x0) - step
        return Problem(("Take one Newton step x₁ = x₀ − H⁻¹∇f(x₀) for f(x, y) = ", f, " from x₀ = ",
                        sp.Tuple(*x0), "."), "vector", expected, question=f,
                       steps=(f"∇f(x₀) = {sp.sstr(list(g))}", f"H(x₀) = {sp.sstr(H.tolist())}",
                              f"x₁ = x₀ − H⁻¹∇f = {sp.sstr(list(expected))}"),
                       mistakes=((sp.Matrix(x0) - g, "that is a gradient step: Newton divides by the Hessian"),
                                 (sp.Matrix(x0) + step, "the sign is flipped: x₁ = x₀ − H⁻¹∇f")),
                       given={"f": f, "variables": (X, Y), "x0": x0})
    degree = 2 if level == 1 else rng.choice((3, 4))
    f = sp.Integer(0)
    while sp.diff(f, X, 2) == 0:
        f = sum(c * X**k for k, c in enumerate(integers(rng, degree + 1, -3, 3), start=0)) + X**degree
    x0 = integers(rng, 1, -2, 3)[0]
    d1, d2 = sp.diff(f, X).subs(X, x0), sp.diff(f, X, 2).subs(X, x0)
    if d2 == 0:
        return _newton_step(rng, level)
    expected = x0 - d1 / d2
    return Problem(("Take one Newton step x₁ = x₀ − f′(x₀)/f″(x₀) for minimizing f(x) = ", f, " from x₀ = ",
                    x0, "."), "value", expected, question=f,
                   steps=(f"f′(x) = {sp.sstr(sp.diff(f, X))}, f″(x) = {sp.sstr(sp.diff(f, X, 2))}",
                          f"f′({x0}) = {d1}, f″({x0}) = {d2}", f"x₁ = {x0} − ({d1})/({d2}) = {expected}"),
                   mistakes=((x0 - d1, "that is a gradient step with η = 1: Newton divides by f″(x₀)"),
                             (x0 + d1 / d2, "the sign is flipped: x₁ = x₀ − f′/f″")),
                   given={"f": f, "variables": (X,), "x0": [x0]})


TOPICS = (
    Topic("directional-derivatives", 3, "directional derivatives", _directional_derivatives),
    Topic("jacobians", 5, "Jacobian matrices", _jacobians),
    Topic("newton-step", 5, "a Newton step", _newton_step),
)
