"""The notation a learner copies from a prompt, read as the parser's ASCII: x² → x^(2), − → -, 3·x → 3*x.

Prompts are shown in Unicode (3x² − x/2, σ(z), √x, π), so an answer typed or pasted in the same notation is
read, not refused. Each character of the ASCII text remembers the column it came from, so an error still
points at the spot the learner typed. Vectors may be typed as lists, [2x, 2y], and matrices as nested lists,
[[1, 2], [3, 4]] (rows become ';'-separated).

>>> as_ascii("−3x²·y")[0]
'-3x^(2)*y'
>>> as_ascii("σ(z)(1 − σ(z))")[0]
'sigmoid(z)(1 - sigmoid(z))'
>>> split_juxtaposed("2xy + y", list(range(1, 8)), {"x", "y"})[0]
'2x*y + y'
>>> as_ascii("[[1, 2], [3, 4]]", rows=True)[0]
'  1, 2;3, 4  '
"""

from __future__ import annotations

import re

from calcml.symbolic.errors import ParseError
from calcml.symbolic.parser import CONSTANTS, FUNCTIONS, tokenize

_SAME = {"−": "-", "–": "-", "×": "*", "·": "*", "⋅": "*", "∙": "*", "π": " pi ", "÷": "/"}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))
_NAME = re.compile(r"\d+(?:\.\d*)?|[A-Za-z]\w*")
_ROW_BREAK = re.compile(r"\]\s*,\s*\[")


def as_ascii(text: str, *, rows: bool = False) -> tuple[str, list[int]]:
    """``text`` in the parser's ASCII, and for each of its characters the 1-based column it came from.

    ``rows``: also read list brackets as rows (a vector [a, b]; a matrix [[a, b], [c, d]] as "a, b; c, d")."""
    out: list[str] = []
    columns: list[int] = []

    def emit(piece: str, column: int) -> None:
        out.append(piece)
        columns.extend([column] * len(piece))

    i = 0
    while i < len(text):
        char = text[i]
        if char in _SUPERSCRIPTS:
            j = i
            while j < len(text) and text[j] in _SUPERSCRIPTS:
                j += 1
            emit("^(" + "".join(_SUPERSCRIPTS[c] for c in text[i:j]) + ")", i + 1)
            i = j
            continue
        if char == "σ" and text[i + 1:i + 2] and text[i + 1] in "(" + "".join(_SUPERSCRIPTS):
            emit("sigmoid", i + 1)
        elif char == "√":
            word = _NAME.match(text, i + 1)
            if word:  # √x, √2: the root of the one name or number that follows (√2x is √2·x)
                emit(f"sqrt({word.group()})", i + 1)
                i = word.end()
                continue
            emit("sqrt", i + 1)
        elif rows and char in "[]":
            between = _ROW_BREAK.match(text, i) if char == "]" else None
            if between:  # "], [" between two rows of a nested list
                emit(";", i + 1)
                i = between.end()
                continue
            emit(" ", i + 1)
        else:
            emit(_SAME.get(char, char), i + 1)
        i += 1
    return "".join(out), columns


def split_juxtaposed(text: str, columns: list[int], names: set[str]) -> tuple[str, list[int]]:
    """"2xy" as 2*x*y when x and y are among the problem's ``names`` and xy is not (nor a function or constant):
    a word made only of one-letter variables is their product, as in the prompt's x·y."""
    variables = {name for name in names if len(name) == 1}
    try:
        tokens = tokenize(text)
    except ParseError:
        return text, columns
    out, mapped, position = [], [], 0
    for token in tokens:
        word = token.text
        if token.kind != "name" or word in names or word in FUNCTIONS or word in CONSTANTS \
                or len(word) < 2 or not all(letter in variables for letter in word):
            continue
        start = token.column - 1
        out.append(text[position:start])
        mapped.extend(columns[position:start])
        out.append("*".join(word))
        mapped.extend(c for k in range(len(word)) for c in ([columns[start + k]] * (2 if k else 1)))
        position = start + len(word)
    out.append(text[position:])
    mapped.extend(columns[position:])
    return "".join(out), mapped
