"""Integrals with steps: SymPy's ``integral_steps`` rewritten as calcml steps, one branch, readable.

The rule tree SymPy's manual integrator finds (substitution, parts, power rule, …) becomes a tree
of :class:`Step` nodes with ids such as ``int.substitution`` and ``int.parts``; where SymPy offers
alternatives the first complete one is kept; its placeholders become u, v, w; ∫ 1/x dx is ln|x|;
indefinite answers are shown with + C. A definite integral adds the fundamental theorem step
F(b) − F(a); double and triple integrals are iterated, innermost first. When the manual
integrator gives up, SymPy's full integrator is used and the step says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy as sp
from sympy.calculus.util import continuous_domain
from sympy.integrals import manualintegrate as mi
from sympy.logic.boolalg import as_Boolean

from calcml.symbolic.derive import pick_variable, tidy
from calcml.symbolic.errors import SymbolicError, VerificationError
from calcml.symbolic.improper import (
    checked_value,
    convergence_condition,
    converges_when,
    outside_condition,
    with_condition,
)
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.parser import as_expr, as_symbol
from calcml.symbolic.sampling import close, evaluate
from calcml.symbolic.steps import ShowsSteps, Step, step_to_dict
from calcml.symbolic.verify import verify_tree
from calcml.symbolic.workers import runs_in_worker

_LEAVES: dict[type, str] = {
    mi.ExpRule: "int.exp",
    mi.SinRule: "int.trig",
    mi.CosRule: "int.trig",
    mi.SecTanRule: "int.trig",
    mi.CscCotRule: "int.trig",
    mi.Sec2Rule: "int.trig",
    mi.Csc2Rule: "int.trig",
    mi.SinhRule: "int.hyperbolic",
    mi.CoshRule: "int.hyperbolic",
    mi.ArctanRule: "int.arctan",
    mi.ArcsinRule: "int.inverse_trig",
    mi.ArcsinhRule: "int.inverse_trig",
    mi.ReciprocalSqrtQuadraticRule: "int.inverse_trig",
    mi.NestedPowRule: "int.power",
    mi.CyclicPartsRule: "int.cyclic_parts",
}


class _ManualGaveUp(Exception):
    """SymPy's manual integrator found no complete set of steps."""


class _Converter:
    """Turns SymPy's rule tree into steps, renaming its Dummy placeholders (_u) to u, v, w, …"""

    def __init__(self, taken: set[str]) -> None:
        self.names = [n for n in ("u", "v", "w", "t", "s", "r", "q") if n not in taken]
        self.used = 0
        self.mapping: dict[sp.Expr, sp.Expr] = {}

    def fresh(self) -> sp.Symbol:
        index, self.used = self.used, self.used + 1
        return sp.Symbol(
            self.names[index % len(self.names)] + ("" if index < len(self.names) else str(index)), real=True
        )

    def step(self, rule_id: str, rule: mi.Rule, result: sp.Expr, **fields) -> Step:
        fields["parts"] = tuple((k, as_expr(v).xreplace(self.mapping)) for k, v in fields.get("parts", ()))
        return Step(
            rule_id,
            self.integrand.xreplace(self.mapping),
            result.xreplace(self.mapping),
            rule.variable.xreplace(self.mapping),
            kind="int",
            **fields,
        )

    def convert(self, rule: mi.Rule, integrand: sp.Expr | None = None) -> Step:
        """One SymPy manualintegrate rule (and its sub-rules) as a calcml step tree.

        SymPy reuses one Dummy for nested substitutions, so the renaming is scoped: inside a
        substitution its Dummy means the new variable, outside it the old one. ``integrand`` is
        what the parent asks this rule to integrate (SymPy's own field can be off by a constant
        factor that the parent applies). Among alternatives the shortest whose steps verify is kept."""
        self.integrand = rule.integrand if integrand is None else integrand
        if isinstance(rule, mi.AlternativeRule):
            integrand, start, verified = self.integrand, self.used, []
            for alternative in rule.alternatives:
                if alternative.contains_dont_know():
                    continue
                self.used = start
                try:
                    tree = self.convert(alternative, integrand)
                    verify_tree(tree)
                    verified.append((sum(1 for _ in tree.walk()), self.used, tree))
                except (VerificationError, _ManualGaveUp):
                    pass
            if not verified:
                raise _ManualGaveUp()
            _, self.used, tree = min(verified, key=lambda item: item[0])
            return tree
        if isinstance(rule, mi.DontKnowRule):
            raise _ManualGaveUp()
        if isinstance(rule, mi.ConstantRule):
            return self.step("int.constant", rule, rule.integrand * rule.variable)
        if isinstance(rule, mi.ReciprocalRule) or (isinstance(rule, mi.PowerRule) and rule.exp == -1):
            return self.step("int.reciprocal", rule, sp.log(sp.Abs(rule.base)), note="ln|x|, so it holds for x < 0 too")
        if isinstance(rule, mi.PowerRule):
            result = rule.base ** (rule.exp + 1) / (rule.exp + 1)
            if (rule.exp + 1).is_zero is not False:  # x^n with n unknown: n = −1 gives ln|x|
                result = sp.Piecewise((result, sp.Ne(rule.exp, -1)), (sp.log(sp.Abs(rule.base)), True))
            return self.step("int.power", rule, result, parts=(("n", rule.exp),))
        if isinstance(rule, mi.ConstantTimesRule):
            child = self.convert(rule.substep, rule.other)
            self.integrand = rule.integrand if integrand is None else integrand
            return self.step(
                "int.constant_multiple",
                rule,
                rule.constant * child.result,
                parts=(("c", rule.constant), ("f", rule.other)),
                children=(child,),
            )
        if isinstance(rule, mi.AddRule):
            children = tuple(self.convert(s) for s in rule.substeps)
            self.integrand = rule.integrand if integrand is None else integrand
            return self.step("int.sum", rule, sp.Add(*(c.result for c in children)), children=children)
        if isinstance(rule, mi.URule):
            u, outer = self.fresh(), self.mapping
            self.mapping = {**outer, rule.u_var: u}
            child = self.convert(rule.substep)
            self.mapping = outer
            self.integrand = rule.integrand if integrand is None else integrand
            result = child.result.xreplace({u: rule.u_func.xreplace(outer)})
            du = sp.diff(rule.u_func, rule.variable)
            return self.step(
                "int.substitution",
                rule,
                result,
                parts=((u.name, rule.u_func), (f"d{u.name}/d{rule.variable.xreplace(outer)}", du)),
                children=(child,),
            )
        if isinstance(rule, mi.PartsRule):
            v_step, second = self.convert(rule.v_step, rule.dv), self.convert(rule.second_step)
            self.integrand = rule.integrand if integrand is None else integrand
            result = rule.u.xreplace(self.mapping) * v_step.result - second.result
            return self.step(
                "int.parts",
                rule,
                result,
                parts=(("u", rule.u), ("dv", rule.dv), ("v", v_step.result)),
                children=(v_step, second),
            )
        if isinstance(rule, mi.RewriteRule):
            child = self.convert(rule.substep, rule.rewritten)
            self.integrand = rule.integrand if integrand is None else integrand
            return self.step("int.rewrite", rule, child.result, parts=(("as", rule.rewritten),), children=(child,))
        if isinstance(rule, mi.PiecewiseRule):
            children = tuple(self.convert(s) for s, _ in rule.subfunctions)
            self.integrand = rule.integrand if integrand is None else integrand
            pieces = [
                (c.result, as_Boolean(cond).xreplace(self.mapping))
                for c, (_, cond) in zip(children, rule.subfunctions, strict=True)
            ]
            return self.step("int.piecewise", rule, sp.Piecewise(*pieces), children=children)
        rule_id = _LEAVES.get(type(rule), "int.sympy")
        note = "" if type(rule) in _LEAVES else f"SymPy's {type(rule).__name__}"
        return self.step(rule_id, rule, rule.eval(), note=note)


_REAL_LINE_PROBES = (-2.7, -1.3, -0.6, -0.2, 0.3, 0.8, 1.7, 2.9)


def _not_real_where_f_is(F: sp.Expr, f: sp.Expr, x: sp.Symbol) -> bool:
    """True when F is not a real number at a probe point where the integrand f is (−log(x) for x ≤ 0)."""
    for v in _REAL_LINE_PROBES:
        point = {x: sp.Float(v, 20)}
        fv = evaluate(f, point, 20)
        if fv is not None and abs(fv.imag) < 1e-12 and not _is_real(evaluate(F, point, 20)):
            return True
    return False


def _is_real(value: complex | None) -> bool:
    return value is not None and abs(value.imag) <= 1e-12 * max(1.0, abs(value.real))


def _logs_of_absolute_values(F: sp.Expr, f: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """F with each log(u) as log|u| when that makes F real wherever f is, keeping F′ = f.

    SymPy's ∫ dx/|x| is Piecewise((−log(x), x ≤ 0), (log(x), True)): −log(x) is not real for x < 0, where
    1/|x| is; d/dx log|u| = u′/u as for log u, so −log|x| is the antiderivative there."""
    if f.free_symbols != {x} or not F.has(sp.log) or not _not_real_where_f_is(F, f, x):
        return F
    candidate = F.replace(sp.log, lambda u: sp.log(sp.Abs(u)))
    slope = sp.diff(candidate, x)
    for v in _REAL_LINE_PROBES:
        point = {x: sp.Float(v, 20)}
        fv, gv = evaluate(f, point, 20), evaluate(slope, point, 20)
        if _is_real(fv) and not (gv is not None and close(gv, fv, 1e-10)):
            return F
    return F if _not_real_where_f_is(candidate, f, x) else candidate


def antiderivative_steps(f: sp.Expr, x: sp.Symbol) -> Step:
    """The step tree of ∫ f dx (result without + C)."""
    g = to_elementary(f)
    try:
        tree = _Converter({s.name for s in g.free_symbols}).convert(mi.integral_steps(g, x))
        verify_tree(tree)
    except (_ManualGaveUp, VerificationError):
        result = sp.integrate(g, x)
        if result.has(sp.Integral):
            raise SymbolicError(f"no closed-form antiderivative of {f} with respect to {x} was found") from None
        tree = Step("int.sympy", g, _logs_of_absolute_values(result, g, x), x, kind="int")
    shorter = tidy(tree.result)
    if shorter != tree.result:
        tree = dataclasses.replace(tree, result=shorter)
    if g != f:
        tree = Step("int.rewrite", f, tree.result, x, kind="int", parts=(("as", g),), children=(tree,))
    return tree


def _at(F: sp.Expr, x: sp.Symbol, bound: sp.Expr, side: str) -> sp.Expr:
    """F(bound), or its one-sided limit where the value is infinite or undefined.

    A value whose finiteness is merely unknown (a parameter's case split, Piecewise((e^a/a, a ≠ 0), (1, True)))
    is kept as it is: SymPy's limit of such a Piecewise can drop a case (∫_0^1 e^(a x) dx came out as 1)."""
    value = F.subs(x, bound) if bound.is_finite else sp.nan
    if value.is_finite is False or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        value = sp.limit(F, x, bound, side)
    return value


def _honest_value(value: sp.Expr, f: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """∫_a^b f dx as computed, checked against quadrature and with the condition on the parameters under which it
    holds (a singular point of f that moves with them)."""
    value = checked_value(value, f, x, a, b)
    return with_condition(value, outside_condition(f, x, a, b), sp.Integral(f, (x, a, b)))


def _fundamental_theorem(f: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr, inner: Step) -> Step:
    """∫_a^b f dx = F(b) − F(a), for f continuous on [a, b] (or symbolic bounds)."""
    F = inner.result
    upper, lower = _at(F, x, b, "-"), _at(F, x, a, "+")
    value = _honest_value(tidy(sp.simplify(upper - lower)), f, x, a, b)
    return Step(
        "int.definite",
        sp.Integral(f, (x, a, b)),
        value,
        kind="equal",
        parts=(("F", F), ("F(b)", upper), ("F(a)", lower)),
        children=(inner,),
        note=converges_when(value).removeprefix("; ").replace("SymPy leaves the integral unevaluated",
                                                              "f has a singular point in the interval"),
    )


def definite_steps(f: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr) -> Step:
    """∫_a^b f dx: F(b) − F(a) when f is continuous on [a, b], else SymPy's (improper) integral.

    A value that is not an honest real number (divergent, oscillating, complex, or hinging on a parameter's
    unknown sign) is refused with a SymbolicError saying why and where."""
    inner = antiderivative_steps(f, x)
    symbolic_bounds = bool(a.free_symbols | b.free_symbols)
    reason = "an infinite bound makes it an improper integral"
    continuous = False
    if a.is_finite and b.is_finite and not symbolic_bounds:
        try:
            continuous = continuous_domain(to_elementary(f), x, sp.Interval(a, b)) == sp.Interval(a, b)
            reason = "f is not continuous on the closed interval, so it is an improper integral"
        except (NotImplementedError, ValueError, TypeError):
            reason = "SymPy could not confirm that f is continuous on the interval"
    if continuous or symbolic_bounds:
        try:
            return _fundamental_theorem(f, x, a, b, inner)
        except (NotImplementedError, TypeError, ValueError) as error:
            if isinstance(error, SymbolicError):
                raise
            reason = f"F(b) − F(a) could not be evaluated ({error})"
    try:
        value = sp.integrate(to_elementary(f), (x, a, b))
    except (TypeError, KeyError, IndexError, AttributeError, RecursionError, NotImplementedError) as error:
        raise SymbolicError(
            f"SymPy could not evaluate the improper integral of {f} from {a} to {b} ({reason}; its integrator "
            f"failed inside with {type(error).__name__}: {error}).\n  it may diverge, or depend on the sign of "
            "a parameter; try the numeric quadrature (calcml integrate --numeric, cm.integrate.quad), split the "
            "interval at the singular point, or give the parameters assumptions (sp.Symbol('n', positive=True))."
        ) from error
    value = _honest_value(value, f, x, a, b)
    return Step(
        "int.sympy",
        sp.Integral(f, (x, a, b)),
        value,
        kind="equal",
        children=(inner,),
        note=f"{reason}; SymPy evaluated it directly instead of F(b) − F(a){converges_when(value)}",
    )


@dataclass(frozen=True)
class Integration(ShowsSteps):
    """The result of :func:`integrate`: ``result`` (antiderivative without + C, or the value), ``steps``."""

    expr: sp.Expr
    limits: tuple[tuple[sp.Expr, ...], ...]
    result: sp.Expr
    steps: Step

    @property
    def condition(self) -> sp.Boolean | None:
        """When the value holds only for some values of the parameters (∫_0^∞ e^(−a x) dx = 1/a when
        a > 0), that condition; None when there is none."""
        return convergence_condition(self.result) if self.definite else None

    @property
    def definite(self) -> bool:
        """True when every variable had bounds (the result is a value, not a function + C)."""
        return all(len(limit) == 3 for limit in self.limits)

    def to_dict(self) -> dict:
        """A JSON-ready dict of input, result and steps."""
        return {
            "expr": sp.sstr(self.expr),
            "limits": [[sp.sstr(v) for v in limit] for limit in self.limits],
            "definite": self.definite,
            "result": sp.sstr(self.result) + ("" if self.definite else " + C"),
            "result_latex": sp.latex(self.result) + ("" if self.definite else " + C"),
            "steps": step_to_dict(self.steps),
        }


def _limits(f: sp.Expr, limits: tuple) -> tuple[tuple[sp.Expr, ...], ...]:
    if not limits:
        return ((pick_variable(f, None, "integrate"),),)
    out = []
    for limit in limits:
        if isinstance(limit, (str, sp.Symbol)):
            out.append((as_symbol(limit, f),))
        elif isinstance(limit, (tuple, list)) and len(limit) == 3:
            out.append((as_symbol(limit[0], f), as_expr(limit[1]), as_expr(limit[2])))
        else:
            raise SymbolicError(f"each integration variable is a name or (name, lower, upper); got {limit!r}")
    return tuple(out)


@runs_in_worker("integrate")
def integrate(expr: str | sp.Expr, *limits, timeout: float | None = None) -> Integration:
    """∫ expr, with steps. Each of ``limits`` is a variable ("x", indefinite) or ("x", a, b);
    several are iterated, the first innermost (as in SymPy).

    >>> integrate("x*exp(x)", "x").result          # by parts; shown with + C
    x*exp(x) - exp(x)
    >>> integrate("x*y", ("y", 0, "x"), ("x", 0, 1)).result
    1/8
    """
    f = as_expr(expr)
    bounds = _limits(f, limits)
    stages = []
    current = f
    for limit in bounds:
        if len(limit) == 1:
            stage = antiderivative_steps(current, limit[0])
        else:
            stage = definite_steps(current, *limit)
        stages.append(stage)
        current = stage.result
    if len(stages) == 1:
        root = stages[0]
    else:
        root = Step("int.iterated", sp.Integral(f, *bounds), current, kind="equal", children=tuple(stages))
    verify_tree(root)
    return Integration(f, bounds, current, root)
