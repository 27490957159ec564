"""The typer application that every command module registers on."""

import typer

app = typer.Typer(
    name="calcml",
    help="Calculus for machine learning, computed: derivatives, integrals, ODEs and backpropagation.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def calcml() -> None:
    """calcml: derivatives, integrals and backpropagation you can run, check and see."""
