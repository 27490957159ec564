"""The tour's chapters 7 and 8 (integrals, probability) run, check something, and every check passes."""

import pytest

from calcml.tour import integrals


@pytest.mark.parametrize("make_chapter", integrals.CHAPTERS, ids=lambda f: f.__name__)
def test_chapter_checks_pass(make_chapter):
    chapter = make_chapter()
    assert chapter.all_checks and chapter.lines
    failed = [c for c in chapter.all_checks if not c.passed]
    assert not failed, failed
