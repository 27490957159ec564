"""The ``calcml`` command line: thin commands over the layers below.

Each command group lives in its own module and registers itself on ``app``. ``main`` is the console
script: whatever a command lets escape becomes one line on stderr and a non-zero exit, never a
traceback (set CALCML_DEBUG=1 to see it), and warnings print as one line too.
"""

from calcml.cli.app import app


def main() -> None:
    """Entry point of the ``calcml`` console script."""
    import os
    import sys
    import warnings

    from calcml.cli import check, data, exercises, lab, optimize, sweep, symbolic, tour, train  # noqa: F401

    if os.environ.get("CALCML_DEBUG"):
        app()
        return
    warnings.formatwarning = _one_line_warning
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 — the last line of defence: a message, not a traceback
        sys.exit(_report(error))


def _report(error: Exception) -> int:
    """Print ``error: ...`` (first line of the message and its hint lines) and return the exit code:
    2 for bad input (ValueError, a missing file), 1 for anything else."""
    import sys

    from calcml.autodiff.errors import CalcmlError

    message = str(error).strip() or type(error).__name__
    if not isinstance(error, CalcmlError):
        message = f"{type(error).__name__}: {message}"
    bad_input = isinstance(error, (ValueError, FileNotFoundError, PermissionError, NotADirectoryError,
                                   IsADirectoryError, FileExistsError))
    print(f"error: {message}", file=sys.stderr)
    if not bad_input:
        print("  (an unexpected failure inside calcml: rerun with CALCML_DEBUG=1 for the traceback, and "
              "please report it)", file=sys.stderr)
    return 2 if bad_input else 1


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"
