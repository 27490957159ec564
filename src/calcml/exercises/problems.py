"""Reproducible exercises: the same (topic, difficulty, seed) always gives the same problem.

Each generator draws a problem from a seeded ``random.Random``, solves it with calcml.symbolic
and keeps it only if the reference solution checks out against an independent test (SymPy's own
derivative, the derivative of the antiderivative, ∇f = 0 at the points, the function's values
near the limit point); otherwise it draws again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from calcml.exercises.checking import CheckResult, check, check_expression
from calcml.symbolic import critical_points, derive, gradient, hessian, integrate, limit
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.ml_functions import sigmoid, to_elementary
from calcml.symbolic.workers import runs_in_worker

X, Y, Z = sp.symbols("x y z", real=True)
DIFFICULTIES = {"easy": 1, "medium": 2, "hard": 3}


@dataclass(frozen=True)
class Exercise:
    """A problem: ``prompt`` to show, ``expected`` answer of ``kind`` (see calcml.exercises.check),
    the worked ``solution`` (a Derivation, DerivativeTable, Integration, LimitResult or CriticalPoints)."""

    topic: str
    difficulty: int
    seed: int
    prompt: str
    question: sp.Expr
    variables: tuple[sp.Symbol, ...]
    kind: str
    expected: object
    solution: object
    domain: dict = field(default_factory=dict)
    answer_format: str = "an expression such as 2*x*cos(x^2)"

    def check(self, answer) -> CheckResult:
        """Check an answer (a string is parsed safely) against this exercise's expected answer."""
        return check(answer, self)

    @property
    def answer_text(self) -> str:
        """The expected answer as text that the parser reads back."""
        if self.kind == "points":
            return "; ".join("(" + ", ".join(sp.sstr(v) for v in p) + ")" for p in self.expected)
        if self.kind == "matrix":
            return "; ".join(", ".join(sp.sstr(v) for v in row) for row in self.expected.tolist())
        if self.kind == "vector":
            return ", ".join(sp.sstr(v) for v in self.expected)
        suffix = " + C" if self.kind == "antiderivative" else ""
        return sp.sstr(self.expected) + suffix

    def solution_text(self) -> str:
        """The worked solution, step by step."""
        return self.solution.text()


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
    return f"Differentiate f(x) = {f} with respect to x.", f, (X,), "derivative", domain


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
    f = sp.Mul(*[_FACTORS[i](rng) for i in picks])
    domain = {"x": (0.1, 3)} if f.has(sp.log) or f.has(sp.sqrt(X)) else {}
    return f"Differentiate f(x) = {f} with respect to x (product rule).", f, (X,), "derivative", domain


def _quotient_rule(rng: random.Random, level: int):
    numerators = [X ** rng.randint(1, 3), sp.sin(X), sp.exp(X), X + rng.randint(1, 5)]
    denominators = [X**2 + rng.randint(1, 4), X + rng.randint(1, 5), 1 + sp.exp(X), sp.cos(X) + 2]
    top = numerators[0 if level == 1 else rng.randrange(len(numerators))]
    bottom = denominators[rng.randrange(2 if level == 1 else len(denominators))]
    f = top / bottom
    return f"Differentiate f(x) = {f} with respect to x (quotient rule).", f, (X,), "derivative", {"x": (0, 3)}


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
    return f"Differentiate f(x) = {f} with respect to x (chain rule).", f, (X,), "derivative", {"x": (0.1, 2)}


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
    return f"Find ∂f/∂{v} for f(x, y) = {f} (the other variable is constant).", f, (v,), "derivative", {}


def _gradients(rng: random.Random, level: int):
    variables = (X, Y, Z) if level == 3 else (X, Y)
    f = _two_variable_function(rng, level, variables)
    names = ", ".join(map(str, variables))
    return f"Find the gradient of f({names}) = {f}.", f, variables, "vector", {}


def _hessians(rng: random.Random, level: int):
    f = _two_variable_function(rng, min(level, 2))
    return f"Find the Hessian matrix of f(x, y) = {f}.", f, (X, Y), "matrix", {}


def _critical_points(rng: random.Random, level: int):
    p, q = rng.randint(-3, 3), rng.randint(-3, 3)
    if level == 1:
        r1, r2 = sorted(rng.sample(range(-4, 5), 2))
        f = X**3 / 3 - sp.Rational(r1 + r2, 2) * X**2 + r1 * r2 * X
        return f"Find all critical points of f(x) = {f}.", f, (X,), "points", {}
    s = rng.choice([1, -1])
    if level == 2:
        f = rng.randint(1, 3) * (X - p) ** 2 + s * rng.randint(1, 3) * (Y - q) ** 2
    else:
        a = rng.randint(1, 3)
        f = X**3 - 3 * a**2 * X + s * (Y - q) ** 2
    f = sp.expand(f)
    return f"Find all critical points of f(x, y) = {f}.", f, (X, Y), "points", {}


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
    return f"Find an antiderivative ∫ {f} dx.", f, (X,), "antiderivative", domain


def _limits(rng: random.Random, level: int):
    a, k = rng.randint(1, 4), rng.randint(2, 5)
    pools = {
        1: [((X**2 - a**2) / (X - a), a), ((X**2 + k * X) / X, 0), ((X**3 - a**3) / (X - a), a)],
        2: [(sp.sin(k * X) / X, 0), ((sp.exp(k * X) - 1) / X, 0), ((1 - sp.cos(X)) / X**2, 0)],
        3: [((1 + sp.Rational(k) / X) ** X, sp.oo), ((sp.sqrt(X + a**2) - a) / X, 0), (sp.tan(k * X) / sp.sin(X), 0)],
    }
    f, point = rng.choice(pools[level])
    return f"Find the limit of {f} as x → {point}.", (f, point), (X,), "value", {}


_TOPICS: dict[str, Callable] = {
    "power-rule": _power_rule,
    "product-rule": _product_rule,
    "quotient-rule": _quotient_rule,
    "chain-rule": _chain_rule,
    "partial-derivatives": _partial_derivatives,
    "gradients": _gradients,
    "hessians": _hessians,
    "critical-points": _critical_points,
    "integrals": _integrals,
    "limits": _limits,
}
TOPICS = tuple(_TOPICS)
_FORMATS = {
    "derivative": "an expression such as 2*x*cos(x^2)",
    "vector": "components separated by commas, e.g. 2*x*y, x^2",
    "matrix": "rows separated by ';' and entries by ',', e.g. 2, 0; 0, 2",
    "points": "points separated by ';', e.g. (0, 0); (1, -1)",
    "antiderivative": "an expression, e.g. x^3/3 + C",
    "value": "a number or expression, e.g. 2, pi/4, oo",
}


def _solve(kind: str, question, variables: tuple[sp.Symbol, ...]):
    """(expected answer, worked solution) computed by calcml.symbolic, then checked independently."""
    if kind == "derivative":
        solution = derive(question, variables[0])
        reference = sp.diff(to_elementary(question), variables[0])
        ok = check_expression(solution.result, reference).correct
        return solution.result, solution, ok
    if kind == "vector":
        solution = gradient(question, variables)
        reference = [sp.diff(question, v) for v in variables]
        ok = all(check_expression(a, b).correct for a, b in zip(solution.result, reference, strict=True))
        return solution.result, solution, ok
    if kind == "matrix":
        solution = hessian(question, variables)
        ok = sp.simplify(solution.result - sp.hessian(question, variables)) == sp.zeros(*solution.result.shape)
        return solution.result, solution, ok
    if kind == "points":
        solution = critical_points(question, variables)
        points = [tuple(p.point[v.name] for v in variables) for p in solution]
        ok = bool(points) and all(
            all(sp.diff(question, v).subs(dict(zip(variables, p, strict=True))) == 0 for v in variables) for p in points
        )
        return points, solution, ok
    if kind == "antiderivative":
        solution = integrate(question, variables[0])
        ok = check_expression(sp.diff(solution.result, variables[0]), question, {"x": (0.1, 3)}).correct
        return solution.result, solution, ok
    f, point = question[0], sp.Integer(question[1]) if isinstance(question[1], int) else question[1]
    solution = limit(f, variables[0], point)
    near = sp.Float(
        point + sp.Rational(1, 10**12) if point.is_finite else 10**12, 40
    )  # a float: never an exact huge power
    value = to_elementary(f).xreplace({variables[0]: near}).evalf(30)
    ok = solution.exists and solution.result.is_finite and abs(complex(value) - complex(solution.result)) < 1e-4
    return solution.result, solution, ok


@runs_in_worker("exercises.generate")
def generate(topic: str, difficulty: int | str = 1, seed: int = 0, *, timeout: float | None = 20.0) -> Exercise:
    """A reproducible exercise on ``topic`` (see ``TOPICS``) at ``difficulty`` 1-3 (or easy/medium/hard).

    Runs in a symbolic worker within ``timeout`` seconds (default 20: it may draw and solve up to 25
    candidate problems).

    >>> ex = generate("chain-rule", seed=3); print(ex.prompt)
    Differentiate f(x) = (2*x**2 + 1)**7 with respect to x (chain rule).
    >>> ex.check("14*x*(2*x**2 + 1)**6").verdict            # a factor 2 short
    'not equivalent'
    >>> ex.check("28*x*(2*x**2 + 1)**6").verdict
    'equivalent'
    """
    if not isinstance(topic, str):
        raise ValueError(f"the topic must be a name, one of: {', '.join(TOPICS)}; got {topic!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"the seed must be a whole number, got {seed!r}")
    key = topic.replace("_", "-").lower()
    if key not in _TOPICS:
        raise ValueError(f"unknown topic {topic!r}; choose one of: {', '.join(TOPICS)}")
    level = DIFFICULTIES.get(difficulty, difficulty) if isinstance(difficulty, str) else difficulty
    if level not in (1, 2, 3):
        raise ValueError(f"difficulty must be 1, 2, 3 or easy/medium/hard; got {difficulty!r}")
    rng = random.Random(f"{key}:{level}:{seed}")
    for _ in range(25):
        prompt, question, variables, kind, domain = _TOPICS[key](rng, level)
        try:
            expected, solution, ok = _solve(kind, question, variables)
        except SymbolicError:
            continue
        if ok:
            shown = question[0] if kind == "value" else question
            return Exercise(
                key, level, seed, prompt, shown, variables, kind, expected, solution, domain, _FORMATS[kind]
            )
    raise SymbolicError(f"could not generate a checked {key} exercise for seed {seed}; try another seed")
