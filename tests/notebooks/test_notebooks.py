"""The book's notebooks (notebooks/chNN_topic.py, jupytext's percent format): one per chapter, each opening with what
the chapter teaches and ending with its exercises — and each executed here, cell by cell, in a fresh Jupyter kernel
(jupytext converts it, nbclient runs it), so every ``assert`` in it is a test of calcml.

The repository keeps the notebooks as text without outputs; the documentation site shows them as pages
(docs/hooks.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="jupytext is not installed (pip install -e '.[test]')")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[test]')")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("ch[0-9][0-9]_*.py"))
BOOK_CHAPTERS = 20


def chapter_of(path: Path) -> int:
    return int(path.stem[2:4])


def test_one_notebook_per_chapter_of_the_book():
    assert [chapter_of(path) for path in NOTEBOOKS] == list(range(1, BOOK_CHAPTERS + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_teaches_checks_and_ends_with_its_exercises(path):
    cells = jupytext.read(path).cells
    number = chapter_of(path)
    first = cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# Chapter {number} — ")
    assert "What this chapter teaches" in first.source
    code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    assert len(re.findall(r"^\s*assert ", code, flags=re.M)) >= 2, "a notebook checks its results"
    exercises = next(i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
                     and "## Exercises" in cell.source)
    assert f"cm.exercises.for_chapter({number})" in "\n".join(cell.source for cell in cells[exercises:])
    assert all(not cell.get("outputs") for cell in cells), "notebooks are kept without outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_and_every_check_in_it_passes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell and the failed assert
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]


def test_the_documentation_shows_a_notebook_as_text_and_code(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    sys.modules.pop("hooks", None)
    import hooks

    page = hooks.notebook_markdown(ROOT / "notebooks" / "ch04_chain_rule_as_backpropagation.py")
    assert page.count("```python") >= 4 and "# Chapter 4 — The chain rule as backpropagation" in page
    assert "cm.exercises.for_chapter(4)" in page and "# %%" not in page
    assert [path.stem for path in hooks.notebook_files()] == [path.stem for path in NOTEBOOKS]
