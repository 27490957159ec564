"""Critical points classified by the Hessian, and convexity (proved where SymPy can, else sampled).

A critical point solves ∇f = 0. With Hessian eigenvalues λ_i there: all λ > 0 a minimum, all
λ < 0 a maximum, both signs a saddle, some λ = 0 degenerate (the test cannot tell).
f is convex iff its Hessian is positive semidefinite everywhere, i.e. every principal minor ≥ 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.ml_functions import relu, to_elementary
from calcml.symbolic.multivariable import Variables, as_symbols, gradient, hessian
from calcml.symbolic.parser import as_expr
from calcml.symbolic.workers import runs_in_worker

_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside, relu)


@dataclass(frozen=True)
class CriticalPoint:
    """A solution of ∇f = 0 with f's value, the Hessian and its eigenvalues there, and the verdict."""

    point: dict
    value: sp.Expr
    hessian: sp.Matrix
    eigenvalues: tuple[sp.Expr, ...]
    kind: str  # "minimum" | "maximum" | "saddle" | "degenerate" | "undetermined"

    def __str__(self) -> str:
        where = ", ".join(f"{k} = {v}" for k, v in self.point.items())
        eig = ", ".join(map(sp.sstr, self.eigenvalues))
        return f"({where}): {self.kind}, f = {self.value}, Hessian eigenvalues {eig}"


@dataclass(frozen=True)
class CriticalPoints:
    """All critical points SymPy found (``result``), with ∇f and the Hessian used."""

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    gradient: sp.Matrix
    hessian: sp.Matrix
    result: tuple[CriticalPoint, ...]

    def text(self) -> str:
        """∇f, H and one line per point."""
        lines = [f"∇f = {sp.sstr(list(self.gradient))} = 0", f"H = {sp.sstr(self.hessian.tolist())}"]
        lines += [str(p) for p in self.result] or ["no critical points found"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __len__(self) -> int:
        return len(self.result)

    def __iter__(self):
        return iter(self.result)

    def __getitem__(self, i: int) -> CriticalPoint:
        return self.result[i]


def classify(eigenvalues: tuple[sp.Expr, ...]) -> str:
    """minimum / maximum / saddle / degenerate from the signs of the Hessian's eigenvalues."""
    signs = []
    for lam in eigenvalues:
        if lam.is_zero:
            signs.append(0)
        elif lam.is_positive:
            signs.append(1)
        elif lam.is_negative:
            signs.append(-1)
        else:
            return "undetermined"
    if 1 in signs and -1 in signs:
        return "saddle"
    if 0 in signs:
        return "degenerate"
    return "minimum" if signs[0] == 1 else "maximum"


def _eigenvalues(matrix: sp.Matrix) -> tuple[sp.Expr, ...]:
    if matrix.free_symbols or matrix.shape[0] > 3:
        if matrix.free_symbols:
            return tuple(sp.Matrix(matrix).eigenvals(multiple=True))
        return tuple(sp.Float(v) for v in np.linalg.eigvalsh(np.array(matrix.evalf(), dtype=float)))
    return tuple(sorted(matrix.eigenvals(multiple=True), key=lambda v: complex(v).real))


@runs_in_worker("critical_points")
def critical_points(
    expr: str | sp.Expr, variables: Variables = None, *, timeout: float | None = None
) -> CriticalPoints:
    """Solve ∇f = 0 over the reals and classify each point by the Hessian's eigenvalues.

    >>> [p.kind for p in critical_points("x^3 - 3x + y^2", ["x", "y"])]
    ['saddle', 'minimum']
    """
    f = as_expr(expr)
    xs = as_symbols(variables, f)
    grad = gradient(f, xs).result
    hess = hessian(f, xs).result
    try:
        solutions = sp.solve([to_elementary(g) for g in grad], xs, dict=True)
    except NotImplementedError as error:
        raise SymbolicError(f"SymPy cannot solve ∇f = 0 for this function: {error}") from None
    points = []
    for solution in solutions:
        point = {x: solution.get(x, x) for x in xs}
        if any(v.is_real is False for v in point.values()):
            continue
        h = hess.subs(point)
        eig = _eigenvalues(h)
        points.append(
            CriticalPoint({str(k): v for k, v in point.items()}, sp.simplify(f.subs(point)), h, eig, classify(eig))
        )
    points.sort(key=lambda p: [complex(v).real if v.is_number else 0.0 for v in p.point.values()])
    return CriticalPoints(f, xs, grad, hess, tuple(points))


@dataclass(frozen=True)
class ConvexityVerdict:
    """``convex`` (bool); ``method`` "symbolic" (a proof) or "sampled" (evidence at random points);
    ``counterexample`` a point where the Hessian has a negative eigenvalue, when one was found."""

    convex: bool
    method: str
    reason: str
    counterexample: dict | None = None

    @property
    def proved(self) -> bool:
        """True when the verdict is a symbolic proof rather than a sample."""
        return self.method == "symbolic"

    def __bool__(self) -> bool:
        return self.convex

    def __str__(self) -> str:
        return f"{'convex' if self.convex else 'not convex'} ({self.method}): {self.reason}"


def _principal_minors(h: sp.Matrix) -> list[sp.Expr]:
    n = h.shape[0]
    return [
        h.extract(list(rows), list(rows)).det()
        for size in range(1, n + 1)
        for rows in itertools.combinations(range(n), size)
    ]


def _sign_everywhere(expr: sp.Expr) -> bool | None:
    """True if ≥ 0 for all real inputs, False if < 0 for all, None if SymPy cannot tell."""
    for form in (expr, sp.simplify(expr), sp.factor(expr)):
        if form.is_nonnegative:
            return True
        if form.is_negative:
            return False
    return None


@runs_in_worker("is_convex")
def is_convex(
    expr: str | sp.Expr,
    variables: Variables = None,
    *,
    domain: dict | None = None,
    samples: int = 200,
    seed: int = 0,
    timeout: float | None = None,
) -> ConvexityVerdict:
    """Is f convex on ℝⁿ (or on the box ``domain``: name → (low, high), used for sampling)?

    Symbolic first: every principal minor of the Hessian provably ≥ 0 means convex; a diagonal
    entry provably < 0 means not. Otherwise the smallest Hessian eigenvalue is sampled at
    ``samples`` random points (default box [-3, 3]ⁿ) and the verdict says it was sampled.
    Functions with kinks (abs, relu, max, piecewise) are sampled with Jensen's inequality instead.

    >>> is_convex("x^2 + y^2").proved, bool(is_convex("sigmoid(x)"))
    (True, False)
    """
    f = as_expr(expr)
    xs = as_symbols(variables, f)
    if f.has(*_NONSMOOTH):
        return _sampled_jensen(to_elementary(f), xs, domain or {}, samples, seed)
    h = hessian(f, xs).result.applyfunc(to_elementary)
    minors = _principal_minors(h)
    signs = [_sign_everywhere(m) for m in minors]
    if all(s is True for s in signs):
        return ConvexityVerdict(True, "symbolic", "every principal minor of the Hessian is ≥ 0 for all inputs")
    for i in range(len(xs)):
        if _sign_everywhere(-h[i, i]) is True and _sign_everywhere(h[i, i]) is False:
            return ConvexityVerdict(False, "symbolic", f"∂²f/∂{xs[i]}² = {h[i, i]} < 0 for all inputs")
    return _sampled(h, xs, domain or {}, samples, seed)


def _box(xs: tuple[sp.Symbol, ...], domain: dict) -> tuple[list[tuple[float, float]], str]:
    bounds = []
    for x in xs:
        given = domain.get(x.name, (-3.0, 3.0))
        try:
            low, high = (float(v) for v in given)
        except (TypeError, ValueError):
            raise SymbolicError(f"the domain of {x.name} must be two numbers (low, high); got {given!r}") from None
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise SymbolicError(f"the domain of {x.name} must be finite with low < high; got {given!r}")
        bounds.append((low, high))
    return bounds, " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in bounds)


def _sampled_jensen(f: sp.Expr, xs: tuple[sp.Symbol, ...], domain: dict, samples: int, seed: int) -> ConvexityVerdict:
    """For functions with kinks, where the Hessian misses curvature: sample Jensen's inequality
    f(t·a + (1−t)·b) ≤ t·f(a) + (1−t)·f(b)."""
    rng = np.random.default_rng(seed)
    bounds, box = _box(xs, domain)
    fn = sp.lambdify(xs, f, modules="numpy")
    tested = 0
    with np.errstate(all="ignore"):
        for _ in range(samples):
            a = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
            b = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
            t = rng.uniform(0.1, 0.9)
            fa, fb, fm = (float(fn(*p)) for p in (a, b, t * a + (1 - t) * b))
            if not np.isfinite([fa, fb, fm]).all():
                continue
            tested += 1
            gap = fm - (t * fa + (1 - t) * fb)
            if gap > 1e-9 * max(1.0, abs(fa), abs(fb)):
                at = {"a": a.round(6).tolist(), "b": b.round(6).tolist(), "t": round(t, 6)}
                return ConvexityVerdict(
                    False, "sampled", f"f(t·a + (1−t)·b) exceeds t·f(a) + (1−t)·f(b) by {gap:.3g} at {at}", at
                )
    return ConvexityVerdict(
        True,
        "sampled",
        f"sampled: f(t·a + (1−t)·b) ≤ t·f(a) + (1−t)·f(b) held for {tested} random pairs in {box} "
        "(f has kinks, so the Hessian test does not apply); this is evidence, not a proof",
    )


def _sampled(h: sp.Matrix, xs: tuple[sp.Symbol, ...], domain: dict, samples: int, seed: int) -> ConvexityVerdict:
    rng = np.random.default_rng(seed)
    bounds, box = _box(xs, domain)
    hess_fn = sp.lambdify(xs, h, modules="numpy")
    worst, worst_point = np.inf, None
    with np.errstate(all="ignore"):
        for _ in range(samples):
            point = [rng.uniform(lo, hi) for lo, hi in bounds]
            values = np.array(hess_fn(*point), dtype=float).reshape(len(xs), len(xs))
            if not np.all(np.isfinite(values)):
                continue
            smallest = np.linalg.eigvalsh((values + values.T) / 2)[0]
            if smallest < worst:
                worst, worst_point = smallest, point
    if worst_point is None:
        raise SymbolicError(f"the Hessian is not finite anywhere on the sampled box {box}; give another domain")
    at = {x.name: round(float(v), 6) for x, v in zip(xs, worst_point, strict=True)}
    if worst < -1e-9:
        return ConvexityVerdict(
            False,
            "sampled",
            f"at {at} the Hessian has eigenvalue {worst:.4g} < 0 (found by sampling {box})",
            at,
        )
    return ConvexityVerdict(
        True,
        "sampled",
        f"sampled: the Hessian was positive semidefinite at all {samples} random points of {box} "
        f"(smallest eigenvalue {worst:.3g}); this is evidence, not a proof",
    )
