"""The derivative explorer: f' with its steps (``cm.derive``), f and f' on a grid, and autodiff's f' as a check.

The page draws f and f' and moves a tangent line  y = f(a) + f'(a)(x − a)  along the curve with a
slider, from the sampled values alone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from calcml.autodiff.errors import CalcmlError
from calcml.autodiff.transforms import grad
from calcml.lab.errors import LabInputError, symbolic_errors_as_input_errors
from calcml.lab.functions import check_defined, check_size, evaluate, finite_list, finite_number, read_function
from calcml.lab.shared_calls import shared_calls
from calcml.symbolic import derive, lambdify

DERIVE_SECONDS = 3.0


def explore_derivative(expr: str, var: str, x_min: float, x_max: float, points: int) -> dict:
    """Steps, result and sampled f, f' (symbolic) and f' (calcml's autodiff) on [x_min, x_max]."""
    if not x_min < x_max:
        raise LabInputError(f"the interval needs x_min < x_max; got [{x_min:g}, {x_max:g}].", "domain")
    f_expr, f = read_function(expr, [var])
    derivation, df = derivative_of(f_expr, var)
    x = np.linspace(x_min, x_max, points)
    fx, dfx = evaluate(f, x), evaluate(df, x)
    autodiff = autodiff_derivative(f, x)
    agreement = None
    if autodiff is not None:
        both = np.isfinite(autodiff) & np.isfinite(dfx)
        if both.any():
            agreement = finite_number(np.max(np.abs(autodiff[both] - dfx[both]) / (1.0 + np.abs(dfx[both]))))
    with symbolic_errors_as_input_errors("write out the steps"):
        explained = {
            "expr": str(f_expr),
            "var": var,
            "result": str(derivation.result),
            "result_latex": sp.latex(derivation.result),
            "steps": [{"depth": depth, "title": step.title, "rule": step.rule, "text": step.statement(),
                       "where": step.parts_text(), "note": step.note}
                      for depth, step in derivation.steps.walk()],
        }
    return {
        **explained,
        "x": finite_list(x),
        "f": finite_list(fx),
        "df": finite_list(dfx),
        "df_autodiff": None if autodiff is None else finite_list(autodiff),
        "autodiff_agreement": agreement,
    }


@shared_calls
@lru_cache(maxsize=256)
def derivative_of(f_expr: sp.Expr, var: str):
    """(Derivation with steps, NumPy function of f'), cached: moving the view asks for the same steps again;
    identical requests at the same moment share one computation."""
    with symbolic_errors_as_input_errors("differentiate this function"):
        derivation = derive(f_expr, var, timeout=DERIVE_SECONDS)
        check_size(derivation.result, "the derivative")
        check_defined(derivation.result, "the derivative")
        return derivation, lambdify(derivation.result, [var])


def autodiff_derivative(f, x: np.ndarray) -> np.ndarray | None:
    """f'(x) at every sample by calcml's reverse mode (the sum's gradient, as f acts elementwise), or None
    when the engine has no rule for a function f uses."""
    try:
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(grad(lambda t: np.sum(f(t) + 0.0 * t))(x), dtype=float), x.shape)
    except (CalcmlError, TypeError, ValueError, ArithmeticError):
        return None
