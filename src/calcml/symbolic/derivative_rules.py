"""The derivative rule engine: walk a SymPy expression tree and record which rule made each piece.

``differentiate(expr, x)`` returns a :class:`~calcml.symbolic.steps.Step` tree whose root result
is d expr/dx. Sums, constant multiples, products, quotients, powers, exponentials, logarithms,
trigonometric, hyperbolic and ML functions each have a named rule; a function of an inner
expression gets the chain rule with a placeholder ``u`` for the inner part; u^v with x in both
gets logarithmic differentiation. Expressions with no written rule fall back to SymPy's own
derivative under the rule id ``diff.function`` (still verified like every other step).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from calcml.symbolic.ml_functions import logsumexp, relu, sigmoid, softmax, softplus
from calcml.symbolic.steps import Step

RELU_NOTE = (
    "ReLU has no derivative at 0; calcml takes the subgradient 0 there, as ML frameworks do "
    "(SymPy's Heaviside(0) is 1/2, so diff(Max(0, x)) differs at 0)"
)

# function → (rule id, f'(u), note)
_ONE_ARGUMENT: dict[type, tuple[str, Callable[[sp.Expr], sp.Expr], str]] = {
    sp.sin: ("diff.sin", sp.cos, ""),
    sp.cos: ("diff.cos", lambda u: -sp.sin(u), ""),
    sp.tan: ("diff.tan", lambda u: sp.sec(u) ** 2, ""),
    sp.sec: ("diff.sec", lambda u: sp.sec(u) * sp.tan(u), ""),
    sp.csc: ("diff.csc", lambda u: -sp.csc(u) * sp.cot(u), ""),
    sp.cot: ("diff.cot", lambda u: -(sp.csc(u) ** 2), ""),
    sp.asin: ("diff.asin", lambda u: 1 / sp.sqrt(1 - u**2), "defined for |u| < 1"),
    sp.acos: ("diff.acos", lambda u: -1 / sp.sqrt(1 - u**2), "defined for |u| < 1"),
    sp.atan: ("diff.atan", lambda u: 1 / (1 + u**2), ""),
    sp.acot: ("diff.acot", lambda u: -1 / (1 + u**2), ""),
    sp.sinh: ("diff.sinh", sp.cosh, ""),
    sp.cosh: ("diff.cosh", sp.sinh, ""),
    sp.tanh: ("diff.tanh", lambda u: 1 - sp.tanh(u) ** 2, "the ML form 1 − tanh²"),
    sp.asinh: ("diff.asinh", lambda u: 1 / sp.sqrt(u**2 + 1), ""),
    sp.acosh: ("diff.acosh", lambda u: 1 / sp.sqrt(u**2 - 1), "defined for u > 1"),
    sp.atanh: ("diff.atanh", lambda u: 1 / (1 - u**2), "defined for |u| < 1"),
    sp.exp: ("diff.exp", sp.exp, ""),
    sp.log: ("diff.log", lambda u: 1 / u, "ln is the natural logarithm"),
    sp.Abs: ("diff.abs", sp.sign, "|u| has no derivative at u = 0"),
    sp.sign: ("diff.sign", lambda u: sp.Integer(0), "sign is constant on each side of 0 and jumps at 0"),
    sigmoid: ("ml.sigmoid", lambda u: sigmoid(u) * (1 - sigmoid(u)), "σ' = σ(1 − σ)"),
    relu: ("ml.relu", lambda u: sp.Piecewise((0, u <= 0), (1, True)), RELU_NOTE),
    softplus: ("ml.softplus", sigmoid, "softplus is a smooth ReLU; its slope is the sigmoid"),
}
_PLACEHOLDERS = ("u", "v", "w", "t", "s", "r")


def differentiate(expr: sp.Expr, x: sp.Symbol) -> Step:
    """The step tree of d expr/dx; the root's ``result`` is the derivative.

    >>> x = sp.Symbol("x")
    >>> differentiate(sp.sin(x**2), x).rule
    'diff.chain'
    """
    if not expr.has(x):
        return Step("diff.constant", expr, sp.Integer(0), x)
    if expr == x:
        return Step("diff.identity", expr, sp.Integer(1), x)
    if expr.is_Add:
        children = tuple(differentiate(term, x) for term in expr.args)
        return Step("diff.sum", expr, sp.Add(*(c.result for c in children)), x, children=children)
    if expr.is_Mul:
        return _product_like(expr, x)
    if expr.is_Pow:
        return _power_like(expr, x)
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, x)
    if isinstance(expr, (sp.Function, sp.Max, sp.Min)):
        return _function(expr, x)
    return Step("diff.function", expr, sp.diff(expr, x), x, note="SymPy's derivative; no written rule")


# -- products, quotients and constant multiples ---------------------------------------
def _product_like(expr: sp.Expr, x: sp.Symbol) -> Step:
    constant = sp.Mul(*[f for f in expr.args if not f.has(x)])
    dependent = [f for f in expr.args if f.has(x)]
    rest = sp.Mul(*dependent)
    if constant != 1:
        special = _cross_entropy(constant, rest, expr, x) or _log_base(constant, rest, expr, x)
        if special is not None:
            return special
        child = differentiate(rest, x)
        return Step(
            "diff.constant_multiple",
            expr,
            constant * child.result,
            x,
            parts=(("c", constant), ("f", rest)),
            children=(child,),
        )
    denominator = [f for f in dependent if f.is_Pow and f.exp.is_number and f.exp.is_negative]
    numerator = [f for f in dependent if f not in denominator]
    if numerator and denominator:
        f = sp.Mul(*numerator)
        g = sp.Mul(*[sp.Pow(d.base, -d.exp) for d in denominator])
        df, dg = differentiate(f, x), differentiate(g, x)
        result = (df.result * g - f * dg.result) / g**2
        return Step("diff.quotient", expr, result, x, parts=(("f", f), ("g", g)), children=(df, dg))
    f, g = dependent[0], sp.Mul(*dependent[1:])
    df, dg = differentiate(f, x), differentiate(g, x)
    result = df.result * g + f * dg.result
    return Step("diff.product", expr, result, x, parts=(("f", f), ("g", g)), children=(df, dg))


def _direct_logit(function: sp.Expr, x: sp.Symbol) -> int | None:
    """j when x is exactly the j-th logit (1-based) of softmax/logsumexp and appears nowhere else."""
    logits = function.args[1:] if isinstance(function, softmax) else function.args
    hits = [j for j, z in enumerate(logits, start=1) if z.has(x)]
    if len(hits) == 1 and logits[hits[0] - 1] == x:
        return hits[0]
    return None


def _cross_entropy(constant: sp.Expr, rest: sp.Expr, expr: sp.Expr, x: sp.Symbol) -> Step | None:
    """−log softmax_k(z) differentiated in the logit z_j = x: p_j − y_j with y = one-hot(k)."""
    if constant != -1 or not isinstance(rest, sp.log) or not isinstance(rest.args[0], softmax):
        return None
    p = rest.args[0]
    j = _direct_logit(p, x)
    if j is None:
        return None
    y_j = 1 if j == p.index else 0
    result = softmax(j, *p.logits) - y_j
    return Step(
        "ml.cross_entropy_softmax",
        expr,
        result,
        x,
        parts=(("p", softmax(j, *p.logits)), ("y", sp.Integer(y_j))),
        note=f"loss −log p_{p.index}: label class {p.index}, so y_{j} = {y_j}; gradient p_{j} − y_{j}",
    )


def _log_base(constant: sp.Expr, rest: sp.Expr, expr: sp.Expr, x: sp.Symbol) -> Step | None:
    """log_a(u) = ln(u)/ln(a): SymPy stores it as a constant multiple of ln."""
    if not isinstance(rest, sp.log) or not (constant.is_Pow and constant.exp == -1):
        return None
    if not isinstance(constant.base, sp.log) or not constant.base.args[0].is_number:
        return None
    child = differentiate(rest, x)
    return Step(
        "diff.log_base",
        expr,
        constant * child.result,
        x,
        parts=(("a", constant.base.args[0]), ("u", rest.args[0])),
        children=(child,),
        note="log_a(u) = ln(u)/ln(a)",
    )


# -- powers and functions -------------------------------------------------------------------
def _power_like(expr: sp.Pow, x: sp.Symbol) -> Step:
    base, exponent = expr.base, expr.exp
    if base.has(x) and exponent.has(x):
        log_form = exponent * sp.log(base)
        child = differentiate(log_form, x)
        return Step(
            "diff.log_diff",
            expr,
            expr * child.result,
            x,
            parts=(("u", base), ("v", exponent), ("ln y", log_form)),
            children=(child,),
            note="x is in both base and exponent: differentiate ln y = v·ln u, then y' = y·(ln y)'",
        )
    return _function(expr, x)


def _piecewise(expr: sp.Piecewise, x: sp.Symbol) -> Step:
    children = tuple(differentiate(piece, x) for piece, _ in expr.args)
    result = sp.Piecewise(*[(c.result, cond) for c, (_, cond) in zip(children, expr.args, strict=True)])
    return Step(
        "diff.piecewise",
        expr,
        result,
        x,
        children=children,
        note="at the boundaries between pieces the derivative may not exist",
    )


def _placeholders(expr: sp.Expr, count: int) -> list[sp.Symbol]:
    taken = {s.name for s in expr.free_symbols}
    free = [name for name in _PLACEHOLDERS if name not in taken]
    if count == 1:
        return [sp.Symbol(free[0], real=True)]
    stem = free[0]
    return [sp.Symbol(f"{stem}{i}", real=True) for i in range(1, count + 1)]


def _function(expr: sp.Expr, x: sp.Symbol) -> Step:
    """f(args) with x in some args: a direct rule when f's only dependent argument is x itself,
    otherwise the chain rule (a sum over the dependent arguments for multi-argument f)."""
    args = expr.args
    dependent = [i for i, a in enumerate(args) if a.has(x)]
    if len(dependent) == 1 and args[dependent[0]] == x:
        return _outer(expr, x)
    names = _placeholders(expr, len(dependent))
    new_args = list(args)
    for i, name in zip(dependent, names, strict=True):
        new_args[i] = name
    outer_expr = expr.func(*new_args)
    back = {name: args[i] for i, name in zip(dependent, names, strict=True)}
    children: list[Step] = []
    terms = []
    parts: list[tuple[str, sp.Expr]] = [("f", outer_expr)]
    for i, name in zip(dependent, names, strict=True):
        outer = _outer(outer_expr, name)
        inner = differentiate(args[i], x)
        children.extend((outer, inner))
        terms.append(outer.result.xreplace(back) * inner.result)
        parts.append((name.name, args[i]))
    return Step("diff.chain", expr, sp.Add(*terms), x, parts=tuple(parts), children=tuple(children))


def _outer(expr: sp.Expr, u: sp.Symbol) -> Step:
    """d expr/du where u is one argument of the outermost function of expr."""
    func = type(expr)
    if expr.is_Pow:
        if expr.base == u:
            n = expr.exp
            note = "√u = u^(1/2)" if n == sp.Rational(1, 2) else ("1/u^n = u^(−n)" if n.is_negative else "")
            return Step("diff.power", expr, n * u ** (n - 1), u, parts=(("n", n),), note=note)
        return Step("diff.exp_base", expr, expr * sp.log(expr.base), u, parts=(("a", expr.base),))
    if func in _ONE_ARGUMENT:
        rule, derivative, note = _ONE_ARGUMENT[func]
        return Step(rule, expr, derivative(expr.args[0]), u, note=note)
    if isinstance(expr, logsumexp):
        j = expr.args.index(u) + 1
        return Step("ml.logsumexp", expr, softmax(j, *expr.args), u, note=f"∂/∂z_{j} logsumexp(z) = softmax_{j}(z)")
    if isinstance(expr, softmax):
        j = expr.logits.index(u) + 1
        k = expr.index
        delta = 1 if j == k else 0
        result = expr * (delta - softmax(j, *expr.logits))
        return Step("ml.softmax", expr, result, u, note=f"p_{k}·(δ_{k}{j} − p_{j}) with δ_{k}{j} = {delta}")
    if isinstance(expr, (sp.Max, sp.Min)):
        others = [a for a in expr.args if a != u]
        beats = [(u > a) if isinstance(expr, sp.Max) else (u < a) for a in others]
        result = sp.Piecewise((1, sp.And(*beats)), (0, True))
        return Step("diff.max", expr, result, u, note="at ties calcml takes the subgradient 0")
    j = expr.args.index(u) + 1
    return Step("diff.function", expr, expr.fdiff(j), u, note="SymPy's derivative of this function")
