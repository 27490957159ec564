"""``calcml check``: gradient-check a NumPy function from a user's file against finite differences."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from calcml.cli.app import app, fail, finite_number, print_json

EXAMPLES = """
Examples:

  calcml check model.py:loss --at 1.0,2.0          one vector argument x = [1, 2]

  calcml check model.py:f --at 0.5 --at 1,2,3      two arguments: a scalar and a vector

  calcml check model.py:g --at 1,2                 g(x, y) with two parameters gets x = 1, y = 2

The function is plain NumPy code (np.sin, @, np.sum, ...); calcml differentiates it and compares every
partial derivative with central finite differences. Exit code 0 when they agree, 1 when not, 2 for bad input.
"""


def load_function(target: str) -> Callable:
    """The function named by ``path/to/module.py:function``, imported from the file by path."""
    if ":" not in target:
        fail(f"name the function as FILE.py:FUNCTION, e.g. model.py:loss (got {target!r}).")
    file_name, function_name = target.rsplit(":", 1)
    path = Path(file_name)
    if not path.is_file():
        fail(f"no such file: {file_name}")
    if not function_name.isidentifier():
        fail(f"{function_name!r} is not a Python function name.")
    spec = importlib.util.spec_from_file_location(f"calcml_check_{path.stem}", path)
    if spec is None or spec.loader is None:
        fail(f"cannot import {file_name}: it is not a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's code: report whatever it raised
        fail(f"importing {file_name} raised {type(error).__name__}: {error}")
    finally:
        sys.path.pop(0)
    f = getattr(module, function_name, None)
    if not callable(f):
        functions = sorted(name for name, value in vars(module).items()
                           if inspect.isfunction(value) and not name.startswith("_"))
        fail(f"{file_name} has no function {function_name!r}; its functions: {', '.join(functions) or 'none'}.")
    return f


def parse_point(text: str) -> Any:
    """One --at value: a number, or numbers separated by commas (a vector)."""
    import numpy as np

    parts = [part for part in text.replace(" ", "").split(",") if part]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        fail(f"--at takes numbers separated by commas, like 1.0,2.0; got {text!r}.")
    if not values:
        fail("--at is empty: give the point, like --at 1.0,2.0.")
    if not all(np.isfinite(values)):
        fail(f"--at takes finite numbers (no nan or inf): got {text!r}.")
    return np.float64(values[0]) if len(values) == 1 and "," not in text else np.array(values)


def _required_positional(f: Callable) -> int | None:
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty)


@app.command(epilog=EXAMPLES)
def check(
    target: Annotated[str, typer.Argument(help="FILE.py:FUNCTION, a NumPy function to check.")],
    at: Annotated[Optional[list[str]], typer.Option(
        "--at", help="The point: numbers separated by commas; repeat --at for several arguments.")] = None,
    rtol: Annotated[float, typer.Option(help="Largest relative error that passes.")] = 1e-6,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the verdict and every "
                                                         "partial derivative both ways.")] = False,
) -> None:
    """Gradient-check a NumPy function: calcml's gradient against central finite differences."""
    import numpy as np

    import calcml as cm

    finite_number(rtol, "--rtol", 0.0, strict=True, hint="e.g. --rtol 1e-6.")
    f = load_function(target)
    if not at:
        fail("say where to check with --at, e.g. --at 1.0,2.0.")
    args = [parse_point(text) for text in at]
    needed = _required_positional(f)
    if len(args) == 1 and np.ndim(args[0]) == 1 and needed is not None and needed == args[0].size > 1:
        args = [np.float64(v) for v in args[0]]  # f(x, y) with --at 1,2: one number per parameter
    try:
        report = cm.check_grad(f, *args, rtol=rtol, raise_on_mismatch=False)
    except Exception as error:  # the user's function failed: say so plainly
        fail(f"calling {target} at {', '.join(at)} raised {type(error).__name__}: {error}", code=1)

    if as_json:
        print_json({
            "target": target, "at": list(at), "rtol": rtol, "passed": report.passed,
            "max_rel_error": report.max_rel_error, "worst_argument": report.worst_argument,
            "worst_index": list(report.worst_index),
            "arguments": [{"autodiff": auto, "numeric": numeric, "rel_error": error}
                          for auto, numeric, error in zip(report.autodiff, report.numeric, report.rel_error)],
        })
        if not report.passed:
            raise typer.Exit(code=1)
        return
    console = Console()
    table = Table(title=f"gradient of {target} at {'; '.join(at)}", title_justify="left")
    for column in ("argument", "index", "autodiff", "finite differences", "relative error"):
        table.add_column(column, justify="right")
    for k, (auto, numeric, error) in enumerate(zip(report.autodiff, report.numeric, report.rel_error)):
        for index in np.ndindex(np.shape(auto)):
            table.add_row(str(k), str(index) if index else "—", f"{np.asarray(auto)[index]:.12g}",
                          f"{np.asarray(numeric)[index]:.12g}", f"{np.asarray(error)[index]:.1e}")
    console.print(table)
    where = f"argument {report.worst_argument}, index {report.worst_index}"
    if report.passed:
        console.print(f"[green]passed[/green]: largest relative error {report.max_rel_error:.1e} ({where}) "
                      f"≤ rtol {rtol:g}", highlight=False)
    else:
        console.print(f"[red]failed[/red]: largest relative error {report.max_rel_error:.1e} ({where}) "
                      f"> rtol {rtol:g}\n  if f has a kink there (abs, max, ReLU at 0) finite differences are "
                      "meaningless; otherwise a derivative rule is wrong.", highlight=False)
        raise typer.Exit(code=1)
