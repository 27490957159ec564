"""The typer application that every command module registers on, and the checks the commands share:
one-line errors on stderr with a non-zero exit (2: bad input, 1: the work failed), never a traceback."""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand

app = typer.Typer(
    name="calcml",
    help="Calculus for machine learning, computed: derivatives, integrals, ODEs and backpropagation.",
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        import calcml

        typer.echo(f"calcml {calcml.__version__}")
        raise typer.Exit()


@app.callback()
def calcml(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print calcml's version and exit."),
) -> None:
    """calcml: derivatives, integrals and backpropagation you can run, check and see."""


class ExpressionCommand(TyperCommand):
    """A command whose argument is a math expression: ``calcml derive "-x**2"`` reads "-x**2" as the
    expression, not as the option -x, when the command has no other argument (``--`` works too)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        value_options = {}
        for param in self.params:
            if param.param_type_name == "option":
                for name in (*param.opts, *param.secondary_opts):
                    value_options[name] = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
        return super().parse_args(ctx, expression_after_options(args, value_options))


def expression_after_options(args: list[str], value_options: dict[str, bool]) -> list[str]:
    """``args`` with an expression that starts with "-" moved behind ``--``, so that click reads it as the
    argument. ``value_options`` maps each option name to whether it takes a value.

    A token is the expression when no other argument was given, it starts with a single "-", and it is
    not an option: not an option's name, or the name of an option that takes a value with no value after
    it ("-x" followed by "--from" is the expression -x, not --wrt "--from"). An option's own value is left
    alone ("--from -1"), and anything else is returned unchanged for click to judge.

    >>> expression_after_options(["-x**2", "--wrt", "x"], {"--wrt": True, "-x": True, "--steps": False})
    ['--wrt', 'x', '--', '-x**2']
    >>> expression_after_options(["-x", "--from", "-1"], {"--from": True, "-x": True})
    ['--from', '-1', '--', '-x']
    >>> expression_after_options(["x", "-x", "y"], {"-x": True})
    ['x', '-x', 'y']
    """

    def is_option(token: str) -> bool:
        return token == "--" or (token.split("=", 1)[0] if token.startswith("--") else token) in value_options

    expression, positional, index = None, False, 0
    while index < len(args):
        token = args[index]
        if token == "--":
            return args
        takes_value = is_option(token) and value_options[token.split("=", 1)[0]] and "=" not in token
        has_value = index + 1 < len(args) and not is_option(args[index + 1])
        if is_option(token) and (not takes_value or has_value or token.startswith("--")):
            index += 2 if takes_value else 1
            continue
        if token.startswith("-") and not token.startswith("--") and len(token) > 1:
            expression = index if expression is None else expression
        elif not token.startswith("--"):  # an unknown --option is left for click to report
            positional = True
        index += 1
    if positional or expression is None:
        return args
    return [*args[:expression], *args[expression + 1:], "--", args[expression]]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2 for bad input, 1 when the work failed)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


def finite_number(value: float | None, option: str, minimum: float | None = None, strict: bool = False,
                  hint: str = "") -> float | None:
    """``value`` when it is finite (and ≥ / > ``minimum``); else a one-line error naming the option."""
    if value is None:
        return None
    bound_ok = minimum is None or (value > minimum if strict else value >= minimum)
    if not math.isfinite(value) or not bound_ok:
        relation = "" if minimum is None else f" {'>' if strict else '≥'} {minimum:g}"
        fail(f"{option} must be a finite number{relation}, got {value:g}.{(' ' + hint) if hint else ''}")
    return value


def writable_folder(path: Path, option: str = "--out") -> Path:
    """Create ``path`` (with parents) and prove it writable before any work is done, or fail naming why."""
    try:
        if path.exists() and not path.is_dir():
            fail(f"{option} {path} is a file, not a folder; give a folder to write into.")
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        fail(f"{option} {path}: cannot write there ({error.strerror or error}); give a folder you can write to.")
    return path


def print_json(result: dict[str, Any]) -> None:
    """Print ``result`` as one JSON object on one line of standard output (what ``--json`` promises).

    NumPy numbers and arrays become numbers and lists, paths become strings, and a value that is not
    finite (a diverged loss) becomes null: the output is strict JSON that any reader accepts."""
    sys.stdout.write(json.dumps(plain_json(result), ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def plain_json(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays, tuples, paths and non-finite floats made plain JSON."""
    import numpy as np

    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return plain_json(value.tolist())
    if isinstance(value, np.generic):
        return plain_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value
