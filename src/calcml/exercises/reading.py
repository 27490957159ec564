"""Reading an answer: parsed only by calcml's restricted parser, with the names it may use fixed in advance.

An unknown name (``banana`` where the answer may use x and y) is refused with its column, not turned into a
new variable; the decimals an answer was written with are counted, so that a rounded number can be judged
to the digits given.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> read_answer("2x + banana", {"x": x})
Traceback (most recent call last):
...
calcml.exercises.reading.UnknownNameError: cannot read the expression: unknown name 'banana' (column 6)
  2x + banana
       ^
  the answer may use: x
>>> significant_digits("3.14159")
6
"""

from __future__ import annotations

import re

import sympy as sp

from calcml.exercises.typed import as_ascii, split_juxtaposed
from calcml.symbolic.errors import ParseError
from calcml.symbolic.parser import as_expr, parse, parse_rows, split_rows, tokenize


class UnknownNameError(ParseError):
    """An answer used a name that the problem does not have (a typo, or a variable from another problem)."""


def _allowed_text(allowed: dict[str, sp.Symbol]) -> str:
    names = sorted(allowed)
    if not names:
        return "the answer is a number: it may use no variables (pi, e and functions such as exp, sqrt are fine)"
    return f"the answer may use: {', '.join(names)}"


def _refuse_unknown(text: str, before: dict[str, sp.Symbol], after: dict[str, sp.Symbol]) -> None:
    new = [name for name in after if name not in before]
    if not new:
        return
    token = next((t for t in tokenize(text) if t.kind == "name" and t.text in new), None)
    column, word = (token.column, token.text) if token else (1, new[0])
    raise UnknownNameError(f"unknown name {word!r}", text, column, _allowed_text(before))


def _read_typed(reader, text: str, allowed: dict[str, sp.Symbol], rows: bool):
    """``reader`` (parse or parse_rows) on the typed ``text`` in ASCII (x² → x^(2), − → -, see
    :mod:`calcml.exercises.typed`); an error points at the column of what the learner typed."""
    ascii_text, columns = as_ascii(text, rows=rows)
    ascii_text, columns = split_juxtaposed(ascii_text, columns, set(allowed))
    table = dict(allowed)
    try:
        value = reader(ascii_text, table)
        _refuse_unknown(ascii_text, allowed, table)
    except ParseError as error:
        column = columns[error.column - 1] if 0 < error.column <= len(columns) else len(text) + 1
        raise type(error)(error.message, text, column, error.hint) from None
    return value


def read_answer(answer, allowed: dict[str, sp.Symbol]) -> sp.Expr:
    """``answer`` (text, SymPy or a number) as an expression over the ``allowed`` symbols only.

    Raises ParseError (UnknownNameError for a name outside ``allowed``) saying where and why.
    """
    if isinstance(answer, str):
        return _read_typed(parse, answer, allowed, rows=False)
    value = as_expr(answer)
    unknown = sorted(s.name for s in value.free_symbols if s.name not in allowed)
    if unknown:
        raise UnknownNameError(f"unknown name {unknown[0]!r}", sp.sstr(value), 1, _allowed_text(allowed))
    return value.xreplace({s: allowed[s.name] for s in value.free_symbols})


def read_rows(answer, allowed: dict[str, sp.Symbol]) -> list[list[sp.Expr]]:
    """A vector, matrix or list of points (rows ';'-separated, entries ','), over the ``allowed`` symbols."""
    if isinstance(answer, str):
        return _read_typed(parse_rows, answer, allowed, rows=True)
    if isinstance(answer, sp.MatrixBase):
        return [[read_answer(v, allowed) for v in row] for row in answer.tolist()]
    rows = list(answer)
    if rows and not isinstance(rows[0], (list, tuple, sp.MatrixBase)):
        return [[read_answer(v, allowed) for v in rows]]
    return [[read_answer(v, allowed) for v in row] for row in rows]


def significant_digits(answer) -> int | None:
    """The fewest significant digits among the decimal numbers written in ``answer`` (None: no decimals).

    A SymPy value holding floating-point numbers counts as 15 digits.
    """
    if not isinstance(answer, str):
        return 15 if isinstance(answer, sp.Basic) and answer.has(sp.Float) else None
    try:
        tokens = tokenize(as_ascii(answer, rows=True)[0])
    except ParseError:
        return None  # reading the answer says where and why, at the column typed
    counts = []
    for token in tokens:
        if token.kind == "number" and re.search(r"[.eE]", token.text):
            mantissa = re.split("[eE]", token.text)[0].replace(".", "").lstrip("0")
            counts.append(max(len(mantissa), 1))
    return min(counts) if counts else None


def entry_digits(answer) -> list[list[int | None]] | None:
    """For a vector, matrix or list of points typed as text, the significant digits of each entry, row by row,
    so that "0.5, 0.667" is judged entry by entry: 0.667 to its three digits, not to the one digit of 0.5."""
    if not isinstance(answer, str):
        return None
    try:
        return [[significant_digits(entry) for entry in row] for row in split_rows(as_ascii(answer, rows=True)[0])]
    except ParseError:
        return None
