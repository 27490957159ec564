"""The one error the lab's computations raise on purpose: input the page should show back to the person.

Every LabInputError becomes a JSON answer ``{"error": message, "kind": kind}`` with the status of its kind
(422 unless listed in STATUS). ``symbolic_errors_as_input_errors`` wraps each call into SymPy, so that
whatever SymPy raises on a person's input (our own errors, or SymPy's internal ones) becomes one too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from calcml.errors import CalcmlError
from calcml.symbolic import ParseError, SymbolicError, SymbolicTimeoutError

STATUS = {"busy": 409, "not_found": 404, "forbidden": 403, "media_type": 415, "overloaded": 429}
log = logging.getLogger("calcml.lab")

# What SymPy itself may raise on an unusual expression (a KeyError from a printer meeting complex infinity,
# a TypeError from a half-built cache under concurrency, a RecursionError on deep nesting, ...).
SYMPY_FAILURES = (ArithmeticError, AttributeError, IndexError, KeyError, NotImplementedError, RecursionError,
                  TypeError, ValueError)


class LabInputError(CalcmlError, ValueError):
    """A request the lab cannot serve as asked: ``kind`` says which way (``"parse"``, ``"timeout"``,
    ``"domain"``, ``"limit"``, ``"symbolic"``, ``"busy"``, ...) and the message says what to change."""

    def __init__(self, message: str, kind: str = "input") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    @property
    def status(self) -> int:
        return STATUS.get(self.kind, 422)


@contextlib.contextmanager
def symbolic_errors_as_input_errors(what: str = "compute this") -> Iterator[None]:
    """Turn what the symbolic layer raises into LabInputErrors: parse, timeout and domain for calcml's own
    errors, ``symbolic`` (logged) for an internal failure of SymPy on this input."""
    try:
        yield
    except LabInputError:
        raise
    except ParseError as error:
        raise LabInputError(str(error), "parse") from None
    except SymbolicTimeoutError as error:
        raise LabInputError(str(error), "timeout") from None
    except SymbolicError as error:
        raise LabInputError(str(error), "domain") from None
    except SYMPY_FAILURES as error:
        reason = f"{type(error).__name__}: {str(error)[:200]}"
        log.warning("SymPy failed to %s: %s", what, reason)
        raise LabInputError(f"SymPy could not {what} ({reason}); "
                            "try a simpler or a different expression.", "symbolic") from None
