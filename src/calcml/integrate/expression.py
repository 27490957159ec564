"""A definite integral of a formula, computed numerically: what ``calcml integrate ... --numeric`` runs."""

from __future__ import annotations

from calcml.integrate.quad import QuadResult, quad


def quad_expression(expr: str, var: str | None, lower: str, upper: str, rtol: float = 1e-10) -> QuadResult:
    """∫_lower^upper expr d var by ``quad``; the formula and the limits ("pi", "-oo", "1/2") are parsed
    safely by calcml's SymPy parser, never eval'd.

    >>> float(quad_expression("exp(-x^2)", "x", "-oo", "oo"))    # √π
    1.772453850905517
    """
    from calcml.symbolic.numeric import lambdify
    from calcml.symbolic.parser import as_expr

    f = as_expr(expr)
    names = sorted(s.name for s in f.free_symbols)
    if var is None:
        if len(names) > 1:
            raise ValueError(f"say which variable with --wrt: the integrand has {', '.join(names)}")
        var = names[0] if names else "x"
    others = [n for n in names if n != var]
    if others:
        raise ValueError(f"a numeric integral needs numbers for every other symbol: {', '.join(others)} "
                         "have no value")
    a, b = (float(as_expr(bound).evalf()) for bound in (lower, upper))
    return quad(lambdify(f, [var]), a, b, rtol=rtol)
