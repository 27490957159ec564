"""The exceptions of the symbolic layer: one base class, one subclass per way things go wrong."""

from __future__ import annotations

from calcml.errors import CalcmlError


class SymbolicError(CalcmlError, ValueError):
    """Base class of every error raised by ``calcml.symbolic`` and ``calcml.exercises``."""


class ParseError(SymbolicError):
    """A user string could not be read: says what, at which column, and shows the spot.

    ``column`` is 1-based; ``text`` is the input that was being read.
    """

    def __init__(self, message: str, text: str, column: int, hint: str = "") -> None:
        self.message = message
        self.text = text
        self.column = column
        self.hint = hint
        shown = text if len(text) <= 120 else text[:117] + "..."
        lines = [f"cannot read the expression: {message} (column {column})", f"  {shown}"]
        if column - 1 <= len(shown):
            lines.append("  " + " " * (column - 1) + "^")
        if hint:
            lines.append(f"  {hint}")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (type(self), (self.message, self.text, self.column, self.hint))


class SymbolicTimeoutError(SymbolicError):
    """A symbolic operation ran past its time limit and was stopped (also importable as ``SymbolicTimeout``)."""

    def __init__(self, seconds: float, what: str = "the symbolic operation") -> None:
        self.seconds = seconds
        self.what = what
        super().__init__(
            f"{what} did not finish within {seconds:g} s and was stopped.\n"
            "  to allow more time: pass timeout=<seconds> (or --timeout on the command line),\n"
            "  or calcml.symbolic.set_default_timeout(<seconds>); or try a simpler expression."
        )

    def __reduce__(self):
        return (type(self), (self.seconds, self.what))


SymbolicTimeout = SymbolicTimeoutError  # the name DESIGN.md and earlier releases use; kept as an alias


class UnknownVariableError(SymbolicError):
    """A formula uses a variable that the place it was typed into does not have (``z`` in a surface of x, y)."""


class WorkerError(SymbolicError):
    """A symbolic worker process failed: it ran out of memory or stopped unexpectedly."""


class VerificationError(SymbolicError):
    """A step of an explanation failed its check against SymPy; the explanation is withheld."""
