"""Every tour chapter runs, and every check it prints agrees with its closed form."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from calcml.cli.app import app
from calcml.tour import CHAPTERS
from calcml.tour.chapter import Check


@pytest.mark.parametrize("make_chapter", CHAPTERS, ids=lambda f: f.__name__)
def test_chapter_checks_pass(make_chapter):
    chapter = make_chapter()
    assert chapter.checks, f"chapter {chapter.title!r} checks nothing"
    failed = [c for c in chapter.checks if not c.passed]
    assert not failed, failed


def test_a_check_can_fail():
    assert not Check("wrong on purpose", 1.0, 2.0).passed
    assert Check("within tolerance", 1.0 + 1e-12, 1.0).passed


def test_calcml_tour_prints_every_chapter_and_writes_an_offline_report(tmp_path):
    import calcml.cli.tour  # noqa: F401  (registers the command)

    result = CliRunner().invoke(app, ["tour", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "index.html").read_text(encoding="utf-8")
    titles = [make_chapter().title for make_chapter in CHAPTERS]
    for title in titles:
        assert title in result.output
        assert title in report
    assert "Every check agreed" in result.output
    assert "http://" not in report and "https://" not in report  # nothing fetched: it opens offline
    assert len(list(tmp_path.rglob("*.svg"))) >= 10
