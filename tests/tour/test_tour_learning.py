"""Tour chapters 7–9 run and every check in them agrees with its closed form."""

import pytest

from calcml.tour import learning


@pytest.mark.parametrize("make_chapter", [learning.regression_by_gradient_descent, learning.two_layer_network,
                                          learning.optimizers_compared])
def test_learning_chapter_checks_pass(make_chapter):
    chapter = make_chapter()
    assert chapter.checks and chapter.passed, [c for c in chapter.checks if not c.passed]
    assert chapter.tables and chapter.lines


def test_two_layer_chapter_shows_the_traced_graph():
    lines = "\n".join(learning.two_layer_network().lines)
    assert "v5 = v4 + v1" in lines and "∂L/∂v0" in lines
