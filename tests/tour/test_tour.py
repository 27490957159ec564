"""The tour follows the book: twenty chapters in the book's order, each with checked results, and `calcml tour`
prints every chapter and writes an offline report."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from calcml.cli.app import app
from calcml.tour import CHAPTERS, run_chapter
from calcml.tour.chapter import Chapter, Check

BOOK = ["Limits and continuity", "Derivative rules", "Partial derivatives, gradients and directional derivatives",
        "The chain rule as backpropagation", "Jacobians, Hessians and Newton's method", "Critical points and convexity",
        "Integrals: definite, indefinite, multiple", "Probability by integration", "ODEs, gradient flow, Neural ODEs",
        "Losses and their derivatives", "Gradient descent: batch, stochastic, mini-batch",
        "Momentum, AdaGrad, RMSProp, Adam", "Backpropagation in matrix form", "A 2-layer network traced step by step",
        "Activation derivatives, vanishing and exploding gradients", "Convolutional networks",
        "Recurrent networks and backpropagation through time", "Digit classification", "Pictures of loss surfaces",
        "Beyond: policy gradients, stochastic calculus, the parameter-shift rule"]


@pytest.fixture(scope="module")
def book() -> list[Chapter]:
    import calcml.cli.tour  # noqa: F401  (registers the command)

    return [run_chapter(number) for number in range(1, len(CHAPTERS) + 1)]


def test_the_tour_has_the_books_twenty_chapters_in_order(book):
    assert [chapter.title for chapter in book] == BOOK
    assert [chapter.number for chapter in book] == list(range(1, 21))


@pytest.mark.parametrize("number", range(1, 21), ids=[f"ch{n:02d}" for n in range(1, 21)])
def test_every_chapter_has_sections_and_every_check_passes(book, number):
    chapter = book[number - 1]
    assert chapter.sections and chapter.lines, f"chapter {number} says nothing of its own or has no section"
    for section in chapter.sections:
        assert section.checks, f"section {section.title!r} of chapter {number} checks nothing"
    failed = [c for c in chapter.all_checks if not c.passed]
    assert not failed, failed


def test_network_curvature_is_checked_against_the_dense_hessian(book):
    section = next(s for s in book[4].sections if s.title == "Curvature of a network's loss")
    labels = [c.label for c in section.checks]
    assert labels == [f"λ{i}: Lanczos = dense eigvalsh" for i in (1, 2, 3)]
    assert section.checks[0].computed > section.checks[1].computed > section.checks[2].computed > 0


def test_a_check_can_fail():
    assert not Check("wrong on purpose", 1.0, 2.0).passed
    assert Check("within tolerance", 1.0 + 1e-12, 1.0).passed
    chapter = Chapter("a chapter")
    section = Chapter("a section")
    section.check("wrong on purpose", 1.0, 2.0)
    chapter.include(section)
    assert not chapter.passed and chapter.all_checks == section.checks


def test_calcml_tour_prints_every_chapter_and_writes_an_offline_report(tmp_path, book):
    result = CliRunner().invoke(app, ["tour", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "index.html").read_text(encoding="utf-8")
    for chapter in book:
        for part in chapter.parts():
            assert part.title in result.output
            assert part.title in report.replace("&#x27;", "'")
    assert "Every check agreed" in result.output
    assert "http://" not in report and "https://" not in report  # nothing fetched: it opens offline
    assert len(list(tmp_path.rglob("*.svg"))) >= 20


def test_calcml_tour_runs_one_chapter():
    result = CliRunner().invoke(app, ["tour", "--chapter", "4", "--no-report", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (chapter,) = payload["chapters"]
    assert chapter["number"] == 4 and chapter["title"] == "The chain rule as backpropagation"
    assert [s["title"] for s in chapter["sections"]] == ["One neuron, node by node"]
    assert len(chapter["checks"]) == 2 and payload["failures"] == 0
    assert CliRunner().invoke(app, ["tour", "--chapter", "21", "--no-report"]).exit_code == 2
