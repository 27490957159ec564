"""``calcml data fetch mnist --from DIR``: import data files the user already has (nothing is downloaded)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from calcml.cli.app import app, fail

data_app = typer.Typer(help="Data sets from files you already have: checked, stored, never downloaded.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


class FetchableName(str, Enum):
    mnist = "mnist"


@data_app.command("fetch")
def fetch(
    name: Annotated[FetchableName, typer.Argument(help="The data set: mnist.")],
    source: Annotated[Path, typer.Option("--from", help="The folder holding the four files (plain or .gz).")],
    to: Annotated[Optional[Path], typer.Option("--to", help="Where to store them (default: $CALCML_DATA/mnist, "
                                                            "else ~/.local/share/calcml/mnist).")] = None,
) -> None:
    """Check the four MNIST files you have (size and SHA-256 against the published files) and store them
    where ``cm.data.mnist()`` and ``calcml train mnist`` find them. Nothing is downloaded.

    Example:  calcml data fetch mnist --from ~/Downloads
    """
    from calcml.data import DataFormatError, fetch_mnist
    from calcml.data.mnist import IDX_FILES

    try:
        folder = fetch_mnist(source, to)
    except DataFormatError as error:
        fail(str(error))
    console = Console(soft_wrap=True, highlight=False)
    console.print(f"MNIST: the four files match the published sizes and SHA-256; stored in {folder}:", markup=False)
    for stem in IDX_FILES.values():
        console.print(f"  {stem}  {(folder / stem).stat().st_size:,} bytes", markup=False)
    if to is None:  # the data folder, where both look by default
        console.print("use them with cm.data.mnist() or: calcml train mnist", markup=False)
    else:
        console.print(f"use them with cm.data.mnist({str(folder)!r}) or: calcml train mnist --data {folder}",
                      markup=False)
