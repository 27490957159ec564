"""``calcml derive`` and ``calcml integrate``: symbolic calculus at the prompt (exercises: cli/exercises.py)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from calcml.cli.app import ExpressionCommand, app, fail, print_json

_TIMEOUT = typer.Option(
    None, "--timeout", help="Seconds before the work is stopped: more than 0, at most 300 (default 5)."
)


class _BadArgument(ValueError):
    """A command-line argument that cannot be used (exit code 2, like unreadable input)."""


def _fail(error: Exception) -> None:
    """Print the error (its first line after 'error:', any hint lines below it, never a traceback) and
    exit: 2 for input or arguments that cannot be used, 1 for anything else (a time limit, no answer)."""
    from calcml.integrate.quad import IntegrationInputError
    from calcml.symbolic import ParseError

    fail(str(error), code=2 if isinstance(error, (ParseError, _BadArgument, IntegrationInputError)) else 1)


def _time_limit(seconds: float | None) -> float:
    """``--timeout`` checked: a finite number of seconds in (0, 300]; exits with code 2 otherwise."""
    from calcml.symbolic.timeout import resolve_timeout

    try:
        return resolve_timeout(seconds)
    except ValueError as error:
        _fail(_BadArgument(f"--timeout: {error}"))


def step_lines(root) -> list[str]:
    """The steps as rich-markup lines under tree guides (├──, └──), one line per step: the rule's readable
    name, its claim, the named parts and the note. Printed without wrapping, so no expression is ever
    broken across lines (a long line runs on, as the terminal shows it)."""

    def label(step) -> str:
        text = f"[bold]{escape(step.title)}[/bold]: {escape(step.statement())}"
        if step.parts:
            text += f"  [cyan]where {escape(step.parts_text())}[/cyan]"
        if step.note:
            text += f"  [dim]({escape(step.note)})[/dim]"
        return text

    lines = [label(root)]

    def add(step, prefix: str) -> None:
        for i, child in enumerate(step.children):
            last = i == len(step.children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{label(child)}")
            add(child, prefix + ("    " if last else "│   "))

    add(root, "")
    return lines


def _show(record, headline: str, steps: bool, latex: bool, as_json: bool) -> None:
    """The result as one headline (or one LaTeX equation, or JSON), then the steps when asked; nothing is
    wrapped or cropped to the terminal's width."""
    if as_json:
        print_json(record.to_dict())
        return
    console = Console(soft_wrap=True)
    if latex:
        typer.echo(record.steps.statement_latex())  # the whole equation, on one line
        if steps:
            typer.echo(record.latex())
        return
    console.print(headline, markup=False, highlight=False)
    if steps:
        for line in step_lines(record.steps):
            console.print(line, highlight=False)


@app.command(cls=ExpressionCommand)
def derive(
    expr: str = typer.Argument(..., help='The function, e.g. "sin(x^2)" or "-x**2" (^ and ** both mean power).'),
    wrt: str = typer.Option(None, "--wrt", "-x", help="The variable (default: the only one)."),
    order: int = typer.Option(1, "--order", "-n", min=1, help="How many times to differentiate."),
    steps: bool = typer.Option(False, "--steps", help="Show every rule that was applied."),
    latex: bool = typer.Option(False, "--latex", help="Print the equation in LaTeX, on one line."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (result and step tree)."),
    timeout: float = _TIMEOUT,
) -> None:
    """Differentiate, showing how each rule produced the answer.

    Example:  calcml derive "sin(x^2)" --wrt x --steps
    """
    from calcml.symbolic import SymbolicError
    from calcml.symbolic import derive as derive_expr
    from calcml.symbolic.parser import as_expr

    limit = _time_limit(timeout)
    try:
        as_expr(expr)  # unreadable input is reported at once, without starting the symbolic workers
        d = derive_expr(expr, wrt, order, timeout=limit)
    except (SymbolicError, ValueError) as error:
        _fail(error)
    power = "" if order == 1 else f"^{order}"
    headline = f"d{power}/d{d.var}{power} [{d.expr}] = {d.result}"
    _show(d, headline, steps, latex, as_json)


@app.command(cls=ExpressionCommand)
def integrate(
    expr: str = typer.Argument(..., help='The integrand, e.g. "x*exp(x)".'),
    wrt: str = typer.Option(None, "--wrt", "-x", help="The variable (default: the only one)."),
    lower: str = typer.Option(None, "--from", help="Lower bound (a number, pi, -oo, ...)."),
    upper: str = typer.Option(None, "--to", help="Upper bound."),
    steps: bool = typer.Option(False, "--steps", help="Show the rules (substitution, parts, ...)."),
    latex: bool = typer.Option(False, "--latex", help="Print the equation in LaTeX, on one line."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (result and step tree)."),
    numeric: bool = typer.Option(False, "--numeric", help="Gauss–Kronrod quadrature (needs --from/--to)."),
    timeout: float = _TIMEOUT,
) -> None:
    """Integrate, with steps; with --from and --to, the definite integral by F(b) − F(a).

    Examples:  calcml integrate "x*exp(x)" --wrt x --from 0 --to 1
               calcml integrate "exp(-x^2)" --from -oo --to oo --numeric
    """
    from calcml.symbolic import SymbolicError
    from calcml.symbolic import integrate as integrate_expr
    from calcml.symbolic.parser import as_expr

    if (lower is None) != (upper is None):
        _fail(_BadArgument("give both --from and --to for a definite integral, or neither"))
    if numeric:
        _integrate_numerically(expr, wrt, lower, upper, as_json)
        return
    limit = _time_limit(timeout)
    try:
        names = sorted(s.name for s in as_expr(expr).free_symbols)  # bounded and cheap: errors at once
        var = wrt
        if var is None:
            if len(names) != 1:
                raise _BadArgument(f"say which variable with --wrt: the integrand has {', '.join(names) or 'none'}")
            var = names[0]
        limits = (var,) if lower is None else ((var, lower, upper),)
        result = integrate_expr(expr, *limits, timeout=limit)
    except (SymbolicError, ValueError) as error:
        _fail(error)
    if result.definite:
        headline = f"∫ from {lower} to {upper} of {result.expr} d{var} = {result.result}"
        if result.condition is not None:
            value = result.result.args[0].expr
            headline += f"\n  = {value} when {result.condition} (otherwise not evaluated: it may diverge)"
    else:
        headline = f"∫ {result.expr} d{var} = {result.result} + C"
    _show(result, headline, steps, latex, as_json)


def _integrate_numerically(expr: str, wrt: str | None, lower: str | None, upper: str | None,
                           as_json: bool = False) -> None:
    from calcml.integrate import quad_expression

    if lower is None:
        _fail(ValueError("--numeric computes a definite integral: give --from and --to"))
    try:
        result = quad_expression(expr, wrt, lower, upper, rtol=1e-10)
    except (ValueError, ArithmeticError) as error:
        _fail(error)
    if as_json:
        print_json({"expr": expr, "var": wrt, "lower": lower, "upper": upper, "value": float(result),
                    "error": result.error, "evals": result.evals, "method": result.method})
        return
    differential = f" d{wrt}" if wrt else ""
    Console(soft_wrap=True).print(f"∫ from {lower} to {upper} of {expr}{differential} ≈ {float(result):.16g}  "
                    f"(error ≤ {result.error:.1e}, {result.evals} evaluations, {result.method})", highlight=False)
