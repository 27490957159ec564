"""Immutable step nodes and their rendering as text, LaTeX and HTML.

A step says: by rule ``rule``, the operation ``kind`` applied to ``expr`` gives ``result``.
Kinds: ``"diff"`` (d/d wrt expr = result), ``"int"`` (∫ expr d wrt = result + C) and
``"equal"`` (expr = result, a rewrite or an evaluation). ``parts`` names the pieces the rule
used (u, f, g, …); ``children`` are the steps that produced those pieces' derivatives.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Iterator
from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.rule_catalog import rule_formula, rule_title


@dataclass(frozen=True)
class Step:
    """One rule application, with the steps it relied on as ``children``."""

    rule: str
    expr: sp.Expr
    result: sp.Expr
    wrt: sp.Symbol | None = None
    kind: str = "diff"
    order: int = 1
    parts: tuple[tuple[str, sp.Expr], ...] = ()
    children: tuple[Step, ...] = ()
    note: str = ""

    @property
    def title(self) -> str:
        """The rule's human name, e.g. 'chain rule'."""
        return rule_title(self.rule)

    @property
    def formula(self) -> str:
        """The rule's general formula, e.g. "d/dx f(u) = f'(u)·du/dx"."""
        return rule_formula(self.rule)

    def part(self, name: str) -> sp.Expr:
        """The named part ``name`` (such as 'u', 'f', 'g') this rule used."""
        for key, value in self.parts:
            if key == name:
                return value
        raise KeyError(f"step {self.rule} has no part {name!r}; it has {[k for k, _ in self.parts]}")

    def walk(self) -> Iterator[tuple[int, Step]]:
        """(depth, step) for this step and all below it, parents before children."""
        stack: list[tuple[int, Step]] = [(0, self)]
        while stack:
            depth, step = stack.pop()
            yield depth, step
            stack.extend((depth + 1, child) for child in reversed(step.children))

    # -- one line per step -----------------------------------------------------------------
    def statement(self) -> str:
        """The step's claim in plain text, e.g. 'd/dx sin(x**2) = 2*x*cos(x**2)'."""
        e, r = show(self.expr), sp.sstr(self.result)
        if self.kind == "diff":
            power = "" if self.order == 1 else f"^{self.order}"
            return f"d{power}/d{self.wrt}{power} [{e}] = {r}"
        if self.kind == "int":
            return f"∫ {e} d{self.wrt} = {r} + C"
        return f"{e} = {r}"

    def statement_latex(self) -> str:
        r"""The step's claim in LaTeX, a whole equation: for the root step, the result's equation.

        >>> x = sp.Symbol("x")
        >>> print(Step("diff.power", x**3, 3 * x**2, x).statement_latex())
        \frac{d}{dx}\left(x^{3}\right) = 3 x^{2}
        """
        e, r = sp.latex(self.expr), sp.latex(self.result)
        if self.kind == "diff":
            power = "" if self.order == 1 else f"^{{{self.order}}}"
            wrt = sp.latex(self.wrt)
            return rf"\frac{{d{power}}}{{d{wrt}{power}}}\left({e}\right) = {r}"
        if self.kind == "int":
            return rf"\int {e} \, d{sp.latex(self.wrt)} = {r} + C"
        return f"{e} = {r}"

    def parts_text(self) -> str:
        """The step's named parts (f = ..., u = ...) as text."""
        return ", ".join(f"{name} = {sp.sstr(value)}" for name, value in self.parts)

    def parts_latex(self) -> str:
        """The step's named parts (f = ..., u = ...) in LaTeX."""
        return ",\\ ".join(f"{name} = {sp.latex(value)}" for name, value in self.parts)

    def line(self) -> str:
        """Title, claim, named parts and note on one line."""
        text = f"{self.title}: {self.statement()}"
        if self.parts:
            text += f"   where {self.parts_text()}"
        if self.note:
            text += f"   ({self.note})"
        return text


def show(expr: sp.Expr) -> str:
    """Plain text of an expression; integrals, sums and products in math notation (∫_a^b f dx, Σ, Π)."""
    if isinstance(expr, (sp.Integral, sp.Sum, sp.Product)):
        sign = {sp.Integral: "∫", sp.Sum: "Σ", sp.Product: "Π"}[type(expr)]
        text = sp.sstr(expr.function)
        for limit in expr.limits:
            if len(limit) == 3:
                var, a, b = limit
                bounds = f"_{{{var}={a}}}^{{{b}}}" if sign != "∫" else f"_{{{a}}}^{{{b}}}"
            else:
                var, bounds = limit[0], ""
            text = f"{sign}{bounds} {text}" + (f" d{var}" if sign == "∫" else "")
        return text
    return sp.sstr(expr)


def render_text(root: Step) -> str:
    """The tree as indented lines, one per step."""
    return "\n".join("  " * depth + step.line() for depth, step in root.walk())


def render_latex(root: Step) -> str:
    """The steps as a LaTeX ``aligned`` block, one row per step."""
    rows = []
    for depth, step in root.walk():
        label = r"\quad" * depth + r"\text{%s: }" % step.title
        where = rf"\quad \text{{where }} {step.parts_latex()}" if step.parts else ""
        rows.append(rf"{label} & {step.statement_latex()}{where}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def render_html(root: Step) -> str:
    """The tree as nested HTML lists; math is in \\( … \\) for MathJax/KaTeX."""

    def item(step: Step) -> str:
        title = html_lib.escape(step.title)
        math = html_lib.escape(step.statement_latex())
        body = f"<b>{title}</b>: \\({math}\\)"
        if step.parts:
            body += f" where \\({html_lib.escape(step.parts_latex())}\\)"
        if step.note:
            body += f" <i>{html_lib.escape(step.note)}</i>"
        if step.children:
            body += "<ul>" + "".join(item(child) for child in step.children) + "</ul>"
        return f"<li>{body}</li>"

    return f'<ul class="calcml-steps">{item(root)}</ul>'


def step_to_dict(step: Step) -> dict:
    """A JSON-ready dict of the step tree (expressions as SymPy strings and LaTeX)."""
    return {
        "rule": step.rule,
        "title": step.title,
        "kind": step.kind,
        "expr": sp.sstr(step.expr),
        "result": sp.sstr(step.result),
        "wrt": None if step.wrt is None else str(step.wrt),
        "order": step.order,
        "latex": step.statement_latex(),
        "parts": {name: sp.sstr(value) for name, value in step.parts},
        "note": step.note,
        "children": [step_to_dict(child) for child in step.children],
    }


class DisplaysItself:
    """``str()`` and Jupyter display from a class's own ``text()``, ``latex()`` and ``html()``."""

    def __str__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    def _repr_html_(self) -> str:
        return self.html()


class ShowsSteps(DisplaysItself):
    """Text, LaTeX, HTML and a flat list for any result that holds a ``steps`` tree."""

    steps: Step

    @property
    def flat(self) -> list[Step]:
        """Every step, parents before their children (for showing one step at a time)."""
        return [step for _, step in self.steps.walk()]

    def text(self) -> str:
        """The steps as indented plain text."""
        return render_text(self.steps)

    def latex(self) -> str:
        """The steps as a LaTeX ``aligned`` block."""
        return render_latex(self.steps)

    def html(self) -> str:
        """The steps as nested HTML lists, math for MathJax/KaTeX."""
        return render_html(self.steps)
