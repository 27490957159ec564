"""Results show themselves in Jupyter: pictures for graphs and histories, tables for checks and chapters."""

from __future__ import annotations

import numpy as np
import pytest

import calcml as cm
from calcml.train.history import History

InteractiveShell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell


@pytest.fixture(scope="module")
def shell():
    shell = InteractiveShell.instance()
    assert cm.viz.register_svg_formatters(shell)
    return shell


def test_a_traced_graph_displays_as_its_drawing(shell):
    g = cm.trace(lambda x: np.sin(x) * x, 0.5)
    data, _ = shell.display_formatter.format(g)
    svg = data["image/svg+xml"]
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:200]
    for node in g.nodes:  # every node's id is written in the drawing
        assert node.id in svg


def test_a_training_history_displays_as_its_curves(shell):
    history = History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.7, 0.9], seconds=[0.1] * 3,
                      samples_per_second=[100.0] * 3)
    data, _ = shell.display_formatter.format(history)
    assert "<svg" in data["image/svg+xml"]


def test_grad_check_shows_a_table_with_both_estimates():
    report = cm.check_grad(lambda x: np.sum(np.sin(x)), np.array([0.1, 2.0]))
    html = report._repr_html_()
    assert "passed" in html and html.count("<tr>") == 3  # header + two elements
    assert f"{np.cos(2.0):.6f}"[:7] in html


def test_a_tour_chapter_shows_its_text_and_checks():
    from calcml.tour import run_chapter

    chapter = run_chapter(3)
    html = chapter._repr_html_()
    assert chapter.title in html and "39" in html


def test_an_ode_solution_displays_as_its_curves(shell):
    result = cm.ode.solve(lambda t, y: np.array([y[1], -y[0]]), np.array([1.0, 0.0]), (0.0, 6.0))
    svg = shell.display_formatter.format(result)[0]["image/svg+xml"]
    assert f"{result.steps} steps" in svg and "y[0]" in svg and "y[1]" in svg
