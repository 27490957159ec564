"""The classic calculus topics (chapters 1-7): derivative rules, partial derivatives, gradients, Hessians,
critical points, integrals and limits. Each draws a question; calcml.symbolic solves it and the solution is
checked independently (see :mod:`calcml.exercises.problems`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import sympy as sp

from calcml.exercises.exercise import Problem, Topic
from calcml.exercises.notation import unicode_math
from calcml.symbolic.ml_functions import sigmoid

X, Y, Z = sp.symbols("x y z", real=True)


def _coefficient(rng: random.Random, low: int = 1, high: int = 9, signed: bool = True) -> int:
    c = rng.randint(low, high)
    return -c if signed and rng.random() < 0.3 else c


def _power_rule(rng: random.Random, level: int):
    exponents = {
        1: [2, 3, 4, 5, 6],
        2: [-1, -2, 2, 3, 4, sp.Rational(1, 2)],
        3: [sp.Rational(1, 2), sp.Rational(3, 2), sp.Rational(-1, 2), -3, sp.Rational(2, 3), 5],
    }[level]
    chosen = rng.sample(exponents, 2 + level // 2)
    f = sp.Add(*[_coefficient(rng) * X**n for n in chosen]) + rng.randint(0, 9)
    domain = {"x": (0.1, 3)} if level > 1 else {}
    return Problem(("Differentiate f(x) = ", f, " with respect to x."), "derivative", question=f, variables=(X,),
                   domain=domain)


_FACTORS = [
    lambda r: X ** r.randint(2, 4),
    lambda r: sp.sin(X),
    lambda r: sp.cos(X),
    lambda r: sp.exp(X),
    lambda r: sp.exp(r.randint(2, 3) * X),
    lambda r: X + r.randint(1, 5),
    lambda r: sp.log(X),
    lambda r: sp.sqrt(X),
]


def _product_rule(rng: random.Random, level: int):
    picks = rng.sample(range(len(_FACTORS)), 2 if level < 3 else 3)
    if level == 1:
        picks = [0, rng.choice([1, 2, 3])]
    factors = [_FACTORS[i](rng) for i in picks]
    f = sp.Mul(*factors)
    domain = {"x": (0.1, 3)} if f.has(sp.log) or f.has(sp.sqrt(X)) else {}
    product_of_slopes = sp.Mul(*[sp.diff(g, X) for g in factors])
    return Problem(("Differentiate f(x) = ", f, " with respect to x (product rule)."), "derivative", question=f,
                   variables=(X,), domain=domain,
                   mistakes=((product_of_slopes, "the product rule is (fg)′ = f′g + fg′, not f′g′"),))


def _quotient_rule(rng: random.Random, level: int):
    numerators = [X ** rng.randint(1, 3), sp.sin(X), sp.exp(X), X + rng.randint(1, 5)]
    denominators = [X**2 + rng.randint(1, 4), X + rng.randint(1, 5), 1 + sp.exp(X), sp.cos(X) + 2]
    top = numerators[0 if level == 1 else rng.randrange(len(numerators))]
    bottom = denominators[rng.randrange(2 if level == 1 else len(denominators))]
    f = top / bottom
    dtop, dbottom = sp.diff(top, X), sp.diff(bottom, X)
    mistakes = (((dtop * bottom + top * dbottom) / bottom**2, "the numerator is f′g − fg′: a minus sign"),
                ((dtop * bottom - top * dbottom) / bottom, "divide by g², the square of the denominator"))
    return Problem(("Differentiate f(x) = ", f, " with respect to x (quotient rule)."), "derivative", question=f,
                   variables=(X,), domain={"x": (0, 3)}, mistakes=mistakes)


def _chain_rule(rng: random.Random, level: int):
    inner = _coefficient(rng, 2, 5, signed=False) * X ** rng.randint(1, 3) + rng.randint(1, 5)
    outers: list[Callable[[sp.Expr], sp.Expr]] = [
        sp.sin,
        sp.cos,
        sp.exp,
        lambda u: u ** rng.randint(3, 7),
        sp.sqrt,
        sp.log,
        sp.tanh,
        sigmoid,
    ]
    pool = outers[:4] if level == 1 else outers
    f = rng.choice(pool)(inner)
    if level == 3:
        f = rng.choice(outers[:3] + [sigmoid])(f)
    u = sp.Symbol("u", real=True)
    outer_slope_only = sp.diff(f.subs(inner, u), u).subs(u, inner)
    hint = f"multiply by the derivative of the inner function {unicode_math(inner)} too"
    return Problem(("Differentiate f(x) = ", f, " with respect to x (chain rule)."), "derivative", question=f,
                   variables=(X,), domain={"x": (0.1, 2)}, mistakes=((outer_slope_only, hint),))


def _two_variable_function(rng: random.Random, level: int, variables=(X, Y)) -> sp.Expr:
    terms = []
    for _ in range(2 + level):
        powers = [rng.randint(0, 3) for _ in variables]
        terms.append(_coefficient(rng) * sp.Mul(*[v**p for v, p in zip(variables, powers, strict=True)]))
    if level >= 2:
        a, b = variables[0], variables[1]
        terms.append(rng.choice([sp.sin(a * b), sp.exp(a * b), sp.exp(a) * b, sp.cos(a + b)]))
    return sp.Add(*terms)


def _partial_derivatives(rng: random.Random, level: int):
    f = _two_variable_function(rng, level)
    v = rng.choice([X, Y])
    return Problem((f"Find ∂f/∂{v} for f(x, y) = ", f, " (the other variable is constant)."), "derivative",
                   question=f, variables=(v,))


def _gradients(rng: random.Random, level: int):
    variables = (X, Y, Z) if level == 3 else (X, Y)
    f = _two_variable_function(rng, level, variables)
    names = ", ".join(map(str, variables))
    return Problem((f"Find the gradient ∇f of f({names}) = ", f, "."), "vector", question=f, variables=variables)


def _hessians(rng: random.Random, level: int):
    f = _two_variable_function(rng, min(level, 2))
    return Problem(("Find the Hessian matrix of f(x, y) = ", f, "."), "matrix", question=f, variables=(X, Y))


def _critical_points(rng: random.Random, level: int):
    p, q = rng.randint(-3, 3), rng.randint(-3, 3)
    if level == 1:
        r1, r2 = sorted(rng.sample(range(-4, 5), 2))
        f = X**3 / 3 - sp.Rational(r1 + r2, 2) * X**2 + r1 * r2 * X
        return Problem(("Find all critical points of f(x) = ", f, "."), "points", question=f, variables=(X,))
    s = rng.choice([1, -1])
    if level == 2:
        f = rng.randint(1, 3) * (X - p) ** 2 + s * rng.randint(1, 3) * (Y - q) ** 2
    else:
        a = rng.randint(1, 3)
        f = X**3 - 3 * a**2 * X + s * (Y - q) ** 2
    f = sp.expand(f)
    return Problem(("Find all critical points of f(x, y) = ", f, "."), "points", question=f, variables=(X, Y))


def _integrals(rng: random.Random, level: int):
    k, b = rng.randint(2, 5), rng.randint(1, 4)
    pools = {
        1: [
            _coefficient(rng) * X ** rng.randint(1, 5) + _coefficient(rng) * X + rng.randint(1, 9),
            1 / X,
            X ** rng.randint(2, 6),
        ],
        2: [sp.exp(k * X), sp.sin(k * X + b), sp.cos(k * X), 1 / (X + b), sp.sqrt(X), 1 / (1 + X**2)],
        3: [X * sp.exp(X), X * sp.sin(X), X * sp.cos(k * X), 2 * X / (X**2 + b), X * sp.exp(X**2), sp.log(X)],
    }
    f = rng.choice(pools[level])
    domain = {"x": (0.1, 3)}
    return Problem(("Find an antiderivative ∫ ", f, " dx."), "antiderivative", question=f, variables=(X,),
                   domain=domain)


def _limits(rng: random.Random, level: int):
    a, k = rng.randint(1, 4), rng.randint(2, 5)
    pools = {
        1: [((X**2 - a**2) / (X - a), a), ((X**2 + k * X) / X, 0), ((X**3 - a**3) / (X - a), a)],
        2: [(sp.sin(k * X) / X, 0), ((sp.exp(k * X) - 1) / X, 0), ((1 - sp.cos(X)) / X**2, 0)],
        3: [((1 + sp.Rational(k) / X) ** X, sp.oo), ((sp.sqrt(X + a**2) - a) / X, 0), (sp.tan(k * X) / sp.sin(X), 0)],
    }
    f, point = rng.choice(pools[level])
    shown = sp.Integer(point) if isinstance(point, int) else point
    return Problem(("Find the limit of ", f, " as x → ", shown, "."), "value", question=(f, point),
                   variables=(X,), given={"f": f, "point": shown})


TOPICS = (
    Topic("limits", 1, "limits", _limits),
    Topic("power-rule", 2, "the power rule", _power_rule),
    Topic("product-rule", 2, "the product rule", _product_rule),
    Topic("quotient-rule", 2, "the quotient rule", _quotient_rule),
    Topic("chain-rule", 2, "the chain rule", _chain_rule),
    Topic("partial-derivatives", 3, "partial derivatives", _partial_derivatives),
    Topic("gradients", 3, "gradients", _gradients),
    Topic("hessians", 5, "Hessian matrices", _hessians),
    Topic("critical-points", 6, "critical points", _critical_points),
    Topic("integrals", 7, "antiderivatives", _integrals),
)
