"""``calcml exercises topics | ask | worksheet`` (and ``calcml exercise``, the same as ``exercises ask``).

Exit codes: 0 when an answer is right, 1 when it is wrong, malformed or missing (or the work failed),
2 for arguments that cannot be used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from calcml.cli.app import app, fail, print_json, writable_folder

exercises_app = typer.Typer(
    name="exercises", no_args_is_help=True,
    help="Exercises with checked answers: list the topics, answer one, or write a worksheet with its key.",
)
app.add_typer(exercises_app, name="exercises")

_TOPIC = typer.Option("chain-rule", "--topic", "-t", help="A topic name; see `calcml exercises topics`.")
_SEED = typer.Option(0, "--seed", "-s", help="The same seed gives the same problem.")
_DIFFICULTY = typer.Option(1, "--difficulty", "-d", min=1, max=3, help="1 (easy) to 3 (hard).")
_ANSWER = typer.Option(None, "--answer", "-a", help="Give the answer here instead of typing it.")
_SOLUTION = typer.Option(False, "--solution", help="Show the worked solution afterwards.")
_TOLERANCE = typer.Option(None, "--tolerance", help="Accept decimals within this relative tolerance (e.g. 1e-3).")
_JSON = typer.Option(False, "--json", help="Print one JSON object: the problem, the answer, the verdict (the "
                                           "answer is read without a prompt).")


def _refuse(error: Exception) -> None:
    """Exit 2 for input that cannot be used (ValueError, a parse error), 1 when the work failed (a time limit)."""
    fail(str(error), code=2 if isinstance(error, ValueError) and not _is_timeout(error) else 1)


def _is_timeout(error: Exception) -> bool:
    from calcml.symbolic.errors import SymbolicTimeoutError, WorkerError

    return isinstance(error, (SymbolicTimeoutError, WorkerError))


@exercises_app.command("topics")
def topics(
    chapter: int = typer.Option(None, "--chapter", "-c", help="Only this chapter's topics (1-20)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: chapter → topics."),
) -> None:
    """List the topics, by chapter of the book.

    Example:  calcml exercises topics --chapter 12
    """
    from calcml.exercises import CHAPTERS, for_chapter

    try:
        chapters = [chapter] if chapter is not None else list(CHAPTERS)
        listing = {n: for_chapter(n) for n in chapters}
    except ValueError as error:
        _refuse(error)
    if as_json:
        print_json({str(n): {"title": CHAPTERS[n], "topics": list(names)} for n, names in listing.items()})
        return
    for n, names in listing.items():
        typer.echo(f"{n:>2} {CHAPTERS[n]}: {', '.join(names) or '(none yet)'}")


def _ask(topic: str, seed: int, difficulty: int, answer: str | None, solution: bool, tolerance: float | None,
         as_json: bool) -> None:
    from calcml.exercises import TOPICS, generate
    from calcml.symbolic import SymbolicError

    console = Console(soft_wrap=True)
    try:
        problem = generate(topic, difficulty, seed)
    except SymbolicError as error:
        _refuse(error)
    except ValueError as error:
        fail(f"{error}. Topics: {', '.join(TOPICS)}")
    if as_json:
        _ask_json(problem, answer, solution, tolerance)
    console.print(f"[bold]{escape(problem.prompt)}[/bold]", highlight=False)
    console.print(f"[dim]Answer format: {escape(problem.answer_format)}[/dim]")
    if answer is None:
        console.print("Your answer: ", end="")
        line = sys.stdin.readline()
        if not sys.stdin.isatty():
            console.print()  # the typed answer was not echoed
        if not line.strip():
            console.print("\nNo answer was given (end of input).")
            console.print(f"Expected: {escape(problem.answer_math())}", highlight=False)
            raise typer.Exit(code=1)
        answer = line.strip()
    try:
        result = problem.check(answer, tolerance=tolerance)
    except (SymbolicError, ValueError) as error:
        _refuse(error)
    colour = "green" if result.correct else "red"
    console.print(f"[{colour}]{result.outcome}[/{colour}]: {escape(result.feedback)}", highlight=False)
    if result.hint and result.hint not in result.feedback:
        console.print(f"hint: {escape(result.hint)}", highlight=False)
    if not result.correct or solution:
        console.print(f"Expected: {escape(problem.answer_math())}", highlight=False)
    if solution:
        console.print(escape(problem.solution_text()), highlight=False)
    if not result.correct:
        raise typer.Exit(code=1)


def _ask_json(problem, answer: str | None, solution: bool, tolerance: float | None) -> None:
    """Read the answer (from --answer, else one line of standard input, with no prompt), print one JSON object
    and exit 0 when it is right, 1 when it is wrong, malformed or missing."""
    from calcml.symbolic import SymbolicError

    if answer is None:
        answer = sys.stdin.readline().strip() or None
    result = None
    if answer is not None:
        try:
            result = problem.check(answer, tolerance=tolerance)
        except (SymbolicError, ValueError) as error:
            _refuse(error)
    correct = result is not None and result.correct
    print_json({
        "topic": problem.topic, "chapter": problem.chapter, "difficulty": problem.difficulty, "seed": problem.seed,
        "prompt": problem.prompt, "answer_format": problem.answer_format, "answer": answer, "correct": correct,
        "outcome": None if result is None else result.outcome, "verdict": None if result is None else result.verdict,
        "feedback": "no answer was given" if result is None else result.feedback,
        "hint": None if result is None else result.hint, "column": None if result is None else result.column,
        "expected": problem.answer_text, "solution": problem.solution_text() if solution else None,
    })
    raise typer.Exit(code=0 if correct else 1)


@exercises_app.command("ask")
def ask(topic: str = _TOPIC, seed: int = _SEED, difficulty: int = _DIFFICULTY, answer: str = _ANSWER,
        solution: bool = _SOLUTION, tolerance: float = _TOLERANCE, as_json: bool = _JSON) -> None:
    """Ask one exercise, read your answer (from --answer or standard input) and check it.

    The verdict is correct, equivalent but not simplified, wrong (with a counterexample and a hint) or
    malformed (where and why). Exit code 0 when the answer is right, 1 otherwise.
    Example:  calcml exercises ask --topic adam --difficulty 2 --seed 3
    """
    _ask(topic, seed, difficulty, answer, solution, tolerance, as_json)


@app.command("exercise")
def exercise(topic: str = _TOPIC, seed: int = _SEED, difficulty: int = _DIFFICULTY, answer: str = _ANSWER,
             solution: bool = _SOLUTION, tolerance: float = _TOLERANCE, as_json: bool = _JSON) -> None:
    """Ask one exercise and check your answer (the same as `calcml exercises ask`).

    Example:  calcml exercise --topic chain-rule --seed 3
    """
    _ask(topic, seed, difficulty, answer, solution, tolerance, as_json)


@exercises_app.command("worksheet")
def worksheet(
    out: Path = typer.Option(Path("calcml-worksheet"), "--out", "-o", help="Folder to write into."),
    chapter: int = typer.Option(None, "--chapter", "-c", help="The topics of this chapter (1-20)."),
    topic_names: str = typer.Option(None, "--topics", "-t", help="Comma-separated topics (default: all)."),
    difficulty: int = _DIFFICULTY,
    seed: int = _SEED,
    per_topic: int = typer.Option(1, "--per-topic", "-n", min=1, max=20, help="Exercises per topic."),
    title: str = typer.Option("Exercises", "--title", help="The worksheet's title."),
    pdf: bool = typer.Option(None, "--pdf/--no-pdf", help="Compile PDFs (default: when LaTeX is installed)."),
) -> None:
    """Write an HTML and a LaTeX worksheet, each with a separate answer key (and PDFs when LaTeX is installed).

    Examples:  calcml exercises worksheet --chapter 12 --out week12
               calcml exercises worksheet --topics losses,adam --per-topic 3 --difficulty 2
    """
    from calcml.exercises import TOPICS, for_chapter, generate, write_worksheet
    from calcml.exercises.worksheet import WorksheetError, latex_compiler

    if chapter is not None and topic_names is not None:
        fail("give --chapter or --topics, not both")
    try:
        names = for_chapter(chapter) if chapter is not None else (
            [t.strip() for t in topic_names.split(",") if t.strip()] if topic_names else list(TOPICS))
        if not names:
            raise ValueError(f"chapter {chapter} has no exercises yet; see `calcml exercises topics`")
        problems = [generate(name, difficulty, seed + i) for name in names for i in range(per_topic)]
    except ValueError as error:
        _refuse(error)
    folder = writable_folder(out)
    try:
        sheet = write_worksheet(problems, folder, title=title, pdf=pdf)
    except WorksheetError as error:
        fail(str(error), code=1)
    for path in sheet.files:
        typer.echo(f"wrote {path}")
    if pdf is None and latex_compiler() is None:
        typer.echo("no PDF: LaTeX (latexmk or pdflatex) is not installed; compile the .tex files elsewhere")
