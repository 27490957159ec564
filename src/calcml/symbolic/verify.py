"""Check every step of an explanation against SymPy before anyone sees it.

For a derivative step the reference is ``sympy.diff`` of the step's input — applied to the
elementary form (exp/log/Piecewise) when ML functions are present, so the check does not lean on
calcml's own derivative formulas. For an integral step the derivative of the result must give
back the integrand; for a rewrite both sides must be equal, and a definite integral's value must
match SymPy's own evaluation of it. Equality is structural when SymPy
already writes both sides alike, otherwise numeric at reproducible random points.
"""

from __future__ import annotations

import sympy as sp

from calcml.symbolic.errors import VerificationError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.sampling import close, evaluate, sample_points
from calcml.symbolic.steps import Step


def agree_numerically(a: sp.Expr, b: sp.Expr, rtol: float = 1e-8, tries: int = 12) -> bool:
    """True when ``a`` and ``b`` agree at several random points where both are defined.

    Needs at least two such points (one if neither has free symbols); stops at the first
    disagreement.
    """
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if not symbols:
        va, vb = evaluate(a, {}), evaluate(b, {})
        return va is not None and vb is not None and close(va, vb, rtol)
    agreed = 0
    for point in sample_points(symbols, tries, seed=7):
        va, vb = evaluate(a, point), evaluate(b, point)
        if va is None or vb is None:
            continue
        if not close(va, vb, rtol):
            return False
        agreed += 1
        if agreed >= 3:
            return True
    return agreed >= 2


def equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Structurally equal, or equal at random points."""
    if a == b:
        return True
    return agree_numerically(to_elementary(a), to_elementary(b))


def expected_of(step: Step) -> tuple[sp.Expr, sp.Expr]:
    """(SymPy's reference, the step's claim) for one step, both in elementary form."""
    if step.kind == "diff":
        return sp.diff(to_elementary(step.expr), step.wrt, step.order), to_elementary(step.result)
    if step.kind == "int":
        return to_elementary(step.expr), sp.diff(to_elementary(step.result), step.wrt)
    if isinstance(step.expr, sp.Integral):
        return to_elementary(step.expr).doit(), to_elementary(step.result)
    return to_elementary(step.expr), to_elementary(step.result)


def _diverges_to(series: sp.Sum | sp.Product, infinity: sp.Expr) -> bool:
    """The claim Σ = ±∞ (or Π): SymPy's convergence test says it diverges, and the partial sums over 10² and
    10³ terms lie on the claimed side and move further out (Σ 1/k: 5.19, 7.49)."""
    try:
        if series.is_convergent() is not sp.false:
            return False
    except NotImplementedError:
        return False
    term, (k, lower, _) = series.function, series.limits[0]
    partial = [float(type(series)(term, (k, lower, lower + count)).evalf(15)) for count in (100, 1000)]
    sign = 1 if infinity == sp.oo else -1
    return 0 < sign * partial[0] < sign * partial[1]


_PARAMETER_PROBES = ("-7/10", "-3/10", "2/5", "4/5", "3/2", "5/2", "7/2")


def _conditional_series_holds(step: Step) -> bool:
    """Piecewise((closed form, condition), ..., (Σ, True)): where a condition holds at a probe value of the
    parameters, the closed form equals SymPy's value of the series with that number in it (Σ (2/5)^k = 5/3
    against 1/(1 − r) at r = 2/5); at least two probes must be checked."""
    parameters = sorted(step.expr.free_symbols, key=lambda s: s.name)
    checked = 0
    for probe in _PARAMETER_PROBES:
        at = {s: sp.Rational(probe) for s in parameters}
        piece = next((p for p in step.result.args[:-1] if p.cond.subs(at) is sp.true), None)
        if piece is None:
            continue
        reference = step.expr.subs(at).doit()
        if reference.has(sp.Sum, sp.Product):
            continue
        claimed, summed = evaluate(piece.expr, at), evaluate(reference, {})
        if claimed is None or summed is None or not close(claimed, summed, 1e-8):
            return False
        checked += 1
    return checked >= 2


def _series_holds(step: Step) -> bool:
    """A sum or product against its closed form: term by term at n = 1..6 for a symbolic bound,
    by adding up the terms for numeric bounds, by numeric summation for an infinite one, by a
    divergence test and the partial sums' drift for a claimed ±∞."""
    bound_symbols = sorted(step.expr.free_symbols, key=lambda s: s.name)
    if isinstance(step.result, sp.Piecewise) and step.result.args[-1].expr.has(sp.Sum, sp.Product):
        return _conditional_series_holds(step)
    if not bound_symbols:
        if step.result in (sp.oo, -sp.oo) and step.expr.limits[0][2] == sp.oo:
            return _diverges_to(step.expr, step.result)
        if step.expr.has(sp.oo):
            return agree_numerically(step.expr, step.result)
        return sp.simplify(step.expr.doit() - step.result) == 0
    for n in range(1, 7):
        values = {s: n for s in bound_symbols}
        if sp.simplify(step.expr.subs(values).doit() - step.result.subs(values)) != 0:
            return False
    return True


def step_holds(step: Step) -> bool:
    """Whether this one step (not its children) is right."""
    if isinstance(step.expr, (sp.Sum, sp.Product)):
        return _series_holds(step)
    reference, claim = expected_of(step)
    if reference == claim:
        return True
    return agree_numerically(reference, claim)


def verify_tree(root: Step) -> None:
    """Check every step below and including ``root``; raise VerificationError at the first wrong one."""
    for _, step in root.walk():
        if not step_holds(step):
            raise VerificationError(
                f"calcml's explanation failed its own check at the step '{step.title}' ({step.rule}):\n"
                f"  claimed: {step.statement()}\n"
                f"  SymPy disagrees, so no explanation is shown. Please report this expression;\n"
                f"  sympy.diff / sympy.integrate give the answer without steps."
            )
