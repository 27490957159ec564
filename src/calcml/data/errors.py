"""The data layer's errors: a file that is not what it claims to be, or files that were never imported."""

from pathlib import Path

from calcml.autodiff.errors import CalcmlError


class DataFormatError(CalcmlError, ValueError):
    """A data file is missing, corrupt, truncated or of the wrong kind; the message names the file,
    what was expected and what was found."""


class NotImportedError(DataFormatError):
    """A data set's files were never imported into ``folder`` (``calcml data fetch mnist --from DIR``), and no
    path was given.

    >>> try:                                   # doctest: +SKIP
    ...     data = cm.data.mnist()
    ... except cm.data.NotImportedError as error:
    ...     print(f"nothing imported into {error.folder} yet")
    """

    def __init__(self, message: str, folder: Path):
        super().__init__(message, folder)  # both in args: the error pickles (a worker process may raise it)
        self.folder = folder

    def __str__(self) -> str:
        return self.args[0]
