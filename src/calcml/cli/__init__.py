"""The ``calcml`` command line: thin commands over the layers below.

Each command group lives in its own module and registers itself on ``app``.
"""

from calcml.cli.app import app


def main() -> None:
    """Entry point of the ``calcml`` console script."""
    from calcml.cli import check, lab, optimize, symbolic, tour, train  # noqa: F401  (registers the commands)

    app()
