"""``calcml optimize``: race optimizers on a surface, draw the race and print who won."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from calcml.cli.app import app

EXAMPLES = """
Examples:

  calcml optimize rosenbrock --optimizers gd,momentum,adam --lr 1e-3 --steps 2000

  calcml optimize himmelblau --optimizers adam,rmsprop,newton --start 0,0 --out pictures/

  calcml optimize "x**2 + 10*y**2" --optimizers gd,nesterov --lr 0.05 --steps 200

Surfaces: quadratic, rosenbrock, himmelblau, beale, saddle, bowl, or a formula in x and y.
Optimizers: gd, momentum, nesterov, adagrad, rmsprop, adam, newton.
"""


def _fail(message: str, code: int = 2) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


def _numbers(text: str, option: str, count: int | None = None) -> list[float]:
    try:
        values = [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        _fail(f"{option} takes numbers separated by commas, like 1.0,2.0; got {text!r}.")
    if count is not None and len(values) != count:
        _fail(f"{option} needs {count} numbers separated by commas, got {len(values)} in {text!r}.")
    return values


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
) -> None:
    """Race optimizers from one start on a 2-D surface: write the picture, print final loss, steps to
    tolerance and whether each diverged."""
    from rich.progress import Progress

    from calcml.optim.race import OPTIMIZERS, RaceError, optimizer_name, race
    from calcml.optim.race import surface as make_surface
    from calcml.symbolic import ParseError
    from calcml.viz import loss_surface, save

    console = Console()
    if view not in ("both", "contour", "3d"):
        _fail(f"--view must be both, contour or 3d, not {view!r}.")
    try:
        where = make_surface(surface)
        names = [optimizer_name(n) for n in optimizers.split(",") if n.strip()]
    except (RaceError, ParseError) as error:
        _fail(str(error))
    if not names:
        _fail(f"--optimizers names none; choose from {', '.join(OPTIMIZERS)}.")
    p0 = _numbers(start, "--start", 2) if start is not None else list(where.start)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"racing {len(names)} optimizers", total=len(names))
        try:
            result = race(where, names, p0, lr, steps, tol, progress=lambda run: progress.advance(task))
        except RaceError as error:
            _fail(str(error))
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
    console.print(table)
    for run in runs:
        if run.reason:
            console.print(f"  {escape(run.label)}: {escape(run.reason)}")

    out.mkdir(parents=True, exist_ok=True)
    stem = where.name if where.name != "custom" else "surface"
    figure = loss_surface(result, view=view)
    written = [save(figure, out / f"race-{stem}.{suffix}") for suffix in ("png", "svg")]
    for path in written:
        console.print(f"wrote {escape(str(path))}")
    console.print(f"Pictures are in {escape(str(out.resolve()))}")
