"""The checker's verdicts and outcomes, and the result it returns."""

from __future__ import annotations

from dataclasses import dataclass

from calcml.symbolic.errors import ParseError

EQUIVALENT = "equivalent"
NOT_EQUIVALENT = "not equivalent"
LIKELY_EQUIVALENT = "likely equivalent"
MALFORMED = "malformed"
CORRECT = "correct"
UNSIMPLIFIED = "equivalent but not simplified"
WRONG = "wrong"
OUTCOMES = (CORRECT, UNSIMPLIFIED, WRONG, MALFORMED)
_OUTCOME_OF = {EQUIVALENT: CORRECT, LIKELY_EQUIVALENT: CORRECT, NOT_EQUIVALENT: WRONG, MALFORMED: MALFORMED}


@dataclass(frozen=True)
class CheckResult:
    """The checker's answer.

    ``outcome`` is one of ``OUTCOMES``: "correct", "equivalent but not simplified", "wrong", "malformed".
    ``verdict`` says whether the two are the same mathematical object: "equivalent", "likely equivalent"
    (agrees numerically, not proven), "not equivalent" or "malformed". ``layer`` says which test decided;
    ``counterexample`` is a real point where they differ (``{}`` for numbers); ``hint`` names the likely
    mistake; ``column`` is where a malformed answer went wrong (1-based); ``feedback`` explains.
    """

    verdict: str
    feedback: str
    layer: str
    counterexample: dict | None = None
    hint: str = ""
    column: int | None = None
    outcome: str = ""

    def __post_init__(self) -> None:
        if not self.outcome:
            object.__setattr__(self, "outcome", _OUTCOME_OF[self.verdict])

    @property
    def correct(self) -> bool:
        """True when the answer is mathematically right (outcome "correct" or "equivalent but not simplified")."""
        return self.verdict in (EQUIVALENT, LIKELY_EQUIVALENT)

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint and self.hint not in self.feedback else ""
        return f"{self.outcome}: {self.feedback}{hint}"


def malformed(error: ParseError) -> CheckResult:
    """The result for an answer that could not be read: where (column) and why."""
    why = error.message + (f"; {error.hint}" if error.hint else "")
    return CheckResult(MALFORMED, f"could not read your answer at column {error.column}: {why}", "parse",
                       column=error.column, hint=error.hint)


def show(value: float) -> str:
    """A number for feedback: ten significant digits."""
    return f"{value:.10g}"
