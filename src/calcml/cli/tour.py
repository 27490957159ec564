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
) -> None:
    """Walk the book: every chapter computed, explained, drawn and checked against its closed form.

    Examples:  calcml tour                       (prints the book; writes calcml-tour/index.html, opens offline)
               calcml tour --out lecture-notes
               calcml tour --no-report           (print only)
               calcml tour --no-report --json    (the chapters and their checks as one JSON object)
    """
    from calcml.tour import CHAPTERS, run_chapter

    console = Console(quiet=as_json)  # with --json, standard output carries the JSON object only
    if report:
        _require_matplotlib()
        writable_folder(out)  # before the chapters: a bad --out must not cost the whole tour
    failures = 0
    chapters = []
    for number in range(1, len(CHAPTERS) + 1):
        chapter = run_chapter(number)
        chapters.append(chapter)
        console.rule(f"[bold]{chapter.number}. {chapter.title}")
        for line in chapter.lines:
            console.print(line)
        for data in chapter.tables:
            table = Table(title=data.title, title_justify="left")
            for column in data.columns:
                table.add_column(column, justify="right")
            for row in data.rows:
                table.add_row(*row)
            console.print(table)
        for check in chapter.checks:
            mark = "[green]✓[/green]" if check.passed else "[red]✗[/red]"
            console.print(f"  {mark} {check.label}: computed {check.computed:.12g}, expected {check.expected:.12g}")
            failures += not check.passed
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


def _chapter_json(chapter) -> dict:
    """A chapter as plain data: its lines without console markup, its tables and its checks."""
    from rich.text import Text

    return {
        "number": chapter.number, "title": chapter.title, "passed": chapter.passed,
        "lines": [Text.from_markup(line).plain for line in chapter.lines],
        "tables": [{"title": t.title, "columns": t.columns, "rows": t.rows} for t in chapter.tables],
        "checks": [{"label": c.label, "computed": c.computed, "expected": c.expected, "tolerance": c.tolerance,
                    "passed": c.passed} for c in chapter.checks],
    }


def _require_matplotlib() -> None:
    """The report's pictures need matplotlib (the ``plot`` extra): say so before any chapter runs."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        fail("the tour's report draws its pictures with matplotlib, which is not installed: "
             "pip install 'calcml[plot]', or run `calcml tour --no-report` to print the book only.")
