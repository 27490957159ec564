"""Reproducible exercises: the same (topic, difficulty, seed) always gives the same problem.

Each topic's generator draws a problem from a seeded ``random.Random``. The classic topics are solved by
calcml.symbolic and kept only if the reference solution checks out against an independent test (SymPy's own
derivative, the derivative of the antiderivative, ∇f = 0 at the points, the function's values near the
limit point); the ML topics compute their answer in exact arithmetic. A problem that cannot be solved or
checked is drawn again.
"""

from __future__ import annotations

import random

import sympy as sp

from calcml.exercises.checking import check_expression
from calcml.exercises.exercise import FORMATS, Exercise, Problem, WorkedSolution
from calcml.exercises.notation import render
from calcml.exercises.topics import topic as find_topic
from calcml.symbolic import critical_points, derive, gradient, hessian, integrate, limit
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.workers import runs_in_worker

DIFFICULTIES = {"easy": 1, "medium": 2, "hard": 3}


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


def _answer(problem: Problem):
    """(expected, solution, ok): the generator's own answer, or calcml.symbolic's for a classic question."""
    if problem.expected is not None:
        return problem.expected, WorkedSolution(problem.steps), True
    return _solve(problem.kind, problem.question, problem.variables)


@runs_in_worker("exercises.generate")
def generate(topic: str, difficulty: int | str = 1, seed: int = 0, *, timeout: float | None = 20.0) -> Exercise:
    """A reproducible exercise on ``topic`` (see ``TOPICS`` and ``for_chapter``) at ``difficulty`` 1-3 (or
    easy/medium/hard).

    Runs in a symbolic worker within ``timeout`` seconds (default 20: it may draw and solve up to 25
    candidate problems).

    >>> ex = generate("chain-rule", seed=3); print(ex.prompt)
    Differentiate f(x) = (2x² + 1)⁷ with respect to x (chain rule).
    >>> ex.check("14*x*(2*x^2 + 1)^6").hint            # a factor 2 short
    'your answer is 0.5 times the expected one (a missing or extra factor?)'
    >>> ex.check("28x(2x^2 + 1)^6").outcome
    'correct'
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"the seed must be a whole number, got {seed!r}")
    chosen = find_topic(topic)
    level = DIFFICULTIES.get(difficulty, difficulty) if isinstance(difficulty, str) else difficulty
    if level not in (1, 2, 3):
        raise ValueError(f"difficulty must be 1, 2, 3 or easy/medium/hard; got {difficulty!r}")
    rng = random.Random(f"{chosen.name}:{level}:{seed}")
    for _ in range(25):
        problem = chosen.make(rng, level)
        try:
            expected, solution, ok = _answer(problem)
        except SymbolicError:
            continue
        if ok:
            shown = problem.question[0] if problem.kind == "value" and problem.expected is None else problem.question
            return Exercise(
                chosen.name, level, seed, render(problem.segments, "unicode"), shown, problem.variables, problem.kind,
                expected, solution, dict(problem.domain), FORMATS[problem.kind], chosen.chapter, problem.segments,
                problem.mistakes, given=dict(problem.given),
            )
    raise SymbolicError(f"could not generate a checked {chosen.name} exercise for seed {seed}; try another seed")
