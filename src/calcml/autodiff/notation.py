"""How values and calls read in calcml's graph texts: ``0.7616``, ``(3, 4) [0, 0.1, 0.2, 0.3, …]``,
``v0 · v1``, ``sum(v4, axis=1)``.

Numbers get four significant digits, arrays their shape and first entries, so that a line of
``Graph.explain()`` stays one line however large the arrays are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from calcml.autodiff.primitive import Primitive

SHOWN_ENTRIES = 4  # how many entries of an array the text shows before "…"


def format_number(x: Any) -> str:
    """A number as calcml's graph texts print it: four significant digits, a signed zero as ``0``.

    >>> format_number(0.76159), format_number(-0.0), format_number(3)
    ('0.7616', '0', '3')
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if x == 0:  # −0.0 (e.g. x · 0 with x < 0) is zero: it prints as 0, not "-0"
        x = x + 0.0
    return format(x, ".4g")


def compact(value: Any) -> str:
    """A short text for a value: its number, its entries, or its shape and first entries.

    >>> compact(0.76159), compact([[1.0, 2.0], [3.0, 4.0]]), compact(np.arange(12.0).reshape(3, 4))
    ('0.7616', '[[1, 2], [3, 4]]', '(3, 4) [0, 1, 2, 3, …]')
    """
    array = np.asarray(value)
    if array.ndim == 0:
        return format_number(array.item())
    if array.size <= SHOWN_ENTRIES:
        return _nested(array.tolist())
    entries = ", ".join(format_number(v) for v in array.reshape(-1)[:SHOWN_ENTRIES].tolist())
    return f"{array.shape} [{entries}, …]"


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return format_number(items)


def literal(value: Any) -> str:
    """An argument that is not a node, as it reads in code.

    >>> literal(2), literal(None), literal(slice(1, 3)), literal((0, -1))
    ('2', 'None', '1:3', '(0, -1)')
    """
    if isinstance(value, (int, float, complex, np.number, np.bool_)):
        return format_number(value)
    if isinstance(value, slice):
        parts = ["" if v is None else literal(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, np.ndarray):
        return compact(value)
    text = repr(value)
    return text if len(text) <= 30 else type(value).__name__


def call_text(prim: Primitive, operands: Sequence[str], args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """How a node was computed from its operands (node ids or literals): the primitive's infix form
    (``v0 · v1``), an index (``v3[0, 1:]``), else a call (``tanh(v2)``, ``sum(v4, axis=1)``)."""
    if prim.name == "getitem" and len(operands) == 2 and not kwargs:
        index = args[1] if isinstance(args[1], tuple) else (args[1],)
        return f"{operands[0]}[{', '.join(literal(part) for part in index)}]"
    infix = prim.formula.reads(operands) if prim.formula is not None and not kwargs else None
    if infix is not None:
        return infix
    options = [f"{key}={literal(value)}" for key, value in kwargs.items()]
    return f"{prim.name}({', '.join([*operands, *options])})"
