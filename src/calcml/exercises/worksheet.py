"""Handing exercises out: an HTML and a LaTeX worksheet, each with a separate answer key.

The HTML is one self-contained file (formulas in MathML, which browsers render without any network); the
LaTeX compiles with pdflatex and the amsmath package. PDFs are made only when ``latexmk`` or ``pdflatex``
is on the PATH.

>>> import tempfile
>>> from calcml.exercises import generate
>>> sheet = write_worksheet([generate("softmax-cross-entropy", 1, seed=0)], tempfile.mkdtemp(), pdf=False)
>>> sorted(path.name for path in sheet.files)
['worksheet-key.html', 'worksheet-key.tex', 'worksheet.html', 'worksheet.tex']
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from calcml.errors import CalcmlError
from calcml.exercises.exercise import Exercise
from calcml.exercises.notation import latex_text

_CSS = """body{font-family:Georgia,serif;max-width:48em;margin:2em auto;line-height:1.5;padding:0 1em}
li{margin-bottom:1.6em}.format{color:#555;font-size:.9em}.space{height:5em;border-bottom:1px dotted #aaa}
.answer{background:#f4f8f4;padding:.4em .6em}.typed{font-family:monospace}.steps{white-space:pre-wrap;color:#333}
.meta{color:#777;font-size:.85em}"""

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb,graphicx}
\usepackage[margin=2.2cm]{geometry}
\setlength{\parindent}{0pt}
\newsavebox{\answerbox}
% an answer wider than the line (a long vector or matrix) is scaled down to fit, never run into the margin
\newcommand{\fitanswer}[1]{\sbox{\answerbox}{#1}%
  \ifdim\wd\answerbox>\dimexpr\linewidth-5em\relax\resizebox{\dimexpr\linewidth-5em\relax}{!}{\usebox{\answerbox}}%
  \else\usebox{\answerbox}\fi}
"""


class WorksheetError(CalcmlError, RuntimeError):
    """A worksheet could not be written or compiled (the LaTeX log's end is in the message)."""


@dataclass(frozen=True)
class Worksheet:
    """The files of a worksheet: ``html``, ``tex`` and their answer keys; ``pdf``/``key_pdf`` when compiled."""

    html: Path
    tex: Path
    key_html: Path
    key_tex: Path
    pdf: Path | None = None
    key_pdf: Path | None = None

    @property
    def files(self) -> list[Path]:
        """Every file written."""
        return [p for p in (self.html, self.tex, self.key_html, self.key_tex, self.pdf, self.key_pdf) if p]


def _meta(exercise: Exercise) -> str:
    return f"chapter {exercise.chapter} · {exercise.topic} · difficulty {exercise.difficulty} · seed {exercise.seed}"


def _html_page(title: str, items: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head>\n<body><h1>{html.escape(title)}</h1>\n<ol>\n" + "\n".join(items)
            + "\n</ol></body></html>\n")


def worksheet_html(exercises: Sequence[Exercise], title: str) -> str:
    """The worksheet as one HTML page: each prompt, its answer format and room to answer."""
    items = [f'<li><p>{e.html_prompt()}</p><p class="format">Answer format: {html.escape(e.answer_format)}</p>'
             f'<p class="meta">{html.escape(_meta(e))}</p><div class="space"></div></li>' for e in exercises]
    return _html_page(title, items)


def key_html(exercises: Sequence[Exercise], title: str) -> str:
    """The answer key as one HTML page: each prompt, the answer in MathML and as typed, the worked solution."""
    items = [f"<li><p>{e.html_prompt()}</p><p class=\"answer\">Answer: {e.answer_html()}</p>"
             f'<p class="typed">typed: {html.escape(e.answer_text)}</p>'
             f'<div class="steps">{html.escape(e.solution_text())}</div></li>' for e in exercises]
    return _html_page(f"{title} — answer key", items)


def _latex_document(title: str, items: list[str]) -> str:
    body = "\n".join(items)
    return (f"{_PREAMBLE}\\title{{{latex_text(title)}}}\\date{{}}\n\\begin{{document}}\n\\maketitle\n"
            f"\\begin{{enumerate}}\n{body}\n\\end{{enumerate}}\n\\end{{document}}\n")


def worksheet_latex(exercises: Sequence[Exercise], title: str) -> str:
    """The worksheet as a LaTeX document (pdflatex, amsmath)."""
    items = [f"\\item {e.latex_prompt()}\n\n{{\\small Answer format: {latex_text(e.answer_format)}}}\n"
             f"\\vspace{{4cm}}" for e in exercises]
    return _latex_document(title, items)


def key_latex(exercises: Sequence[Exercise], title: str) -> str:
    """The answer key as a LaTeX document: each answer in math mode, as typed, and the worked solution."""
    items = [f"\\item {e.latex_prompt()}\n\n\\textbf{{Answer:}} \\fitanswer{{$\\displaystyle {e.answer_latex()}$}}\n\n"
             f"{{\\small\\raggedright typed: \\texttt{{{latex_text(e.answer_text)}}}\\par}}\n\n"
             f"{{\\small\\raggedright {e.solution_latex()}\\par}}\n"
             for e in exercises]
    return _latex_document(f"{title} — answer key", items)


def latex_compiler() -> list[str] | None:
    """The command that turns a .tex file into a PDF here (latexmk, else pdflatex), or None."""
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error"]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    return None


def compile_pdf(tex: Path, command: list[str]) -> Path:
    """Run ``command`` on ``tex`` in its folder; the PDF's path, or WorksheetError with the log's end."""
    try:
        done = subprocess.run([*command, tex.name], cwd=tex.parent, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as error:
        raise WorksheetError(f"{command[0]} did not finish {tex.name} within 300 s") from error
    pdf = tex.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.exists():
        tail = "\n".join(done.stdout.splitlines()[-15:])
        raise WorksheetError(f"{command[0]} could not compile {tex}:\n{tail}")
    return pdf


def write_worksheet(
    exercises: Sequence[Exercise],
    folder: str | Path,
    *,
    title: str = "Exercises",
    name: str = "worksheet",
    pdf: bool | None = None,
) -> Worksheet:
    """Write ``name``.html and ``name``.tex, with ``name``-key.html and ``name``-key.tex, into ``folder``.

    ``pdf``: None compiles PDFs when LaTeX is installed, True requires it (WorksheetError when missing),
    False never compiles.
    """
    exercises = list(exercises)
    if not exercises or not all(isinstance(e, Exercise) for e in exercises):
        raise ValueError("write_worksheet needs a non-empty list of exercises from calcml.exercises.generate")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {suffix: folder / f"{name}{suffix}" for suffix in (".html", ".tex", "-key.html", "-key.tex")}
    paths[".html"].write_text(worksheet_html(exercises, title), encoding="utf-8")
    paths[".tex"].write_text(worksheet_latex(exercises, title), encoding="utf-8")
    paths["-key.html"].write_text(key_html(exercises, title), encoding="utf-8")
    paths["-key.tex"].write_text(key_latex(exercises, title), encoding="utf-8")
    sheet = Worksheet(paths[".html"], paths[".tex"], paths["-key.html"], paths["-key.tex"])
    command = latex_compiler() if pdf is not False else None
    if pdf and command is None:
        raise WorksheetError("no LaTeX found (latexmk or pdflatex on the PATH): install TeX Live, or pass "
                             "pdf=False for the .tex files only")
    if command is None:
        return sheet
    return Worksheet(sheet.html, sheet.tex, sheet.key_html, sheet.key_tex,
                     compile_pdf(sheet.tex, command), compile_pdf(sheet.key_tex, command))
