"""A number written with decimals, judged to the digits it was written with, or within a relative tolerance."""

from __future__ import annotations

import math

import sympy as sp

from calcml.exercises.notation import unicode_math
from calcml.exercises.results import EQUIVALENT, NOT_EQUIVALENT, CheckResult, show
from calcml.exercises.witness import real_value
from calcml.symbolic.sampling import close

MIN_SIGNIFICANT = 3


def decimal_verdict(a: sp.Expr, e: sp.Expr, tolerance: float | None, digits: int | None) -> CheckResult | None:
    """A number against a number, judged to the digits given or within ``tolerance`` (None: not numbers)."""
    va, ve = real_value(a, {}), real_value(e, {})
    if va is None or ve is None:
        return None
    exact = show(ve) if e.is_Integer else f"{unicode_math(e)} ≈ {show(ve)}"
    if tolerance is not None:
        allowed = tolerance * abs(ve) if ve != 0 else tolerance
        if abs(va - ve) <= allowed:
            return CheckResult(EQUIVALENT, f"within the relative tolerance {tolerance:g} of {exact}", "tolerance")
        return CheckResult(NOT_EQUIVALENT, f"yours is {show(va)}, expected {exact}: farther than the relative "
                           f"tolerance {tolerance:g}", "tolerance", {}, hint=number_hint(va, ve))
    last_place = 10.0 ** (math.floor(math.log10(abs(va))) - digits + 1) if va != 0 else 10.0 ** (1 - digits)
    if abs(va - ve) <= 0.5 * last_place * (1 + 1e-9):
        if digits >= MIN_SIGNIFICANT:
            return CheckResult(EQUIVALENT, f"correct to the {digits} significant digits given ({exact})", "tolerance")
        return CheckResult(NOT_EQUIVALENT, f"{show(va)} agrees with {exact} only to {digits} significant "
                           f"digit{'s' if digits > 1 else ''}", "tolerance", {},
                           hint=f"give at least {MIN_SIGNIFICANT} significant digits")
    return CheckResult(NOT_EQUIVALENT, f"yours is {show(va)}, expected {exact} (not the same to the {digits} "
                       f"significant digits given)", "tolerance", {}, hint=number_hint(va, ve))


def number_hint(yours: float, expected: float) -> str:
    """The likely mistake behind a wrong number: a flipped sign or a whole-number factor ("" otherwise)."""
    if expected != 0 and close(yours, -expected, 1e-6):
        return "the sign is flipped"
    if expected != 0 and yours != 0 and close(yours / expected, round(yours / expected), 1e-6):
        return f"your answer is {round(yours / expected)} times the expected one (a missing or extra factor?)"
    return ""


def rounded_expected_verdict(a: sp.Expr, e: sp.Expr, expected_digits: int) -> CheckResult | None:
    """An exact answer against an expected number that was written rounded (1/3 against "0.333333"): right when
    it rounds to the expected value at the digits the expected value was given to; None otherwise."""
    va, ve = real_value(a, {}), real_value(e, {})
    if va is None or ve is None or expected_digits < MIN_SIGNIFICANT:
        return None
    exponent = math.floor(math.log10(abs(ve))) if ve != 0 else 0
    last_place = 10.0 ** (exponent - expected_digits + 1)
    if abs(va - ve) <= 0.5 * last_place * (1 + 1e-9):
        return CheckResult(EQUIVALENT, f"{show(va)} rounds to the expected {show(ve)} (given to {expected_digits} "
                           "significant digits)", "tolerance")
    return None
