"""The one error the lab's computations raise on purpose: input the page should show back to the person."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from calcml.symbolic import ParseError, SymbolicError, SymbolicTimeout


class LabInputError(ValueError):
    """A request the lab cannot serve as asked: ``kind`` says which way (``"parse"``, ``"timeout"``,
    ``"domain"``, ``"limit"``, ``"busy"``, ...) and the message says what to change."""

    def __init__(self, message: str, kind: str = "input") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@contextlib.contextmanager
def symbolic_errors_as_input_errors() -> Iterator[None]:
    """Turn the symbolic layer's errors into LabInputErrors of the matching kind (parse, timeout, domain)."""
    try:
        yield
    except ParseError as error:
        raise LabInputError(str(error), "parse") from None
    except SymbolicTimeout as error:
        raise LabInputError(str(error), "timeout") from None
    except SymbolicError as error:
        raise LabInputError(str(error), "domain") from None
