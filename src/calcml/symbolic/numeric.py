"""Turn a symbolic result into a NumPy function, to compare it with numeric and automatic derivatives."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from calcml.symbolic.errors import UnknownVariableError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.multivariable import as_symbols
from calcml.symbolic.parser import as_expr


def lambdify(expr: str | sp.Expr, variables: str | Sequence[str | sp.Symbol] | None = None) -> Callable:
    """A NumPy function of ``variables`` (default: free symbols by name) computing ``expr``.

    ML functions are written with np.exp/np.log/np.select, so arrays (and calcml Tensors that
    dispatch NumPy calls) work.

    >>> f = lambdify(cm.derive("sigmoid(x)", "x").result, ["x"]); float(f(0.0))
    0.25
    """
    f = as_expr(expr)
    xs = as_symbols(variables, f) if variables is not None or f.free_symbols else ()
    return sp.lambdify(xs, to_elementary(f), modules="numpy")


def read_formula(text: str | sp.Expr, variables: Sequence[str] | None = None, what: str = "the formula",
                 check: Callable[[sp.Expr], None] | None = None) -> tuple[sp.Expr, Callable]:
    """A formula typed by a person as (expression, NumPy function of ``variables``): read by calcml's safe
    parser (never ``eval``), then lambdified. Every place that takes a formula (pictures, optimizer races,
    the lab) reads it here.

    ``variables`` are the only names the formula may use, in the order the function takes them (None: its
    own variables, alphabetically, or ``x`` for a constant); ``check`` sees the expression before it is
    turned into code (the lab refuses numbers too long to print there).

    >>> expr, f = read_formula("x**2 + 10*y**2", ["x", "y"]); float(f(1.0, 1.0))
    11.0

    Raises ParseError for unreadable text and UnknownVariableError, naming them, for other variables.
    """
    expr = as_expr(text)
    if check is not None:
        check(expr)
    names = sorted(s.name for s in expr.free_symbols)
    if variables is None:
        variables = names or ["x"]
    unknown = [name for name in names if name not in variables]
    if unknown:
        raise UnknownVariableError(f"{what} may only use {' and '.join(variables)}; it also has {', '.join(unknown)}.")
    return expr, lambdify(expr, list(variables))
