"""Formulas in titles and legends as mathematics, not Python: ``x**2*y`` is drawn as x²y (matplotlib mathtext).

Text is read by calcml's own parser (``calcml.symbolic.parser``: never ``eval``, never ``sympify``), printed by
SymPy's LaTeX printer and kept only when matplotlib's mathtext can typeset it.
"""

from __future__ import annotations

import functools
from typing import Any

from matplotlib.mathtext import MathTextParser


def math_text(formula: Any) -> str:
    """``formula`` (text or a SymPy expression) as mathtext ``$…$`` for a title, legend or label.

    Text that is not a formula calcml can read — already typeset, such as ``(1 − x)²`` — comes back unchanged
    (with any ``$`` escaped), so a title never fails for its formula.

    >>> cm.viz.math_text("x**2*y + 3*x*y**2")
    '$x^{2} y + 3 x y^{2}$'
    >>> cm.viz.math_text("(1 − x)² + 100(y − x²)²")
    '(1 − x)² + 100(y − x²)²'
    """
    if isinstance(formula, str):
        return _from_text(formula)
    import sympy as sp

    if isinstance(formula, sp.Basic):
        return _typeset(sp.latex(formula), str(formula))
    raise TypeError(f"math_text takes a formula as text or a SymPy expression, not {type(formula).__name__}.")


@functools.lru_cache(maxsize=256)
def _from_text(text: str) -> str:
    import sympy as sp

    from calcml.symbolic.errors import SymbolicError
    from calcml.symbolic.parser import parse

    try:
        expr = parse(text)
    except SymbolicError:
        return text.replace("$", r"\$")
    return _typeset(sp.latex(expr), text)


def _typeset(latex: str, fallback: str) -> str:
    candidate = f"${latex}$"
    try:
        MathTextParser("path").parse(candidate)
    except ValueError:  # LaTeX that mathtext does not know: show the formula as it was written
        return fallback.replace("$", r"\$")
    return candidate
