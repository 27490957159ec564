"""Partial derivatives, gradients, directional derivatives, Jacobians and Hessians, with steps per entry.

∂f/∂x_i holds every other symbol constant; ∇f = (∂f/∂x_1, …, ∂f/∂x_n); J_ij = ∂f_i/∂x_j;
H_ij = ∂²f/∂x_j∂x_i; D_u f = ∇f · u/|u|. Each entry keeps its own :class:`Derivation`, and with
``at={...}`` the table is also evaluated at a point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.derive import Derivation, derive, substitute
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.parser import as_expr, as_symbol, parse_rows
from calcml.symbolic.steps import DisplaysItself
from calcml.symbolic.workers import runs_in_worker

Variables = str | Sequence[str | sp.Symbol] | None


def as_symbols(variables: Variables, *exprs: sp.Expr) -> tuple[sp.Symbol, ...]:
    """Symbols from names ("x, y", ["x", "y"]) looked up in ``exprs``; None means all free symbols, sorted."""
    if variables is None:
        free = set().union(*(e.free_symbols for e in exprs))
        if not free:
            raise SymbolicError("the expression has no variables; say which ones, e.g. ['x', 'y']")
        return tuple(sorted(free, key=lambda s: s.name))
    if isinstance(variables, (str, sp.Symbol)):
        variables = [v for v in re.split(r"[,\s]+", variables) if v] if isinstance(variables, str) else [variables]
    combined = sp.Add(*exprs) if exprs else None
    return tuple(as_symbol(v, combined) for v in variables)


def evaluate_at(matrix: sp.Matrix, at: dict | None) -> sp.Matrix | None:
    """The matrix with ``at`` (name → value) substituted, or None without a point."""
    if at is None:
        return None
    return matrix.applyfunc(lambda entry: substitute(entry, at))


@dataclass(frozen=True)
class DerivativeTable(DisplaysItself):
    """A gradient, Jacobian or Hessian: ``result`` (a SymPy Matrix), one Derivation per entry,
    and ``value`` (the matrix at ``at``) when a point was given."""

    kind: str
    functions: tuple[sp.Expr, ...]
    variables: tuple[sp.Symbol, ...]
    result: sp.Matrix
    entries: tuple[tuple[Derivation, ...], ...]
    at: dict | None = None
    value: sp.Matrix | None = None

    def entry(self, i: int, j: int = 0) -> Derivation:
        """The derivation of entry (i, j) (0-based)."""
        return self.entries[i][j]

    def text(self) -> str:
        """The table, then each entry's steps."""
        lines = [f"{self.kind} = {sp.sstr(self.result.tolist())}"]
        if self.value is not None:
            lines.append(f"at {self.at}: {sp.sstr(self.value.tolist())}")
        for i, row in enumerate(self.entries):
            for j, derivation in enumerate(row):
                lines.append(f"entry ({i + 1}, {j + 1}):")
                lines.extend("  " + line for line in derivation.text().splitlines())
        return "\n".join(lines)

    def latex(self) -> str:
        """The matrix in LaTeX (and its value at the point, if any)."""
        text = sp.latex(self.result)
        if self.value is not None:
            text += r" \quad\Big|_{%s} = %s" % (
                ", ".join(f"{k}={sp.latex(as_expr(v))}" for k, v in self.at.items()),
                sp.latex(self.value),
            )
        return text

    def html(self) -> str:
        """The matrix, then every entry's steps, as HTML."""
        items = "".join(
            f"<li>entry ({i + 1}, {j + 1}){d.html()}</li>"
            for i, row in enumerate(self.entries)
            for j, d in enumerate(row)
        )
        return f"<p>\\({self.latex()}\\)</p><ul>{items}</ul>"


def partial(expr: str | sp.Expr, var: str | sp.Symbol, *, timeout: float | None = None) -> Derivation:
    """∂f/∂var with every other symbol held constant, with steps.

    >>> partial("x^2*y + 3*x*y^2", "y").result
    x**2 + 6*x*y
    """
    return derive(expr, var, timeout=timeout)


@runs_in_worker("gradient")
def gradient(
    expr: str | sp.Expr, variables: Variables = None, *, at: dict | None = None, timeout: float | None = None
) -> DerivativeTable:
    """∇f = (∂f/∂x_1, …, ∂f/∂x_n) as a column, each entry with its steps; evaluated at ``at``.

    >>> gradient("x^2*y + 3*x*y^2", ["x", "y"], at={"x": 2, "y": 3}).value.T     # a column, shown as a row
    Matrix([[39, 40]])
    """
    f = as_expr(expr)
    xs = as_symbols(variables, f)
    rows = tuple((derive(f, x),) for x in xs)
    result = sp.Matrix([[row[0].result] for row in rows])
    return DerivativeTable("gradient", (f,), xs, result, rows, at, evaluate_at(result, at))


@runs_in_worker("jacobian")
def jacobian(
    exprs: str | Sequence[str | sp.Expr],
    variables: Variables = None,
    *,
    at: dict | None = None,
    timeout: float | None = None,
) -> DerivativeTable:
    """J_ij = ∂f_i/∂x_j for functions f_1..f_m ("x*y, x+y" or a list), each entry with steps.

    >>> jacobian(["x*y", "x + y"], ["x", "y"]).result.tolist()
    [[y, x], [1, 1]]
    """
    symbols: dict[str, sp.Symbol] = {}
    if isinstance(exprs, str):
        fs = tuple(e for row in parse_rows(exprs, symbols) for e in row)
    else:
        fs = tuple(as_expr(e, symbols) for e in exprs)
    xs = as_symbols(variables, *fs)
    rows = tuple(tuple(derive(f, x) for x in xs) for f in fs)
    result = sp.Matrix([[d.result for d in row] for row in rows])
    return DerivativeTable("jacobian", fs, xs, result, rows, at, evaluate_at(result, at))


@runs_in_worker("hessian")
def hessian(
    expr: str | sp.Expr, variables: Variables = None, *, at: dict | None = None, timeout: float | None = None
) -> DerivativeTable:
    """H_ij = ∂/∂x_j (∂f/∂x_i); entry (i, j) shows the steps of the second differentiation.

    The two orders of a mixed partial are both computed and must agree (Schwarz's theorem for
    smooth f); a mismatch is reported instead of a silently one-sided answer.

    >>> hessian("x^3 + x*y^2", ["x", "y"], at={"x": 1, "y": 2}).value.tolist()
    [[6, 4], [4, 2]]
    """
    f = as_expr(expr)
    xs = as_symbols(variables, f)
    first = [derive(f, x).result for x in xs]
    rows = tuple(tuple(derive(first[i], xj) for xj in xs) for i in range(len(xs)))
    result = sp.Matrix([[d.result for d in row] for row in rows])
    for i in range(len(xs)):
        for j in range(i):
            if not sp.simplify(result[i, j] - result[j, i]) == 0:
                raise SymbolicError(
                    f"the mixed partials ∂²f/∂{xs[i]}∂{xs[j]} and ∂²f/∂{xs[j]}∂{xs[i]} differ: "
                    f"{result[i, j]} vs {result[j, i]}; f is not twice continuously differentiable here"
                )
    return DerivativeTable("hessian", (f,), xs, result, rows, at, evaluate_at(result, at))


@dataclass(frozen=True)
class DirectionalDerivative:
    """D_u f = ∇f · u with u the (unit, unless normalize=False) direction; ``value`` at ``at``."""

    result: sp.Expr
    gradient: DerivativeTable
    direction: tuple[sp.Expr, ...]
    value: sp.Expr | None

    def text(self) -> str:
        """The formula, the gradient's steps, and the value."""
        lines = [f"D_u f = ∇f · u with u = {sp.sstr(self.direction)}", f"    = {sp.sstr(self.result)}"]
        if self.value is not None:
            lines.append(f"at {self.gradient.at}: {sp.sstr(self.value)}")
        return "\n".join(lines + [self.gradient.text()])

    def __str__(self) -> str:
        return self.text()


@runs_in_worker("directional_derivative")
def directional_derivative(
    expr: str | sp.Expr,
    variables: Variables,
    direction: Sequence[float | str | sp.Expr],
    *,
    at: dict | None = None,
    normalize: bool = True,
    timeout: float | None = None,
) -> DirectionalDerivative:
    """D_u f = ∇f · u/|u| (``normalize=False``: ∇f · u) for the direction u.

    >>> directional_derivative("x^2 + y^2", ["x", "y"], [3, 4], at={"x": 1, "y": 1}).value
    14/5
    """
    grad = gradient(expr, variables, at=at)
    u = [as_expr(c) for c in direction]
    if len(u) != len(grad.variables):
        raise SymbolicError(
            f"the direction has {len(u)} components but there are {len(grad.variables)} variables "
            f"({', '.join(map(str, grad.variables))})"
        )
    norm = sp.sqrt(sum(c**2 for c in u))
    if norm == 0:
        raise SymbolicError("the direction is the zero vector; give a nonzero direction")
    if normalize:
        u = [c / norm for c in u]
    result = sp.Add(*[g * c for g, c in zip(grad.result, u, strict=True)])
    value = substitute(result, at) if at is not None else None
    return DirectionalDerivative(result, grad, tuple(u), value)
