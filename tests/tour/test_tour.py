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


def test_calcml_tour_command_prints_every_chapter():
    import calcml.cli.tour  # noqa: F401  (registers the command)

    result = CliRunner().invoke(app, ["tour"])
    assert result.exit_code == 0, result.output
    for make_chapter in CHAPTERS:
        assert make_chapter().title in result.output
    assert "Every check agreed" in result.output
