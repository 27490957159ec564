"""A definite integral of a formula, computed numerically: what ``calcml integrate ... --numeric`` runs."""

from __future__ import annotations

import math
import warnings

import numpy as np

from calcml.integrate.quad import IntegrandError, IntegrationInputError, IntegrationWarning, QuadResult, quad


def quad_expression(expr: str, var: str | None, lower: str, upper: str, rtol: float = 1e-10) -> QuadResult:
    """∫_lower^upper expr d var by ``quad``; the formula and the limits ("pi", "-oo", "1/2") are parsed
    safely by calcml's SymPy parser, never eval'd.

    >>> float(quad_expression("exp(-x^2)", "x", "-oo", "oo"))    # √π
    1.772453850905517

    Every unusable input is an IntegrationInputError (a ValueError) with a one-line reason: an integrand
    that is undefined as written (``x*log(0)`` is x·zoo), a limit that is not a real number (``nan``,
    ``zoo``, ``1 + I``, another symbol). An integral that does not converge with an error below its
    value (∫_0^∞ x dx), or that diverges (∫_0^1 1/x², value ±inf or NaN), raises IntegrandError instead of
    returning a number with a warning.
    """
    import sympy as sp

    from calcml.symbolic.errors import SymbolicError
    from calcml.symbolic.numeric import read_formula
    from calcml.symbolic.parser import as_expr

    def defined(f: sp.Expr) -> None:
        if f.has(sp.zoo, sp.nan):
            raise IntegrationInputError(f"the integrand {expr} is undefined as written (it simplifies to {f}: a "
                                        "division by zero or a log of 0); fix the formula.")
        if f.has(sp.oo, -sp.oo):
            raise IntegrationInputError(f"the integrand {expr} is infinite as written ({f}); fix the formula.")

    try:
        f, function = read_formula(expr, check=defined)  # a function of the integrand's own variables
    except (SymbolicError, IntegrationInputError):
        raise
    except Exception as error:  # SymPy's printer met something NumPy has no function for
        raise IntegrationInputError(f"cannot evaluate {expr} numerically ({type(error).__name__}: {error}).") from error
    names = sorted(s.name for s in f.free_symbols)
    if var is None:
        if len(names) > 1:
            raise IntegrationInputError(f"say which variable with --wrt: the integrand has {', '.join(names)}")
        var = names[0] if names else "x"
    others = [n for n in names if n != var]
    if others:
        raise IntegrationInputError(f"a numeric integral needs numbers for every other symbol: {', '.join(others)} "
                                    "have no value")
    def limit(bound: str, name: str) -> float:
        try:
            return _limit(as_expr(bound), bound, name)
        except SymbolicError as error:  # nan, zoo: refused by the parser itself
            raise IntegrationInputError(f"{name} {bound} is not a number ({str(error).splitlines()[0]})") from error

    a, b = limit(lower, "--from"), limit(upper, "--to")
    integrand = function  # of ``var`` alone: any other variable was refused above
    with np.errstate(all="ignore"), warnings.catch_warnings():  # quad itself reports non-finite values
        warnings.simplefilter("ignore", IntegrationWarning)
        result = quad(integrand, a, b, rtol=rtol)
    if not math.isfinite(float(result)):
        raise IntegrandError(
            f"∫ {expr} from {lower} to {upper} did not converge: it diverges, quad's partial integrals grow without "
            f"bound toward an end of the range (the value would be {float(result)}; {result.evals:,} evaluations, "
            f"{result.method}).")
    if not result.converged and not result.error < abs(float(result)):
        raise IntegrandError(
            f"∫ {expr} from {lower} to {upper} did not converge: estimated error {result.error:.2e} after "
            f"{result.evals:,} evaluations ({result.method}); the integral may diverge.")
    return result


def _limit(value, text: str, name: str) -> float:
    """A limit as a float: a real number or ±∞; NaN, complex or symbolic limits are refused."""
    import sympy as sp

    if value in (sp.oo, -sp.oo):
        return float(value)
    if value.free_symbols:
        raise IntegrationInputError(f"{name} {text} is not a number (it reads as the symbol(s) "
                                    f"{', '.join(sorted(s.name for s in value.free_symbols))}); give a number, "
                                    "or -oo/oo for an infinite range.")
    try:
        number = complex(value.evalf())
    except (TypeError, ValueError) as error:
        raise IntegrationInputError(f"{name} {text} is not a number.") from error
    if number.imag != 0 or math.isnan(number.real):
        raise IntegrationInputError(f"{name} {text} is not a real number (it is {value}); give a number, or "
                                    "-oo/oo for an infinite range.")
    if math.isinf(number.real):
        raise IntegrationInputError(f"{name} {text} is finite but too large for a float (> 1.8e308); "
                                    "write -oo/oo if you mean an infinite range.")
    return number.real
