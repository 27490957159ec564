"""What a tour chapter returns: prose lines, tables and checks against closed forms."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """One computed value compared with the value the mathematics says it must have."""

    label: str
    computed: float
    expected: float
    tolerance: float = 1e-8

    @property
    def passed(self) -> bool:
        return abs(self.computed - self.expected) <= self.tolerance * max(1.0, abs(self.expected))


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Chapter:
    """A chapter's output: its title, what it says, its tables and its checks.

    ``number`` is its place in the tour, given when the tour runs (chapters do not number themselves,
    so adding one never renumbers the others by hand)."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    number: int = 0

    def say(self, text: str) -> None:
        self.lines.append(text)

    def table(self, title: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        self.tables.append(Table(title, columns, tuple(tuple(str(c) for c in row) for row in rows)))

    def check(self, label: str, computed: float, expected: float, tolerance: float = 1e-8) -> None:
        self.checks.append(Check(label, float(computed), float(expected), tolerance))

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def _repr_html_(self) -> str:
        """The chapter as the tour's report shows it (Jupyter)."""
        from calcml.tour.report import chapter_html

        return chapter_html(self.number, self, (), ())
