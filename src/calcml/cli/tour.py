"""``calcml tour``: the book in one run, printed readably."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from calcml.cli.app import app, fail, writable_folder


@app.command()
def tour(
    out: Path = typer.Option(Path("calcml-tour"), "--out", help="Folder for the pictures and the index.html report."),
    report: bool = typer.Option(True, "--report/--no-report", help="Draw the pictures and write the report."),
) -> None:
    """Walk the book: every chapter computed, explained, drawn and checked against its closed form.

    Examples:  calcml tour                       (prints the book; writes calcml-tour/index.html, opens offline)
               calcml tour --out lecture-notes
               calcml tour --no-report           (print only)
    """
    from calcml.tour import CHAPTERS, run_chapter

    console = Console()
    if report:
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
    if report:
        from calcml.tour.report import write_report

        try:
            index = write_report(out, chapters)
        except OSError as error:
            fail(f"cannot write the report into {out}: {error.strerror or error}", code=1)
        console.print(f"Report: {index}  (pictures in {out.resolve()})")
    if failures:
        console.print(f"[red]{failures} check(s) failed.[/red]")
        raise typer.Exit(code=1)
    console.print("[green]Every check agreed with its closed form.[/green]")
