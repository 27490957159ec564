"""Turn a symbolic result into a NumPy function, to compare it with numeric and automatic derivatives."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

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
