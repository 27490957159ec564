"""Mathematical notation for prompts and answers: one line of Unicode, LaTeX, or MathML (no network).

A prompt is a tuple of segments: plain text (which may use Unicode math such as ∂, σ, η, x²) and SymPy
objects (expressions, matrices), each printed in the notation asked for.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> unicode_math(3 * x**3 - x / 2 + sp.sqrt(x))
'√x + 3x³ − x/2'
>>> render(("Differentiate f(x) = ", x**2, "."), "latex")
'Differentiate f(x) = $x^{2}$.'
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

_JUXTAPOSE = re.compile(r"(?<![\w.])(\d+)\*(?=[A-Za-z](?![A-Za-z(])|[σπ√(|])")  # a number times a variable
_SUPERSCRIPT = str.maketrans("0123456789-/", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᐟ")
_NAMES = {"sigmoid": "σ", "pi": "π", "oo": "∞", "E": "e", "Abs": "abs"}


class _UnicodePrinter(StrPrinter):
    """SymPy's one-line printer with superscript powers, √, ·, σ, π and a minus sign."""

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.as_base_exp()
        if exponent == sp.Rational(1, 2):
            return f"√{self._wrap(base)}"
        if exponent == -1:
            return f"1/{self._wrap(base)}"
        if exponent.is_Rational:
            return f"{self._wrap(base)}{sp.sstr(exponent).translate(_SUPERSCRIPT)}"
        return f"{self._wrap(base)}^({self._print(exponent)})"

    def _wrap(self, base) -> str:
        text = self._print(base)
        return text if (base.is_Symbol or (base.is_Integer and base >= 0) or base.is_Function) else f"({text})"

    def _print_Function(self, expr):
        name = _NAMES.get(type(expr).__name__, type(expr).__name__)
        if name == "abs":
            return f"|{self._print(expr.args[0])}|"
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "−∞"

    def _print_MatrixBase(self, expr):
        rows = ["  ".join(self._print(v) for v in row) for row in expr.tolist()]
        if expr.shape[1] == 1:
            return "(" + ", ".join(self._print(v) for v in expr) + ")ᵀ"
        return "[" + "; ".join(rows) + "]"

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase


def unicode_math(expr) -> str:
    """``expr`` on one line in the notation of a textbook: 3x³ − x/2 + √x, σ(z), e·π, |x|."""
    text = _UnicodePrinter().doprint(expr)
    text = _JUXTAPOSE.sub(r"\1", text)  # 3*x → 3x, but 2·exp(x)
    return text.replace("*", "·").replace(" - ", " − ").replace("(-", "(−").replace("-", "−")


class _LatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer; a power of an ML function (σ(z)², whose own ``_latex`` takes no exponent) is
    printed as the function in parentheses, raised."""

    def _print_Pow(self, expr, **kwargs):
        if isinstance(expr.base, sp.Function) and hasattr(expr.base, "_latex") and expr.exp.is_Integer and expr.exp > 0:
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr, **kwargs)


def latex_math(expr) -> str:
    """``expr`` in LaTeX (SymPy's printer; σ for the sigmoid)."""
    return _LatexPrinter().doprint(expr)


def mathml(expr) -> str:
    """``expr`` as presentation MathML inside a ``<math>`` element: rendered by browsers without network."""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML">{sp.mathml(expr, printer="presentation")}</math>'


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
}
_LATEX_SYMBOLS = {
    "∂": r"\partial", "∇": r"\nabla", "σ": r"\sigma", "η": r"\eta", "β": r"\beta", "ε": r"\varepsilon",
    "λ": r"\lambda", "θ": r"\theta", "μ": r"\mu", "π": r"\pi", "α": r"\alpha", "δ": r"\delta", "ρ": r"\rho",
    "γ": r"\gamma", "·": r"\cdot", "→": r"\to", "∞": r"\infty", "≈": r"\approx", "∫": r"\int", "‖": r"\|",
    "×": r"\times", "−": "-", "≤": r"\le", "≥": r"\ge", "∈": r"\in", "√": r"\surd", "ᵀ": "^{T}", "⊙": r"\odot",
    "Σ": r"\Sigma", "∑": r"\sum", "ℝ": r"\mathbb{R}", "′": "'", "ᐟ": "/", "∘": r"\circ",
    "ℒ": r"\mathcal{L}", "∼": r"\sim", "←": r"\leftarrow", "″": "''", "ᵗ": "^{t}", "⁻": "^{-}", "½": r"\tfrac{1}{2}",
    "Π": r"\Pi", "φ": r"\varphi", "ᵢ": "_{i}", "ŷ": r"\hat{y}",
}
_LATEX_TYPOGRAPHY = {"—": "---", "–": "--", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}"}
_MINUS = re.compile(r"(?<=[\s(,=\[])-(?=\d)")  # a negative number in running text: "x = -3" → "x = −3"
_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉ₜ", "0123456789t", strict=True))
_SUP = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True))


def latex_text(text: str) -> str:
    """Plain text with Unicode math made printable by pdflatex: specials escaped, symbols in math mode."""
    out = []
    for char in text:
        if char in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[char])
        elif char in _LATEX_TYPOGRAPHY:
            out.append(_LATEX_TYPOGRAPHY[char])
        elif char in _LATEX_SYMBOLS:
            out.append(f"\\ensuremath{{{_LATEX_SYMBOLS[char]}}}")
        elif char in _SUB:
            out.append(f"\\ensuremath{{_{{{_SUB[char]}}}}}")
        elif char in _SUP:
            out.append(f"\\ensuremath{{^{{{_SUP[char]}}}}}")
        elif ord(char) > 127:
            raise ValueError(f"no LaTeX spelling for {char!r} in prompt text {text!r}: add it to _LATEX_SYMBOLS")
        else:
            out.append(char)
    return "".join(out)


_PYTHON_MATH = (
    (re.compile(r"\*\*\((-?\d+)/(\d+)\)"), lambda m: f"{m[1]}/{m[2]}".translate(_SUPERSCRIPT)),
    (re.compile(r"\*\*(-?\d+)"), lambda m: m[1].translate(_SUPERSCRIPT)),
    (re.compile(r"\*\*"), lambda m: "^"),
    (re.compile(r"\bsqrt\("), lambda m: "√("),
    (re.compile(r"\bsigmoid\("), lambda m: "σ("),
    (re.compile(r"\bE\b"), lambda m: "e"),
    (_JUXTAPOSE, lambda m: m[1]),
    (re.compile(r"\*"), lambda m: "·"),
    (re.compile(r" - "), lambda m: " − "),
    (re.compile(r"(?<=[\s(\[,=])-(?=[\w(√σ])|^-(?=[\w(√σ])"), lambda m: "−"),
)


def python_to_math(text: str) -> str:
    """Formulas that SymPy printed in Python syntax, inside running text, in mathematical notation.

    >>> python_to_math("d/dx [x**3] = 3*x**2, (-1 + sqrt(5))/2, exp(-x)*sigmoid(x)")
    'd/dx [x³] = 3x², (−1 + √(5))/2, exp(−x)·σ(x)'
    """
    for pattern, replacement in _PYTHON_MATH:
        text = pattern.sub(replacement, text)
    return text


def render(segments: Sequence, notation: str) -> str:
    """Join a prompt's segments in ``notation``: "unicode", "latex" (text mode, math in $...$) or "html"."""
    parts = []
    for segment in segments:
        if isinstance(segment, str):
            segment = _MINUS.sub("−", segment)
            parts.append({"unicode": segment, "latex": latex_text(segment), "html": html.escape(segment)}[notation])
        elif notation == "unicode":
            parts.append(unicode_math(segment))
        elif notation == "latex":
            parts.append(f"${latex_math(segment)}$")
        else:
            parts.append(mathml(segment))
    return "".join(parts)

