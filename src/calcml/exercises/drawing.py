"""Drawing the numbers of a problem from a seeded ``random.Random``: small integers and exact fractions."""

from __future__ import annotations

import random

import sympy as sp


def integers(rng: random.Random, n: int, low: int, high: int, nonzero: bool = False) -> list[sp.Integer]:
    """``n`` integers in [low, high] (never 0 when ``nonzero``), as SymPy integers."""
    values = []
    while len(values) < n:
        value = rng.randint(low, high)
        if value or not nonzero:
            values.append(sp.Integer(value))
    return values


def fraction(rng: random.Random, choices: tuple[str, ...]) -> sp.Rational:
    """One of a few exact fractions written as text ("1/10", "1/2")."""
    return sp.Rational(rng.choice(choices))
