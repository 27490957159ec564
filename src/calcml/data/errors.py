"""The data layer's error: a file that is not what it claims to be."""

from calcml.autodiff.errors import CalcmlError


class DataFormatError(CalcmlError, ValueError):
    """A data file is missing, corrupt, truncated or of the wrong kind; the message names the file,
    what was expected and what was found."""
