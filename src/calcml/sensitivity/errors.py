"""The error cm.sensitivity raises for arguments it cannot use."""

from calcml.errors import CalcmlError


class SensitivityInputError(CalcmlError, ValueError):
    """An argument of a cm.sensitivity function is out of its range (steps below 1, a negative noise ...)."""
