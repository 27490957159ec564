"""Tour chapters 10–14 (integrals and probability) run, check something, and every check passes."""

import pytest

from calcml.tour import integrals


@pytest.mark.parametrize("make_chapter", integrals.CHAPTERS, ids=lambda f: f.__name__)
def test_chapter_checks_pass(make_chapter):
    chapter = make_chapter()
    assert chapter.checks and chapter.lines
    failed = [c for c in chapter.checks if not c.passed]
    assert not failed, failed
