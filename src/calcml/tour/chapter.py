"""What a tour chapter returns: prose lines, tables and checks against closed forms — and, for a chapter of the
book, the sections it is made of (each one shaped like a chapter)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Check:
    """One computed value compared with the value the mathematics says it must have."""

    label: str
    computed: float
    expected: float
    tolerance: float = 1e-8

    @property
    def passed(self) -> bool:
        """|computed − expected| ≤ tolerance · max(1, |expected|)."""
        return abs(self.computed - self.expected) <= self.tolerance * max(1.0, abs(self.expected))


@dataclass(frozen=True)
class Table:
    """A titled table of text cells."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Chapter:
    """A chapter's output: its title, what it says, its tables, its checks and its sections.

    A chapter of the book is made of sections, each computed by its own function and shaped like a chapter
    (``ch.include(section())``); its checks count for the chapter. ``number`` is its place in the tour, given
    when the tour runs (chapters do not number themselves, so adding one never renumbers the others by hand)."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    number: int = 0
    sections: list[Chapter] = field(default_factory=list)

    def say(self, text: str) -> None:
        """Add a line of prose (indented lines are shown as preformatted steps)."""
        self.lines.append(text)

    def table(self, title: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Add a table; its cells are shown as text."""
        self.tables.append(Table(title, columns, tuple(tuple(str(c) for c in row) for row in rows)))

    def check(self, label: str, computed: float, expected: float, tolerance: float = 1e-8) -> None:
        """Record that ``computed`` must equal ``expected`` within ``tolerance`` (relative beyond magnitude 1)."""
        self.checks.append(Check(label, float(computed), float(expected), tolerance))

    def include(self, section: Chapter) -> None:
        """Add ``section`` (computed by a section function) as the next section of this chapter."""
        self.sections.append(section)

    def parts(self) -> list[Chapter]:
        """This chapter and then each of its sections, in order."""
        return [self, *self.sections]

    @property
    def all_checks(self) -> list[Check]:
        """The chapter's own checks and those of its sections."""
        return [check for part in self.parts() for check in part.checks]

    @property
    def passed(self) -> bool:
        """Whether every check of the chapter and of its sections passed."""
        return all(c.passed for c in self.all_checks)

    def _repr_html_(self) -> str:
        """The chapter as the tour's report shows it (Jupyter)."""
        return chapter_html(self.number, self)


def chapter_slug(number: int, chapter: Chapter) -> str:
    """The chapter's anchor and folder name: ``07-gradient-descent``."""
    words = "".join(c if c.isalnum() else "-" for c in chapter.title.lower()).strip("-")
    return f"{number:02d}-" + "-".join(part for part in words.split("-") if part)


def _part_html(part: Chapter, heading: str, pictures: Mapping[str, Sequence[str]],
               problems: Mapping[str, Sequence[str]]) -> list[str]:
    """A chapter's or a section's heading, prose, tables, pictures and checks, as HTML fragments."""
    parts = [heading]
    paragraphs, block = [], []
    for line in part.lines:  # indented lines (an explanation's steps) read best as preformatted text
        if line.startswith((" ", "Forward pass", "Backward pass")):
            block.append(line)
            continue
        if block:
            paragraphs.append("<pre>" + html.escape("\n".join(block)) + "</pre>")
            block = []
        paragraphs.append(f"<p>{html.escape(line)}</p>")
    if block:
        paragraphs.append("<pre>" + html.escape("\n".join(block)) + "</pre>")
    parts += paragraphs
    for table in part.tables:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
        parts.append(f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    for picture in pictures.get(part.title, ()):
        parts.append(f'<img src="{html.escape(picture)}" alt="{html.escape(part.title)}: '
                     f'{html.escape(Path(picture).stem)}">')
    for problem in problems.get(part.title, ()):
        parts.append(f'<p class="fail">picture not drawn: {html.escape(problem)}</p>')
    if part.checks:
        items = "".join(
            f'<li class="{"pass" if c.passed else "fail"}">{"✓" if c.passed else "✗"} {html.escape(c.label)}: '
            f"computed {c.computed:.12g}, expected {c.expected:.12g}</li>" for c in part.checks)
        parts.append(f'<h4>Checks</h4><ul class="checks">{items}</ul>')
    return parts


def chapter_html(number: int, chapter: Chapter, pictures: Mapping[str, Sequence[str]] | None = None,
                 problems: Mapping[str, Sequence[str]] | None = None) -> str:
    """The chapter as one ``<section>`` of the tour's page: its prose, tables, pictures and checks, then each of
    its sections'. ``pictures`` and ``problems`` map a chapter's or a section's title to its picture files
    (relative paths) and to the drawings that failed."""
    pictures, problems = pictures or {}, problems or {}
    parts = [f'<section id="{chapter_slug(number, chapter)}">']
    parts += _part_html(chapter, f"<h2>{number}. {html.escape(chapter.title)}</h2>", pictures, problems)
    for section in chapter.sections:
        parts += _part_html(section, f"<h3>{html.escape(section.title)}</h3>", pictures, problems)
    parts.append("</section>")
    return "\n".join(parts)
