"""``calcml lab``: the local web lab on http://127.0.0.1:PORT (this machine only), opened in the browser."""

from __future__ import annotations

from typing import Annotated

import typer

from calcml.cli.app import app


@app.command("lab")
def lab_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="port on 127.0.0.1 to serve on.")] = 8000,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="do not open the page in a browser.")] = False,
) -> None:
    """Serve the lab (derivatives, optimizer race, backprop, integrals, training) on 127.0.0.1 until Ctrl-C.

    Example:  calcml lab --port 8000 --no-browser      then open http://127.0.0.1:8000/
    """
    try:
        from calcml.lab import serve
    except ImportError as error:
        typer.echo(f"the lab needs its extras ({error.name} is missing): pip install 'calcml[lab]'", err=True)
        raise typer.Exit(code=2) from error
    try:
        serve(port=port, open_browser=not no_browser)
    except OSError as error:
        typer.echo(f"cannot serve on 127.0.0.1:{port}: {error.strerror or error}. Try another --port.", err=True)
        raise typer.Exit(code=2) from error
