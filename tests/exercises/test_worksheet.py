"""Worksheets: HTML and LaTeX with a separate answer key that holds the right answers (PDF when LaTeX is here)."""

import html
import re
import sys

import pytest

from calcml.exercises import Worksheet, generate, write_worksheet
from calcml.exercises import worksheet as worksheet_module
from calcml.exercises.worksheet import WorksheetError, compile_pdf, latex_compiler

PICKS = [("chain-rule", 2, 3), ("softmax-cross-entropy", 2, 1), ("adam", 3, 0), ("two-layer-network", 3, 2),
         ("expectations", 3, 1), ("critical-points", 2, 0), ("jacobians", 1, 4), ("integrals", 2, 5)]


@pytest.fixture(scope="module")
def exercises():
    return [generate(topic, level, seed) for topic, level, seed in PICKS]


@pytest.fixture(scope="module")
def sheet(exercises, tmp_path_factory) -> Worksheet:
    return write_worksheet(exercises, tmp_path_factory.mktemp("sheet"), title="Week 3", pdf=False)


def braces_balance(text: str) -> bool:
    depth = 0
    for match in re.finditer(r"(?<!\\)[{}]", text):
        depth += 1 if match.group() == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def test_the_four_files_and_no_pdf_when_not_asked(sheet):
    assert [p.name for p in sheet.files] == ["worksheet.html", "worksheet.tex", "worksheet-key.html",
                                             "worksheet-key.tex"]
    assert sheet.pdf is None and sheet.key_pdf is None and all(p.stat().st_size > 500 for p in sheet.files)


def test_html_is_self_contained_with_mathml(sheet, exercises):
    for path in (sheet.html, sheet.key_html):
        page = path.read_text(encoding="utf-8")
        assert "<script" not in page and "<link" not in page and "@import" not in page
        assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/1998/Math/MathML"] * page.count("<math")
        assert page.count("<li>") == len(exercises) and "<math" in page and "Week 3" in page


def test_the_answer_key_holds_the_right_answers_and_the_worksheet_does_not(sheet, exercises):
    key, paper = sheet.key_html.read_text(encoding="utf-8"), sheet.html.read_text(encoding="utf-8")
    key_tex, paper_tex = sheet.key_tex.read_text(encoding="utf-8"), sheet.tex.read_text(encoding="utf-8")
    for exercise in exercises:
        typed = html.escape(exercise.answer_text)
        assert typed in key and exercise.answer_html() in key
        assert exercise.html_prompt() in key and exercise.html_prompt() in paper
        assert f"typed: {typed}" not in paper and exercise.answer_html() not in paper
        assert exercise.answer_latex() in key_tex and exercise.answer_latex() not in paper_tex
        assert exercise.check(exercise.answer_text).correct  # the key's typed answer is accepted by the checker
    adam = exercises[2]
    assert f"{float(adam.expected[0]):.6g}" in key  # decimals for irrational answers


def test_latex_structure(sheet, exercises):
    for path in (sheet.tex, sheet.key_tex):
        tex = path.read_text(encoding="utf-8")
        assert tex.isascii() and braces_balance(tex)
        assert tex.startswith("\\documentclass") and "\\usepackage{amsmath,amssymb,graphicx}" in tex
        assert tex.count("\\begin{document}") == tex.count("\\end{document}") == 1
        assert tex.count("\\begin{enumerate}") == tex.count("\\end{enumerate}") == 1
        assert tex.count("\\item ") == len(exercises)
        body = tex.split("\\begin{document}")[1]
        assert body.replace("\\$", "").count("$") % 2 == 0
    assert "answer key" in sheet.key_tex.read_text() and "\\vspace{4cm}" in sheet.tex.read_text()


def test_pdf_compilation_plumbing_without_latex(tmp_path):
    tex = tmp_path / "sheet.tex"
    tex.write_text("\\documentclass{article}")
    maker = tmp_path / "fake_latex.py"
    maker.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\np.with_suffix('.pdf').write_bytes(b'%PDF')\n")
    assert compile_pdf(tex, [sys.executable, str(maker)]).read_bytes() == b"%PDF"
    failing = tmp_path / "failing_latex.py"
    failing.write_text("print('! Undefined control sequence.')\nraise SystemExit(1)\n")
    with pytest.raises(WorksheetError, match="Undefined control sequence"):
        compile_pdf(tmp_path / "other.tex", [sys.executable, str(failing)])


def test_asking_for_a_pdf_without_latex_is_an_error(exercises, tmp_path, monkeypatch):
    monkeypatch.setattr(worksheet_module.shutil, "which", lambda name: None)
    with pytest.raises(WorksheetError, match="no LaTeX found"):
        write_worksheet(exercises[:1], tmp_path, pdf=True)
    assert write_worksheet(exercises[:1], tmp_path).pdf is None  # pdf=None: .tex only, quietly


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="non-empty list of exercises"):
        write_worksheet([], tmp_path)
    with pytest.raises(ValueError, match="non-empty list of exercises"):
        write_worksheet(["x^2"], tmp_path)


@pytest.mark.skipif(latex_compiler() is None, reason="no LaTeX (latexmk or pdflatex) on the PATH")
def test_pdfs_compile_when_latex_is_installed(exercises, tmp_path):
    sheet = write_worksheet(exercises, tmp_path)
    assert sheet.pdf.read_bytes().startswith(b"%PDF") and sheet.key_pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.skipif(latex_compiler() is None, reason="no LaTeX (latexmk or pdflatex) on the PATH")
def test_every_topic_typesets_within_the_margins(tmp_path):
    """One exercise of every topic in one worksheet and key: pdflatex reports no line running into the margin
    (long vectors and matrices are scaled to fit, typed answers and solutions break between words)."""
    from calcml.exercises import TOPICS

    every_topic = [generate(getattr(topic, "name", topic), 2, 1) for topic in TOPICS]
    sheet = write_worksheet(every_topic, tmp_path, title="every topic")
    for pdf in (sheet.pdf, sheet.key_pdf):
        log = pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
        assert "Overfull \\hbox" not in log, log[log.index("Overfull"):][:400]
