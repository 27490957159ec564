"""``calcml optimize``: race optimizers on a surface, draw the race and print who won."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from calcml.cli.app import app, fail, finite_number, print_json, writable_folder

EXAMPLES = """
Examples:

  calcml optimize rosenbrock --optimizers gd,momentum,adam --lr 1e-3 --steps 2000

  calcml optimize himmelblau --optimizers adam,rmsprop,newton --start 0,0 --out pictures/

  calcml optimize "x**2 + 10*y**2" --optimizers gd,nesterov --lr 0.05 --steps 200

Surfaces: quadratic, rosenbrock, himmelblau, beale, saddle, bowl, or a formula in x and y.
Optimizers: gd, momentum, nesterov, adagrad, rmsprop, adam, newton.
"""


def _numbers(text: str, option: str, count: int | None = None) -> list[float]:
    try:
        values = [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        fail(f"{option} takes numbers separated by commas, like 1.0,2.0; got {text!r}.")
    if not all(math.isfinite(v) for v in values):
        fail(f"{option} takes finite numbers, got {text!r}.")
    if count is not None and len(values) != count:
        fail(f"{option} needs {count} numbers separated by commas, got {len(values)} in {text!r}.")
    return values


def _check_formula(surface: str) -> None:
    """A formula that is undefined as written (x*log(0) is x·zoo) is refused with that reason."""
    from calcml.optim.race import SURFACES

    if surface in SURFACES:
        return
    import sympy as sp

    from calcml.symbolic import ParseError
    from calcml.symbolic.parser import as_expr

    try:
        expr = as_expr(surface)
    except ParseError as error:
        fail(str(error))
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        fail(f"the surface {surface} is undefined or infinite as written (it simplifies to {expr}); fix the formula.")


@app.command(epilog=EXAMPLES)
def optimize(
    surface: Annotated[str, typer.Argument(help="A built-in surface or a formula in x and y.")] = "rosenbrock",
    optimizers: Annotated[str, typer.Option(help="Comma-separated optimizer names.")] = "gd,momentum,adam",
    lr: Annotated[Optional[float], typer.Option(help="Learning rate of the first-order optimizers "
                                                     "(default: tuned per surface; Newton takes full steps).")] = None,
    steps: Annotated[int, typer.Option(min=0, max=100_000, help="Steps per optimizer.")] = 2000,
    start: Annotated[Optional[str], typer.Option(help="Start point x,y (default: the surface's).")] = None,
    tol: Annotated[float, typer.Option(help="Tolerance on f − f* (or on ‖∇f‖ when f* is unknown).")] = 1e-6,
    out: Annotated[Path, typer.Option(help="Folder for the pictures.")] = Path("calcml-output"),
    view: Annotated[str, typer.Option(help="both, contour or 3d.")] = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: every run and the pictures "
                                                         "written.")] = False,
) -> None:
    """Race optimizers from one start on a 2-D surface: write the picture, print final loss, steps to
    tolerance and whether each diverged."""
    from rich.progress import Progress

    from calcml.autodiff.errors import CalcmlError
    from calcml.optim.race import OPTIMIZERS, RaceError, optimizer_name, race
    from calcml.optim.race import surface as make_surface
    from calcml.symbolic import ParseError
    try:
        from calcml.viz import loss_surface, save
    except ImportError as error:
        fail(f"calcml optimize draws the race with matplotlib ({error.name} is missing): "
              "pip install 'calcml[plot]'")

    console = Console(stderr=as_json)  # with --json, standard output carries the JSON object only
    if view not in ("both", "contour", "3d"):
        fail(f"--view must be both, contour or 3d, not {view!r}.")
    finite_number(lr, "--lr", 0.0, strict=True, hint="A learning rate is a step size, e.g. --lr 1e-3.")
    finite_number(tol, "--tol", 0.0)
    _check_formula(surface)
    try:
        where = make_surface(surface)
        names = [optimizer_name(n) for n in optimizers.split(",") if n.strip()]
    except (RaceError, ParseError) as error:
        fail(str(error))
    except Exception as error:  # the formula parsed but cannot be turned into a function (x*log(0))
        fail(f"cannot use the surface {surface!r}: {type(error).__name__}: {error}")
    if not names:
        fail(f"--optimizers names none; choose from {', '.join(OPTIMIZERS)}.")
    p0 = _numbers(start, "--start", 2) if start is not None else list(where.start)
    writable_folder(out)  # before the race: a bad --out must not cost the whole run
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"racing {len(names)} optimizers", total=len(names))
        try:
            result = race(where, names, p0, lr, steps, tol, progress=lambda run: progress.advance(task))
        except (RaceError, CalcmlError) as error:
            fail(str(error))
        except (ArithmeticError, ValueError, TypeError, KeyError) as error:  # the surface failed to evaluate
            fail(f"evaluating the surface {surface!r} failed: {type(error).__name__}: {error}", code=1)
    runs, criterion = result.runs, result.criterion

    table = Table(title=f"{where.name}: f(x, y) = {where.expression}, start ({p0[0]:g}, {p0[1]:g}), "
                        f"{steps} steps", title_justify="left")
    for column in ("optimizer", "η", "final loss", f"steps to {criterion} ({tol:g})", "diverged?", "final point"):
        table.add_column(column, justify="right")
    for run in runs:
        reached = "—" if run.steps_to_tolerance is None else str(run.steps_to_tolerance)
        verdict = "yes" if run.diverged else ("failed" if run.status == "failed" else "no")
        point = f"({run.final_point[0]:.6g}, {run.final_point[1]:.6g})"
        table.add_row(run.label, f"{run.lr:g}", f"{run.final_loss:.6e}", reached, verdict, point)
    if not as_json:
        console.print(table)
    for run in runs:
        if run.reason and not as_json:
            console.print(f"  {escape(run.label)}: {escape(run.reason)}")

    stem = where.name if where.name != "custom" else "surface"
    try:
        figure = loss_surface(result, view=view)
    except ValueError as error:  # e.g. a constant surface has no contour levels
        fail(f"cannot draw the race on {surface!r}: {error}", code=1)
    try:
        written = [save(figure, out / f"race-{stem}.{suffix}") for suffix in ("png", "svg")]
    except OSError as error:
        fail(f"cannot write the pictures into {out}: {error.strerror or error}", code=1)
    if as_json:
        print_json({
            "surface": where.name, "expression": where.expression, "start": p0, "steps": steps,
            "criterion": criterion, "tol": tol,
            "runs": [{"optimizer": run.name, "label": run.label, "lr": run.lr, "final_loss": run.final_loss,
                      "final_point": run.final_point, "steps_to_tolerance": run.steps_to_tolerance,
                      "diverged": run.diverged, "status": run.status, "reason": run.reason} for run in runs],
            "pictures": [str(path) for path in written],
        })
        return
    for path in written:
        console.print(f"wrote {escape(str(path))}")
    console.print(f"Pictures are in {escape(str(out.resolve()))}")
