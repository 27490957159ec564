"""Machine-learning functions as SymPy functions that keep their ML names in results.

Each knows its derivative in the form ML texts write it (σ' = σ(1 − σ), softplus' = σ,
∂ softmax_k/∂z_j = p_k(δ_kj − p_j), ∂ logsumexp/∂z_j = p_j), evaluates at floating-point
arguments, and rewrites to elementary functions with :func:`to_elementary` for the SymPy
algorithms (integrate, solve, limit) that need exp/log/Piecewise.

ReLU's derivative is ``Piecewise((0, x <= 0), (1, True))``: the subgradient at 0 is taken as 0,
as ML frameworks do. SymPy's ``Heaviside(0)`` is 1/2, so ``diff(Max(0, x), x)`` differs at 0.
"""

from __future__ import annotations

import sympy as sp
from mpmath.libmp import prec_to_dps


def _has_float(args: tuple[sp.Expr, ...]) -> bool:
    return all(a.is_number for a in args) and any(a.has(sp.Float) for a in args)


def function_latex(name: str, arguments: str, exp: str | None = None) -> str:
    """``name(arguments)`` in LaTeX; SymPy passes ``exp`` for a power of the function: σ²(z) for σ(z)**2.

    >>> print(function_latex(r"\\sigma", "z", "2"))
    \\sigma^{2}\\left(z\\right)
    """
    power = "" if exp is None else "^{%s}" % exp
    return r"%s%s\left(%s\right)" % (name, power, arguments)


class sigmoid(sp.Function):  # noqa: N801  (SymPy functions are lower case, like sin)
    """The logistic function σ(x) = 1/(1 + e^(−x));  σ'(x) = σ(x)(1 − σ(x))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Rational(1, 2)
        if x is sp.oo:
            return sp.Integer(1)
        if x is sp.S.NegativeInfinity:
            return sp.Integer(0)
        if _has_float((x,)):
            return 1 / (1 + sp.exp(-x))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _eval_evalf(self, prec):
        return (1 / (1 + sp.exp(-self.args[0]))).evalf(prec_to_dps(prec))

    def _latex(self, printer, exp=None):
        return function_latex(r"\sigma", printer._print(self.args[0]), exp)


class relu(sp.Function):  # noqa: N801
    """The rectifier relu(x) = max(0, x);  relu'(x) = 0 for x ≤ 0, 1 for x > 0 (subgradient 0 at 0)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return sp.Integer(0)
        if x.is_number and x.is_extended_real:
            return sp.Max(0, x)
        if _has_float((x,)):  # complex intermediate value: relu of the real part is meaningless
            return sp.nan
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.Piecewise((0, x <= 0), (1, True))

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sp.Piecewise((0, x <= 0), (x, True))

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sp.Max(0, x)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_nonnegative(self):
        return True if self.args[0].is_real else None

    def _latex(self, printer, exp=None):
        return function_latex(r"\operatorname{relu}", printer._print(self.args[0]), exp)


class softplus(sp.Function):  # noqa: N801
    """softplus(x) = log(1 + e^x), a smooth ReLU;  softplus'(x) = σ(x)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.log(2)
        if _has_float((x,)):
            return sp.log(1 + sp.exp(x))
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    _eval_rewrite_as_exp = _eval_rewrite_as_log

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _eval_evalf(self, prec):
        return sp.log(1 + sp.exp(self.args[0])).evalf(prec_to_dps(prec))

    def _latex(self, printer, exp=None):
        return function_latex(r"\operatorname{softplus}", printer._print(self.args[0]), exp)


class logsumexp(sp.Function):  # noqa: N801
    """logsumexp(z_1, …, z_n) = log Σ_j e^(z_j);  ∂/∂z_j = softmax_j(z)."""

    @classmethod
    def eval(cls, *z):
        if len(z) == 0:
            raise ValueError("logsumexp needs at least one argument")
        if len(z) == 1:
            return z[0]
        if len(set(z)) == 1 and z[0].is_finite:  # logsumexp(0, 0) = log 2: n equal logits give z + log n
            return z[0] + sp.log(len(z))
        if _has_float(z):
            return sp.log(sp.Add(*[sp.exp(v) for v in z]))
        return None

    def fdiff(self, argindex=1):
        return softmax(argindex, *self.args)

    def _eval_evalf(self, prec):
        return self._eval_rewrite_as_exp(*self.args).evalf(prec_to_dps(prec))

    def _eval_rewrite_as_exp(self, *z, **kwargs):
        return sp.log(sp.Add(*[sp.exp(v) for v in z]))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_is_real(self):
        return all(v.is_real for v in self.args) or None

    def _latex(self, printer, exp=None):
        return function_latex(r"\operatorname{logsumexp}", ", ".join(printer._print(v) for v in self.args), exp)


class softmax(sp.Function):  # noqa: N801
    """softmax(k, z_1, …, z_n) = e^(z_k) / Σ_j e^(z_j), the k-th output (k from 1);
    ∂ softmax_k/∂z_j = p_k(δ_kj − p_j) with p = softmax(z).
    """

    @classmethod
    def eval(cls, k, *z):
        if not (k.is_Integer and 1 <= int(k) <= len(z)):
            raise ValueError(
                f"softmax(k, z1, ..., zn) needs a whole number 1 <= k <= n first; got k = {k} with n = {len(z)}"
            )
        if len(z) == 1:
            return sp.Integer(1)
        if len(set(z)) == 1:  # equal logits: every output is 1/n (softmax(1, 0, 0) = 1/2 in a Taylor polynomial)
            return sp.Rational(1, len(z))
        if _has_float(z):
            return sp.exp(z[int(k) - 1]) / sp.Add(*[sp.exp(v) for v in z])
        return None

    @property
    def index(self) -> int:
        """k, the output this softmax entry is (1-based)."""
        return int(self.args[0])

    @property
    def logits(self) -> tuple[sp.Expr, ...]:
        """z_1, …, z_n."""
        return self.args[1:]

    def fdiff(self, argindex=1):
        if argindex == 1:
            return sp.Integer(0)  # the index is a fixed whole number
        j = argindex - 1
        delta = 1 if j == self.index else 0
        return self * (delta - softmax(j, *self.logits))

    def _eval_rewrite_as_exp(self, k, *z, **kwargs):
        return sp.exp(z[int(k) - 1]) / sp.Add(*[sp.exp(v) for v in z])

    def _eval_evalf(self, prec):
        return self._eval_rewrite_as_exp(*self.args).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return all(v.is_real for v in self.logits) or None

    def _eval_is_positive(self):
        return True if all(v.is_real for v in self.logits) else None

    def _latex(self, printer, exp=None):
        z = ", ".join(printer._print(v) for v in self.logits)
        return function_latex(r"\operatorname{softmax}_{%d}" % self.index, z, exp)


ML_FUNCTIONS = (sigmoid, relu, softplus, logsumexp, softmax)


def to_elementary(expr: sp.Expr) -> sp.Expr:
    """Rewrite the ML functions of ``expr`` in exp, log and Piecewise (relu(x) → Piecewise).

    >>> x = sp.Symbol("x")
    >>> to_elementary(sigmoid(x))
    1/(1 + exp(-x))
    """
    if not expr.has(*ML_FUNCTIONS):
        return expr

    def elementary(e: sp.Expr) -> sp.Expr:
        if isinstance(e, relu):
            return e._eval_rewrite_as_Piecewise(*e.args)
        return e._eval_rewrite_as_exp(*e.args)

    return expr.replace(lambda e: isinstance(e, ML_FUNCTIONS), elementary)
