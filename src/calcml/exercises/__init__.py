"""Exercises with checked answers, for every chapter of the book.

``generate(topic, difficulty, seed)`` draws a reproducible problem (``TOPICS``; ``for_chapter(n)`` lists a
chapter's); ``check(answer, expected)`` says "correct", "equivalent but not simplified", "wrong" (with a real
counterexample and a hint) or "malformed" (where and why); ``write_worksheet`` hands a set of exercises out as
HTML and LaTeX (PDF when LaTeX is installed) with a separate answer key.
"""

from calcml.exercises.checking import KINDS, check
from calcml.exercises.exercise import Exercise, Topic
from calcml.exercises.problems import generate
from calcml.exercises.reading import UnknownNameError
from calcml.exercises.results import (
    CORRECT,
    EQUIVALENT,
    LIKELY_EQUIVALENT,
    MALFORMED,
    NOT_EQUIVALENT,
    OUTCOMES,
    UNSIMPLIFIED,
    WRONG,
    CheckResult,
)
from calcml.exercises.topics import CHAPTERS, TOPICS, chapter_of, for_chapter
from calcml.exercises.worksheet import Worksheet, write_worksheet

__all__ = [
    "CHAPTERS",
    "CORRECT",
    "EQUIVALENT",
    "KINDS",
    "LIKELY_EQUIVALENT",
    "MALFORMED",
    "NOT_EQUIVALENT",
    "OUTCOMES",
    "TOPICS",
    "UNSIMPLIFIED",
    "WRONG",
    "CheckResult",
    "Exercise",
    "Topic",
    "UnknownNameError",
    "Worksheet",
    "chapter_of",
    "check",
    "for_chapter",
    "generate",
    "write_worksheet",
]
