"""The one error the lab's computations raise on purpose: input the page should show back to the person."""

from __future__ import annotations


class LabInputError(ValueError):
    """A request the lab cannot serve as asked: ``kind`` says which way (``"parse"``, ``"timeout"``,
    ``"domain"``, ``"limit"``, ``"busy"``, ...) and the message says what to change."""

    def __init__(self, message: str, kind: str = "input") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
