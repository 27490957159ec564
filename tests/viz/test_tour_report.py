"""The tour's report (calcml.tour.report): index.html with every chapter's text, tables, checks and pictures,
opening offline."""

import re
from pathlib import Path

import pytest

from calcml.tour import report
from calcml.tour.chapter import Chapter


def make_chapter(title: str, number: int) -> Chapter:
    ch = Chapter(title=title, number=number)
    ch.say("f(x) = sin x at x = 1 <and> a line with markup")
    ch.say("  v0 = x = 1    (input)")
    ch.table("difference quotients", ("h", "quotient"), [("1e-1", "0.4973"), ("1e-2", "0.5361")])
    ch.check("autodiff f'(1) = cos 1", 0.5403023058681398, 0.5403023058681398)
    ch.check("a check that fails", 1.0, 2.0)
    return ch


def test_index_holds_text_tables_checks_and_relative_pictures(tmp_path):
    chapters = [make_chapter("The derivative as a limit", 1), make_chapter("A chapter without pictures", 2)]
    index = report.write_report(tmp_path, chapters)
    page = index.read_text(encoding="utf-8")
    assert index == tmp_path / "index.html"
    assert "f(x) = sin x at x = 1 &lt;and&gt; a line with markup" in page  # text, escaped
    assert "<pre>  v0 = x = 1    (input)</pre>" in page  # explanation steps keep their layout
    assert page.count("<caption>difference quotients</caption>") == 2 and "<td>0.5361</td>" in page
    assert page.count('class="pass"') >= 2 and "✗ a check that fails" in page
    assert "2 of 4 checks failed" in page
    pictures = re.findall(r'<img src="([^"]+)"', page)
    assert pictures == ["01-the-derivative-as-a-limit/secants.svg"]
    svg = (tmp_path / pictures[0]).read_text()
    assert "tangent: slope f'(1) = 0.5403" in svg


def test_page_fetches_nothing(tmp_path):
    index = report.write_report(tmp_path, [make_chapter("The derivative as a limit", 1)])
    page = index.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script" not in page and "<link" not in page
    for src in re.findall(r'(?:src|href)="([^"#]+)"', page):
        assert (tmp_path / src).is_file()


def test_a_picture_that_fails_is_named_not_fatal(tmp_path, monkeypatch):
    def broken(folder: Path):
        raise RuntimeError("no ink")

    monkeypatch.setitem(report.PICTURES, "Broken chapter", broken)
    page = report.write_report(tmp_path, [make_chapter("Broken chapter", 3)]).read_text(encoding="utf-8")
    assert "picture not drawn: RuntimeError: no ink" in page


@pytest.mark.parametrize("title", sorted(report.PICTURES))
def test_every_picture_belongs_to_a_chapter_of_the_tour(title):
    import inspect

    from calcml.tour import contents

    sources = "".join(inspect.getsource(inspect.getmodule(maker)) for maker in contents.CHAPTERS)
    assert f'"{title}"' in sources, f"no tour chapter is titled {title!r}: rename its entry in PICTURES"


@pytest.mark.parametrize("title", sorted(report.PICTURES))
def test_every_picture_draws(title, tmp_path):
    paths = report.PICTURES[title](tmp_path)
    assert paths and all(p.is_file() and p.stat().st_size > 1000 for p in paths)
