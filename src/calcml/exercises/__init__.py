"""Exercises with checked answers: ``generate(topic, difficulty, seed)`` and ``check(answer, expected)``."""

from calcml.exercises.checking import (
    EQUIVALENT,
    KINDS,
    LIKELY_EQUIVALENT,
    NOT_EQUIVALENT,
    CheckResult,
    check,
)
from calcml.exercises.problems import TOPICS, Exercise, generate

__all__ = [
    "EQUIVALENT",
    "KINDS",
    "LIKELY_EQUIVALENT",
    "NOT_EQUIVALENT",
    "TOPICS",
    "CheckResult",
    "Exercise",
    "check",
    "generate",
]
