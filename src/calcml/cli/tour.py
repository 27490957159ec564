"""``calcml tour``: the book in one run, printed readably."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from calcml.cli.app import app, fail, print_json, writable_folder


@app.command()
def tour(
    out: Path = typer.Option(Path("calcml-tour"), "--out", help="Folder for the pictures and the index.html report."),
    report: bool = typer.Option(True, "--report/--no-report", help="Draw the pictures and write the report."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: every chapter's lines, tables "
                                                       "and checks."),
    only: int | None = typer.Option(None, "--chapter", help="Run only this chapter of the book (1–20)."),
) -> None:
    """Walk the book: every chapter computed, explained, drawn and checked against its closed form.

    Examples:  calcml tour                       (prints the book; writes calcml-tour/index.html, opens offline)
               calcml tour --out lecture-notes
               calcml tour --no-report           (print only)
               calcml tour --no-report --json    (the chapters and their checks as one JSON object)
               calcml tour --chapter 5           (one chapter of the book: Jacobians, Hessians and Newton's method)
    """
    from calcml.tour import CHAPTERS, run_chapter

    numbers = list(range(1, len(CHAPTERS) + 1))
    if only is not None:
        if only not in numbers:
            fail(f"--chapter {only}: the book has chapters 1 to {len(CHAPTERS)}.")
        numbers = [only]

    console = Console(quiet=as_json)  # with --json, standard output carries the JSON object only
    if report:
        _require_matplotlib()
        writable_folder(out)  # before the chapters: a bad --out must not cost the whole tour
    failures = 0
    chapters = []
    for number in numbers:
        chapter = run_chapter(number)
        chapters.append(chapter)
        console.rule(f"[bold]{chapter.number}. {chapter.title}")
        for part in chapter.parts():
            if part is not chapter:
                console.print(f"\n[bold]{part.title}[/bold]")
            failures += _print_part(console, part)
    console.rule()
    index = None
    if report:
        from calcml.tour.report import write_report

        try:
            index = write_report(out, chapters)
        except OSError as error:
            fail(f"cannot write the report into {out}: {error.strerror or error}", code=1)
        console.print(f"Report: {index}  (pictures in {out.resolve()})")
    if as_json:
        print_json({"chapters": [_chapter_json(chapter) for chapter in chapters], "failures": failures,
                    "passed": failures == 0, "report": None if index is None else str(index)})
    if failures:
        console.print(f"[red]{failures} check(s) failed.[/red]")
        raise typer.Exit(code=1)
    console.print("[green]Every check agreed with its closed form.[/green]")


def _print_part(console: Console, part) -> int:
    """Print a chapter's or a section's lines, tables and checks; return how many of its checks failed."""
    for line in part.lines:
        console.print(line)
    for data in part.tables:
        table = Table(title=data.title, title_justify="left")
        for column in data.columns:
            table.add_column(column, justify="right")
        for row in data.rows:
            table.add_row(*row)
        console.print(table)
    for check in part.checks:
        mark = "[green]✓[/green]" if check.passed else "[red]✗[/red]"
        console.print(f"  {mark} {check.label}: computed {check.computed:.12g}, expected {check.expected:.12g}")
    return sum(not check.passed for check in part.checks)


def _part_json(part) -> dict:
    """A chapter or a section as plain data: its lines without console markup, its tables and its checks."""
    from rich.text import Text

    return {
        "title": part.title, "passed": part.passed,
        "lines": [Text.from_markup(line).plain for line in part.lines],
        "tables": [{"title": t.title, "columns": t.columns, "rows": t.rows} for t in part.tables],
        "checks": [{"label": c.label, "computed": c.computed, "expected": c.expected, "tolerance": c.tolerance,
                    "passed": c.passed} for c in part.checks],
    }


def _chapter_json(chapter) -> dict:
    """A chapter as plain data: its number, and its own and its sections' lines, tables and checks (``checks``
    holds every check of the chapter, its sections' included)."""
    own = _part_json(chapter)
    return {"number": chapter.number, **own,
            "checks": [check for part in chapter.parts() for check in _part_json(part)["checks"]],
            "sections": [_part_json(section) for section in chapter.sections]}


def _require_matplotlib() -> None:
    """The report's pictures need matplotlib (the ``plot`` extra): say so before any chapter runs."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        fail("the tour's report draws its pictures with matplotlib, which is not installed: "
             "pip install 'calcml[plot]', or run `calcml tour --no-report` to print the book only.")
