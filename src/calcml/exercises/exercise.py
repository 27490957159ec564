"""An exercise: its prompt in mathematical notation, its expected answer and worked solution, its checker.

A topic's generator draws a :class:`Problem` (the prompt's segments, the kind of answer, the expected
answer when it computes it itself, the typical mistakes); :func:`calcml.exercises.generate` turns it
into an :class:`Exercise`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from calcml.exercises.checking import check
from calcml.exercises.notation import latex_math, latex_text, mathml, python_to_math, render, unicode_math
from calcml.exercises.results import CheckResult

FORMATS = {
    "derivative": "an expression such as 2*x*cos(x^2)",
    "expression": "an expression in the variables of the problem, e.g. 3*exp(-2*t)",
    "vector": "components separated by commas, e.g. 2*x*y, x^2 or 0.25, -1/3",
    "matrix": "rows separated by ';' and entries by ',', e.g. 2, 0; 0, 2",
    "points": "points separated by ';', e.g. (0, 0); (1, -1)",
    "antiderivative": "an expression, e.g. x^3/3 + C",
    "value": "a number: exact (pi/4, exp(2)/3) or a decimal to at least 3 significant digits",
}


@dataclass(frozen=True)
class WorkedSolution:
    """A worked solution as a few lines of text (the ML topics' arithmetic, step by step)."""

    steps: tuple[str, ...]

    def text(self) -> str:
        """The steps, one per line."""
        return "\n".join(self.steps)


@dataclass(frozen=True)
class Problem:
    """What a topic's generator draws: ``segments`` of the prompt (text and SymPy objects), the ``kind`` of
    answer, and either the ``expected`` answer with its worked ``steps`` or (``expected=None``) a
    ``question`` that calcml.symbolic solves. ``mistakes`` pairs typical wrong answers with a hint; ``given``
    holds the problem's data by name (numbers, matrices, formulas), for other tools to recompute the answer."""

    segments: tuple
    kind: str
    expected: object = None
    question: object = None
    variables: tuple[sp.Symbol, ...] = ()
    steps: tuple[str, ...] = ()
    domain: dict = field(default_factory=dict)
    mistakes: tuple[tuple[object, str], ...] = ()
    given: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Topic:
    """A topic: its ``name``, the book ``chapter`` it belongs to, a short ``title`` and its generator
    ``make(rng, difficulty) -> Problem``."""

    name: str
    chapter: int
    title: str
    make: Callable[[random.Random, int], Problem]


@dataclass(frozen=True)
class Exercise:
    """A problem: ``prompt`` to show (Unicode math; :meth:`latex_prompt` and :meth:`html_prompt` too), the
    ``expected`` answer of ``kind`` (see :func:`calcml.exercises.check`), the worked ``solution``, the book
    ``chapter`` it belongs to, the typical ``mistakes`` the checker names and the problem's data, ``given``."""

    topic: str
    difficulty: int
    seed: int
    prompt: str
    question: object
    variables: tuple[sp.Symbol, ...]
    kind: str
    expected: object
    solution: object
    domain: dict = field(default_factory=dict)
    answer_format: str = FORMATS["derivative"]
    chapter: int = 0
    segments: tuple = ()
    mistakes: tuple[tuple[object, str], ...] = ()
    tolerance: float | None = None
    given: dict = field(default_factory=dict)

    def check(self, answer, *, tolerance: float | None = None) -> CheckResult:
        """Check an answer (a string is parsed safely) against this exercise's expected answer."""
        return check(answer, self, tolerance=tolerance)

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
        """The worked solution, step by step, in mathematical notation (x³, 3x², √5, σ(z))."""
        return "\n".join(python_to_math(line) for line in self.solution.text().splitlines())

    def _answer_object(self):
        if self.kind == "points":
            return [sp.Tuple(*p) for p in self.expected]
        return self.expected

    def answer_math(self) -> str:
        """The expected answer in Unicode mathematical notation, with decimals when it is not rational."""
        value = self._answer_object()
        if isinstance(value, list):
            return "; ".join(unicode_math(p) for p in value)
        return unicode_math(value) + (" + C" if self.kind == "antiderivative" else "") + self._approximately()

    def answer_latex(self) -> str:
        """The expected answer in LaTeX (math mode contents)."""
        value = self._answer_object()
        if isinstance(value, list):
            return ";\\ ".join(latex_math(p) for p in value)
        suffix = " + C" if self.kind == "antiderivative" else ""
        approx = self._approximately()
        return latex_math(value) + suffix + (r" \approx " + approx[3:] if approx else "")

    def answer_html(self) -> str:
        """The expected answer as MathML (with its decimal value in text when it is not rational)."""
        value = self._answer_object()
        if isinstance(value, list):
            return "; ".join(mathml(p) for p in value)
        return mathml(value) + (" + C" if self.kind == "antiderivative" else "") + self._approximately()

    def _approximately(self) -> str:
        """" ≈ 0.2689" for numbers and numeric vectors that are not all rational; "" otherwise."""
        entries = list(self.expected) if isinstance(self.expected, sp.MatrixBase) else [self.expected]
        if not all(isinstance(v, sp.Expr) and v.is_number for v in entries) or all(v.is_Rational for v in entries):
            return ""
        decimals = [f"{float(v):.6g}" for v in entries]
        if isinstance(self.expected, sp.MatrixBase) and self.expected.shape[1] > 1 and self.expected.shape[0] > 1:
            rows = self.expected.tolist()
            return " ≈ [" + "; ".join(", ".join(f"{float(v):.6g}" for v in row) for row in rows) + "]"
        return " ≈ " + (decimals[0] if len(decimals) == 1 else "(" + ", ".join(decimals) + ")")

    def latex_prompt(self) -> str:
        """The prompt in LaTeX (text mode, formulas in $...$)."""
        return render(self.segments, "latex")

    def html_prompt(self) -> str:
        """The prompt in HTML, formulas in MathML."""
        return render(self.segments, "html")

    def solution_latex(self) -> str:
        """The worked solution for a LaTeX answer key (text mode)."""
        return r"\\ ".join(latex_text(line) for line in self.solution_text().splitlines() if line.strip())
