"""``calcml sweep digits``: train the digits network at every learning rate × optimizer × seed, on this machine's
cores or a Dask cluster; write the table (CSV or JSON) and the picture (final loss against learning rate per
optimizer, with the spread over seeds), and print the mean over seeds. Finished runs are kept in
DIR/sweep-digits.jsonl as they finish: running the same command again skips them (``--fresh`` starts over)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from calcml.cli.app import app, fail, print_json, writable_folder
from calcml.cli.optimize import _numbers
from calcml.cli.train import ModelName

EXAMPLES = """
Examples:

  calcml sweep digits --lr 1e-3,3e-3,1e-2 --optimizer sgd,adam --seeds 5

  calcml sweep digits --lr 1e-3,1e-2 --optimizer adam --seeds 3 --backend dask --scheduler tcp://10.0.0.5:8786

  calcml sweep digits --epochs 2 --train-size 300 --backend serial --format json --out sweeps/
"""


class BackendName(str, Enum):
    processes = "processes"
    serial = "serial"
    dask = "dask"


class TableFormat(str, Enum):
    csv = "csv"
    json = "json"


def _names(text: str, option: str, known: type[Enum]) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in known.__members__]
    if not names or unknown:
        fail(f"{option} takes names separated by commas from: {', '.join(known.__members__)}; got {text!r}.")
    return names


@app.command("sweep", epilog=EXAMPLES)
def sweep_command(
    recipe: Annotated[str, typer.Argument(help="The built-in recipe: digits (the embedded handwritten digits).")],
    lr: Annotated[str, typer.Option(help="Learning rates, comma-separated.")] = "1e-3,3e-3,1e-2",
    optimizer: Annotated[str, typer.Option(help="Optimizers, comma-separated (sgd, adam, ...).")] = "sgd,adam",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0 … n−1 per point (initialization and shuffling).")] = 3,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training set per run.")] = 5,
    train_size: Annotated[Optional[int], typer.Option(min=1, help="Train on the first N images (default all).")] = None,
    model: Annotated[ModelName, typer.Option(help="mlp or cnn.")] = ModelName.mlp,
    backend: Annotated[Optional[BackendName], typer.Option(help="processes (every local core; the default), serial, "
                                                                "or dask (with --scheduler).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                                                          "(implies --backend dask).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Local processes (default: every core).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the table, the picture and the resume file.")] = Path(
        "calcml-output"),
    table_format: Annotated[TableFormat, typer.Option("--format", help="Table file: csv or json.")] = TableFormat.csv,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore runs finished earlier: start over.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the mean over seeds per point, "
                                                         "the failures and the files written.")] = False,
) -> None:
    """Sweep the digits network over learning rates × optimizers × seeds; write the table and the picture."""
    from calcml.autodiff.errors import CalcmlError
    from calcml.cli.train import OptimizerName
    from calcml.sweep import run
    from calcml.train.recipes import digits_run
    from calcml.viz import sweep as sweep_picture

    if recipe != "digits":
        fail(f"unknown recipe {recipe!r}; the built-in recipe is: digits.")
    rates = _numbers(lr, "--lr")
    if not rates or any(rate <= 0 for rate in rates):
        fail(f"--lr takes positive learning rates separated by commas, like 1e-3,1e-2; got {lr!r}.")
    optimizers = _names(optimizer, "--optimizer", OptimizerName)
    if scheduler is not None and backend not in (None, BackendName.dask):
        fail(f"--scheduler is the address of a Dask scheduler: it goes with --backend dask, not {backend.value}.")
    if backend is BackendName.dask and scheduler is None:
        fail("--backend dask needs --scheduler tcp://HOST:8786 (start one with `dask scheduler`, and workers with "
             "`dask worker tcp://HOST:8786`).")
    writable_folder(out)
    store = out / "sweep-digits.jsonl"
    if fresh:
        store.unlink(missing_ok=True)
    console = Console(quiet=as_json)
    grid: dict[str, list[Any]] = {"lr": rates, "optimizer": optimizers, "epochs": [epochs],
                                  "train_size": [train_size], "model": [model.value]}
    console.print(f"sweeping digits ({model.value}): {len(rates)} learning rates × {len(optimizers)} optimizers × "
                  f"{seeds} seeds = {len(rates) * len(optimizers) * seeds} runs of {epochs} epochs")
    try:
        result = run(digits_run, grid, seeds=seeds, backend=None if backend is None else backend.value,
                     client=scheduler, n_jobs=workers, store=store, progress=not as_json)
    except CalcmlError as error:
        fail(str(error), code=1)
    table = result.save(out / f"sweep-digits.{table_format.value}")
    if len(result.failures) == len(result.records):
        fail(f"every run failed; the first: {result.failures[0]['error']} (table: {table})", code=1)
    summary = result.summary("train_loss")
    picture = out / "sweep-digits.png"
    sweep_picture(result, "train_loss", "lr", path=picture)
    accuracy = {(row["lr"], row["optimizer"]): row["mean"] for row in result.summary("test_accuracy")}
    shown = Table("lr", "optimizer", "train loss (mean ± sd)", "test accuracy (mean)", "seeds ok")
    for row in summary:
        shown.add_row(f"{row['lr']:g}", row["optimizer"], f"{row['mean']:.4g} ± {row['std']:.2g}",
                      f"{accuracy[(row['lr'], row['optimizer'])]:.2%}", f"{row['n']}/{seeds}")
    console.print(shown)
    for record in result.failures[:3]:
        console.print(f"failed: lr={record['lr']:g} {record['optimizer']} seed {record['seed']}: {record['error']}",
                      markup=False)
    console.print(f"{len(result.records)} runs ({result.resumed} resumed from {store}), {len(result.failures)} "
                  f"failed, {result.seconds:.1f} s on {result.backend}; table {table}, picture {picture}")
    if as_json:
        print_json({"runs": len(result.records), "resumed": result.resumed, "failed": len(result.failures),
                    "backend": result.backend, "seconds": result.seconds, "summary": summary,
                    "failures": [{k: r[k] for k in ("lr", "optimizer", "seed", "error")} for r in result.failures],
                    "table": table, "picture": picture, "resume_file": store})
