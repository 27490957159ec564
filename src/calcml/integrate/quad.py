"""``quad``: adaptive Gauss–Kronrod quadrature with an honest error estimate, differentiable.

    ∫_a^b f(x) dx ≈ Σ_panels Σ_i w_i f(x_i)

The algorithm (QUADPACK's QAG/QAGS strategy, Piessens et al. 1983, written afresh):

1. Infinite ranges become finite by a change of variables: x = a + t/(1−t) on [a, ∞),
   x = b − t/(1−t) on (−∞, b], x = t/(1−t²) on (−∞, ∞), with the Jacobian folded into the integrand.
2. The range (cut into ``panels`` initial panels, 1 by default) is integrated by the G10–K21 pair.
   The error of a panel is QUADPACK's estimate from |K − G|:  ρ·min(1, (200|K−G|/ρ)^1.5), with
   ρ = ∫|f − mean f|, never below 50ε·∫|f|.
3. Global adaptive bisection: the panel with the largest error estimate is halved until the sum of the
   errors is below max(atol, rtol·|I|). The default atol = 1e-12 plays the part of QUADPACK's epsabs:
   without it an integral whose value is 0 (∫ x e^{−x²} over ℝ, E[X] of a symmetric density) could only
   stop when its error fell below rtol·0 = 0, and ran to the limit (83,979 evaluations and a warning
   instead of 21). It is smaller than QUADPACK's 1.5e-8 so that rtol = 1e-10 still rules for |I| ≥ 0.01.
   A range where every sample so far is exactly 0 is not trusted
   until it has been cut into 16 panels (x·sin 30x on [0, 2π] must not stop at 0 by bad luck).
4. Endpoint singularities (1/√x, log x, a Beta density): an endpoint where f is not finite, or toward
   which bisection keeps halving, is handled by a geometric mesh — panels [a + w/2^{k+1}, a + w/2^k] —
   integrated by G7–K15, whose partial sums S_k are extrapolated to k → ∞ by Wynn's ε-algorithm
   (``extrapolation.py``). A singularity inside the range should be made an endpoint by splitting there.
   The ε-algorithm also "sums" a divergent sequence (∫₀¹ x^{−3/2} "= −2", its analytic continuation), so
   each end's increments S_k − S_{k−1} are watched (``divergence.py``): when they stop shrinking the
   integral diverges and the result is ±∞ (NaN for ∞ − ∞) with converged=False and a warning.
5. What a rule cannot see: a blind half (step 2) whose samples are all far below the |f| its parent saw
   inside it keeps the parent's error and that witness point, so bisection closes in on a narrow peak
   (e^{−x²} on [−10⁶, 10⁶]) instead of reporting 0 ± 0. On (−∞, ∞), f is first sampled on a geometric grid
   ±2²…±2⁶⁴: a tail where x·f(x) does not decay gets the range cut at 0, so an odd f that diverges at
   both ends (x/(1+x²)) is not cancelled to 0 by one symmetric rule.

Differentiable: when ``f`` closes over traced Tensors, the nodes and weights are chosen on the values
and then ``f`` is evaluated once more, traced, at the chosen nodes only; the weighted sum (and the
ε-extrapolation, when used) is differentiated. The choice of nodes itself is not differentiated: the
gradient is that of the quadrature rule that was selected, which agrees with ∫ ∂f/∂θ to within the
tolerance. Limits that are Tensors are differentiated by the Leibniz rule:
d/db ∫_a^b f = f(b), d/da ∫_a^b f = −f(a) (the primitive ``integral_with_limits``).
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff import CalcmlError, Tensor, primitive
from calcml.autodiff.formula import Formula
from calcml.integrate.divergence import (
    behind_the_sequence,
    divergence_reason,
    divergent_value,
    growth_sign,
    tails_may_diverge,
)
from calcml.integrate.extrapolation import epsilon_table, extrapolate
from calcml.integrate.kronrod import gauss_kronrod

EPS = np.finfo(float).eps
MIN_PANELS_WHEN_BLIND = 16  # panels to split into before trusting a rule that has seen nothing (see below)
SUSPECT_DEPTH = 8  # an end panel narrower than (range)/2^8 still worst: treat the endpoint as singular
MAX_LEVELS = 60
MAIN_RULE = 10  # G10–K21 for the adaptive bisection
DEFAULT_ATOL = 1e-12  # QUADPACK's epsabs, scaled to calcml's tighter default rtol (see the module docstring)
PIECE_RULE = 7  # G7–K15 on the geometric pieces near a singular endpoint
WITNESS_RATIO = 1e3  # a blind half whose samples all lie this far below |f| at its parent's peak missed the peak


class IntegrationWarning(UserWarning):
    """A quadrature stopped before reaching the requested tolerance; the result says how far it got."""


class IntegrandError(CalcmlError, ValueError):
    """The integrand returned something quadrature cannot use (NaN/inf inside the range, wrong shape)."""


class IntegrationInputError(CalcmlError, ValueError):
    """An argument of a quadrature is unusable (a NaN limit, a negative or NaN tolerance, limit < 1):
    refused before f is called. It is a ValueError too."""


def check_tolerances(rtol: Any, atol: Any, caller: str) -> tuple[float, float]:
    """rtol and atol as floats: finite, ≥ 0 and not both 0, or IntegrationInputError.

    >>> check_tolerances(1e-10, -1.0, "quad")
    Traceback (most recent call last):
    calcml.integrate.quad.IntegrationInputError: quad: atol must be a finite number ≥ 0, got -1.0...
    """
    values = []
    for name, tol in (("rtol", rtol), ("atol", atol)):
        try:
            value = float(tol)
        except (TypeError, ValueError):
            value = float("nan")
        if not (math.isfinite(value) and value >= 0):
            raise IntegrationInputError(
                f"{caller}: {name} must be a finite number ≥ 0, got {tol!r}.\n"
                f"  the integral stops when its estimated error is below max(atol, rtol·|I|); defaults "
                f"rtol=1e-10, atol={DEFAULT_ATOL:g}.")
        values.append(value)
    if values == [0.0, 0.0]:
        raise IntegrationInputError(f"{caller}: rtol and atol are both 0: no error estimate can be below 0; "
                                    f"give rtol > 0 (e.g. 1e-10) or atol > 0.")
    return values[0], values[1]


def check_count(n: Any, name: str, caller: str, minimum: int = 1) -> int:
    """An integer ≥ ``minimum`` (limit, panels, n), or IntegrationInputError."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise IntegrationInputError(f"{caller}: {name} must be an integer ≥ {minimum}, got {n!r}.")
    return int(n)


@dataclass
class QuadResult:
    """The value of an integral, an estimate of its absolute error and the number of evaluations of f.

    ``value`` is a float, or a Tensor when the integral depends on traced Tensors (then ``cm.grad``
    can differentiate it). ``float(result)`` always gives a number.
    """

    value: Any
    error: float
    evals: int
    converged: bool = True
    intervals: int = 0
    method: str = "gauss-kronrod G10-K21"

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        flag = "" if self.converged else ", converged=False"
        return (f"QuadResult(value={float(self):.16g}, error={self.error:.2e}, evals={self.evals}"
                f"{flag}, method={self.method!r})")

    def _repr_html_(self) -> str:
        status = "reached" if self.converged else "<b>not reached</b>"
        return (f"<table><tr><th>value</th><td>{float(self):.16g}</td></tr>"
                f"<tr><th>error estimate</th><td>{self.error:.2e}</td></tr>"
                f"<tr><th>evaluations of f</th><td>{self.evals}</td></tr>"
                f"<tr><th>subintervals</th><td>{self.intervals}</td></tr>"
                f"<tr><th>method</th><td>{self.method}</td></tr>"
                f"<tr><th>tolerance</th><td>{status}</td></tr></table>")


# ---- the limits as differentiable inputs --------------------------------------------------------
@primitive(formula=Formula("d/db ∫_a^b f = f(b), d/da ∫_a^b f = −f(a), d/d value = 1",
                           partials=("1", "−{3}", "{4}")))
def integral_with_limits(value, a, b, f_a, f_b):
    """∫_a^b f passed through unchanged, so its limits can be differentiated (Leibniz rule).

    d/db ∫_a^b f = f(b),  d/da ∫_a^b f = −f(a),  d/d value = 1. ``f_a``, ``f_b`` ride along for
    those rules (traced when higher derivatives are wanted); the value does not depend on them.
    """
    return np.asarray(value)


integral_with_limits.defpartials(  # one linear map in both modes: ∂/∂value = 1, ∂/∂a = −f(a), ∂/∂b = f(b)
    lambda ans, value, a, b, f_a, f_b: 1.0,
    lambda ans, value, a, b, f_a, f_b: -f_a,
    lambda ans, value, a, b, f_a, f_b: f_b,
    lambda ans, value, a, b, f_a, f_b: 0.0,
    lambda ans, value, a, b, f_a, f_b: 0.0,
)


def _is_traced(x: Any) -> bool:
    return type(x) is Tensor and (x.requires_grad or x.tangent is not None)


def _plain(x: Any) -> float:
    """A limit's number, read from a Tensor's value (never by float() on a traced Tensor)."""
    return float(x.value) if type(x) is Tensor else float(x)


def _limit(x: Any, name: str) -> float:
    try:
        value = _plain(x)
    except (TypeError, ValueError) as error:
        raise IntegrationInputError(f"quad: the limit {name} must be a number (or ±np.inf), got {x!r}.") from error
    if math.isnan(value):
        raise IntegrationInputError(f"quad: the limit {name} is NaN; give a number, or ±np.inf for an infinite range.")
    return value


# ---- the integrand on a finite t-range ----------------------------------------------------------
class Integrand:
    """f after the change of variables to a finite range, counting evaluations.

    Calls on plain arrays return plain values; ``traced(t)`` returns f·dx/dt as a Tensor when f
    depends on traced Tensors.
    """

    def __init__(self, f: Callable, a: float, b: float):
        self.f = f
        self.evals = 0
        self.traced_output = False
        if math.isfinite(a) and math.isfinite(b):
            self.kind, self.range = "finite", (a, b)
        elif math.isfinite(a):
            self.kind, self.range = "upper-infinite", (0.0, 1.0)
        elif math.isfinite(b):
            self.kind, self.range = "lower-infinite", (0.0, 1.0)
        else:
            self.kind, self.range = "both-infinite", (-1.0, 1.0)
        self.a, self.b = a, b

    def x_and_jacobian(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray | float]:
        if self.kind == "finite":
            return t, 1.0
        if self.kind == "upper-infinite":
            return self.a + t / (1.0 - t), 1.0 / (1.0 - t) ** 2
        if self.kind == "lower-infinite":
            return self.b - t / (1.0 - t), 1.0 / (1.0 - t) ** 2
        return t / (1.0 - t * t), (1.0 + t * t) / (1.0 - t * t) ** 2

    def evaluate_f(self, x: np.ndarray) -> Any:
        """f at the points x (one vectorized call; a loop if f only takes scalars)."""
        self.evals += x.size
        try:
            out = self.f(x)
        except (TypeError, ValueError):  # not vectorized ("truth value of an array is ambiguous", math.*)
            out = np.stack([self.f(xi) for xi in x]) if x.ndim else self.f(x[()])
        if np.shape(out) != x.shape:
            if np.size(out) != 1:
                raise IntegrandError(
                    f"quad: f returned shape {np.shape(out)} for {x.size} points of shape {x.shape}.\n"
                    "  f must map an array of points to an array of values of the same shape "
                    "(elementwise, like np.exp), or take one number and return one number."
                )
            out = out * np.ones_like(x) if type(out) is Tensor else np.broadcast_to(out, x.shape)
        if np.iscomplexobj(out.value if type(out) is Tensor else out):
            raise IntegrandError(
                "quad: f returned complex values; quad integrates real functions (keeping only the real part "
                "would drop the imaginary one).\n"
                "  integrate the two parts separately: quad(lambda x: f(x).real, a, b).value + "
                "1j * quad(lambda x: f(x).imag, a, b).value")
        return out

    def __call__(self, t: np.ndarray) -> np.ndarray:
        x, jacobian = self.x_and_jacobian(t)
        out = self.evaluate_f(x)
        if type(out) is Tensor:
            self.traced_output = self.traced_output or _is_traced(out)
            out = out.value
        values = np.asarray(out, dtype=float) * jacobian
        if not np.all(np.isfinite(values)):
            bad = x[~np.isfinite(values)][0]
            raise IntegrandError(
                f"quad: f({float(bad):.17g}) is not finite inside the range of integration.\n"
                "  an interior singularity, an overflow (|f| beyond float64) or a NaN: split the range at a "
                "singular point "
                "(quad(f, a, c) + quad(f, c, b)) so that it becomes an endpoint, or fix f there."
            )
        return values

    def traced(self, t: np.ndarray, weights: np.ndarray) -> Any:
        """Σ weights · f(x(t)) · dx/dt, traced through f's Tensors."""
        x, jacobian = self.x_and_jacobian(t)
        return np.sum((weights * jacobian) * self.evaluate_f(x))


# ---- one Gauss–Kronrod step on many panels at once ------------------------------------------------
def gauss_kronrod_panels(g: Callable, lo: np.ndarray, hi: np.ndarray, points: int):
    """Kronrod value, QUADPACK error estimate, "blind" and peak for each panel [lo_i, hi_i].

    A panel is blind when its samples cannot vouch for its value: all of them are 0, or the error estimate
    is as large as the integral of |f| the samples saw (not one significant digit; QUADPACK's QAGS refuses
    to stop on that too). A narrow peak between the nodes of a wide panel looks like that. The peak is the
    node where |f| was largest, and that |f|: a witness of what f does inside the panel."""
    rule = gauss_kronrod(points)
    center, half = lo / 2.0 + hi / 2.0, hi / 2.0 - lo / 2.0  # halves first: (lo + hi) overflows near 1e308
    t = center[:, None] + half[:, None] * rule.nodes
    values = g(t.ravel()).reshape(t.shape)
    kronrod = half * (values @ rule.kronrod_weights)
    gauss = half * (values @ rule.gauss_weights)
    absolute = np.abs(half) * (np.abs(values) @ rule.kronrod_weights)
    mean = (values @ rule.kronrod_weights) / 2.0
    spread = np.abs(half) * (np.abs(values - mean[:, None]) @ rule.kronrod_weights)
    error = np.abs(kronrod - gauss)
    scaled = spread * np.minimum(1.0, (200.0 * error / np.where(spread > 0, spread, 1.0)) ** 1.5)
    error = np.where((spread > 0) & (error > 0), scaled, error)
    blind = np.all(values == 0.0, axis=1) | (error >= 0.5 * absolute)
    error = np.maximum(error, 50.0 * EPS * absolute)
    where = np.argmax(np.abs(values), axis=1)
    rows = np.arange(len(t))
    return kronrod, error, blind, (t[rows, where], np.abs(values[rows, where]))


Panel = tuple[float, float, float, float, float, float]  # (lo, hi, value, error, peak x, |f| at the peak)


@dataclass
class Adaptive:
    value: float
    error: float
    panels: list[Panel]
    points: int  # the Gauss–Kronrod pair G_points–K_(2·points+1)
    converged: bool
    suspect_end: str | None = None  # "lo" or "hi" when bisection keeps halving toward that end
    too_small: bool = False


def adaptive(g: Callable, lo: float, hi: float, rtol: float, atol: float, max_panels: int,
             points: int = MAIN_RULE, panels: int = 1, watch_ends: bool = False) -> Adaptive:
    """Global adaptive bisection: always halve the panel with the largest error estimate.

    A blind half whose samples are all far below a |f| its parent saw at a point inside it (a peak
    narrower than the half's nodes: e^{−x²} on [−10⁶, 10⁶]) keeps its parent's error and that witness
    point, so the bisection closes in on the point until the rule sees the mass: an estimate is never
    smaller than a disagreement already seen."""
    edges = np.linspace(lo, hi, panels + 1)
    values, errors, blind, (peaks, heights) = gauss_kronrod_panels(g, edges[:-1], edges[1:], points)
    all_blind = bool(np.all(blind))
    # worst error first; among equal errors (all 0 while f has only shown zeros) the widest panel
    heap = [(-e, l - h, l, h, v, e, p, y)
            for l, h, v, e, p, y in zip(edges[:-1], edges[1:], values, errors, peaks, heights)]
    heapq.heapify(heap)
    total, total_error = math.fsum(values), math.fsum(errors)
    width = abs(hi - lo)
    while True:
        tolerance = max(atol, rtol * abs(total))
        enough = not all_blind or len(heap) >= MIN_PANELS_WHEN_BLIND
        if total_error <= tolerance and enough:
            return Adaptive(total, total_error, [p[2:] for p in heap], points, True)
        if len(heap) >= max_panels:
            return Adaptive(total, total_error, [p[2:] for p in heap], points, False)
        _, _, l, h, v, e, peak, height = heap[0]
        if watch_ends and e > 0 and abs(h - l) < width * 2.0 ** -SUSPECT_DEPTH and (l == lo or h == hi):
            return Adaptive(total, total_error, [p[2:] for p in heap], points, False, "lo" if l == lo else "hi")
        m = l / 2.0 + h / 2.0
        if not (min(l, h) < m < max(l, h)) or abs(h - l) < 100 * EPS * max(abs(l), abs(h)):
            return Adaptive(total, total_error, [p[2:] for p in heap], points, False, too_small=True)
        heapq.heappop(heap)
        halves, half_errors, half_blind, (half_peaks, half_heights) = gauss_kronrod_panels(
            g, np.array([l, m]), np.array([m, h]), points)
        all_blind = all_blind and bool(np.all(half_blind))
        for i, (pl, ph, pv, pp, py) in enumerate(zip((l, m), (m, h), halves, half_peaks, half_heights)):
            if half_blind[i] and height > WITNESS_RATIO * py and min(pl, ph) <= peak <= max(pl, ph):
                half_errors[i], pp, py = max(half_errors[i], e), peak, height  # blind to the witness: keep looking
            heapq.heappush(heap, (-half_errors[i], pl - ph, pl, ph, pv, half_errors[i], pp, py))
        total += halves[0] + halves[1] - v
        total_error += half_errors[0] + half_errors[1] - e
        if len(heap) % 64 == 0:  # wipe out drift from the running sums
            total = math.fsum(p[4] for p in heap)
            total_error = math.fsum(p[5] for p in heap)


def panel_nodes(panels: list[Panel], points: int) -> tuple[np.ndarray, np.ndarray]:
    """All Kronrod nodes and weights of a list of panels (for the traced re-evaluation)."""
    rule = gauss_kronrod(points)
    if not panels:
        return np.zeros(0), np.zeros(0)
    lo, hi = np.array([p[0] for p in panels]), np.array([p[1] for p in panels])
    half = (hi - lo) / 2.0
    nodes = ((lo + hi) / 2.0)[:, None] + half[:, None] * rule.nodes
    return nodes.ravel(), (half[:, None] * rule.kronrod_weights).ravel()


# ---- endpoint singularities: geometric mesh + ε-extrapolation ----------------------------------------
@dataclass
class Extrapolation:
    value: float
    error: float
    converged: bool
    groups: list[list[Adaptive]]  # the runs that make S_0 and each increment S_k − S_(k−1)
    row: int
    column: int
    length: int  # how many partial sums the chosen entry was computed from
    diverges: dict[str, int] | None = None  # end → sign of the infinity the partial sums run off to


def extrapolated(g: Callable, lo: float, hi: float, ends: set[str], rtol: float, atol: float,
                 max_panels: int) -> Extrapolation:
    """∫ = lim S_k, S_k = ∫ over the range minus [end, end ± w/2^k], by Wynn's ε-algorithm.

    Each end's increments are watched (``divergence.py``): when they stop shrinking the integral diverges
    there, and an extrapolated value behind the monotone partial sums it came from is not accepted."""
    width = hi - lo
    w = width / 4.0 if len(ends) == 2 else width / 2.0
    inner_lo = lo + w if "lo" in ends else lo
    inner_hi = hi - w if "hi" in ends else hi
    piece_rtol = rtol / 20.0
    middle = adaptive(g, inner_lo, inner_hi, piece_rtol, atol / 10.0, max_panels, PIECE_RULE)
    partial = [middle.value]
    groups = [[middle]]
    pieces_error = middle.error
    count = len(middle.panels)
    best = None
    increments: dict[str, list[float]] = {end: [] for end in ends}
    increment_errors: dict[str, list[float]] = {end: [] for end in ends}
    floor = {e: 1e5 * EPS * max(1.0, abs(lo if e == "lo" else hi)) for e in ends}
    for k in range(MAX_LEVELS):
        outer, inner = w / 2.0 ** k, w / 2.0 ** (k + 1)
        if any(outer - inner < floor[e] for e in ends) or count >= max_panels:
            break
        tolerance = max(atol, rtol * abs(partial[-1]))
        increment, group = 0.0, []
        for end in sorted(ends):
            a, b = (lo + inner, lo + outer) if end == "lo" else (hi - outer, hi - inner)
            piece = adaptive(g, a, b, piece_rtol, tolerance / 100.0, max_panels, PIECE_RULE)
            increments[end].append(piece.value)
            increment_errors[end].append(piece.error)
            increment += piece.value
            pieces_error += piece.error
            group.append(piece)
            count += len(piece.panels)
        partial.append(partial[-1] + increment)
        groups.append(group)
        diverges = {end: sign for end in ends if (sign := growth_sign(increments[end], increment_errors[end]))}
        if diverges:
            return Extrapolation(partial[-1], math.inf, False, groups, len(partial) - 1, 0, len(partial), diverges)
        if len(partial) >= 4:
            best = extrapolate(partial)
            error = best.error + pieces_error
            if error <= max(atol, rtol * abs(best.value)) and not behind_the_sequence(best.value, error, partial):
                return Extrapolation(best.value, error, True, groups, best.row, best.column, len(partial))
    if best is None:
        best = extrapolate(partial)
    error = best.error + pieces_error
    if behind_the_sequence(best.value, error, partial):  # never report less than the disagreement in hand
        error = max(error, abs(best.value - partial[-1]))
    return Extrapolation(best.value, error, False, groups, best.row, best.column, len(partial))


# ---- the public function --------------------------------------------------------------------------
def quad(f: Callable, a: Any, b: Any, rtol: float = 1e-10, atol: float = DEFAULT_ATOL, limit: int = 2000,
         panels: int = 1) -> QuadResult:
    """∫_a^b f(x) dx by adaptive Gauss–Kronrod quadrature, with an error estimate.

    f is called with arrays of points (vectorize it like ``np.exp``; a scalar-only f is looped over).
    Stops when the estimated error is below max(atol, rtol·|I|); warns (``IntegrationWarning``) when
    ``limit`` subintervals were not enough. a and b may be ±np.inf, and Tensors (then the result is
    differentiable in them by the Leibniz rule). The small default atol (1e-12, like QUADPACK's epsabs)
    lets an integral whose value is 0 stop: pass ``atol=0`` for a purely relative tolerance, or a larger
    atol when f is large (|f| ≫ 1) and its integral cancels to about 0.

    Refused before f is called (IntegrationInputError, a ValueError): a NaN limit, rtol or atol NaN,
    infinite or negative (or both 0), ``limit`` or ``panels`` not an integer ≥ 1.

    >>> cm.integrate.quad(np.exp, 0, 1)
    QuadResult(value=1.718281828459045, error=1.91e-14, evals=23, method='gauss-kronrod G10-K21')
    >>> float(cm.grad(lambda b: cm.integrate.quad(np.sin, 0, b).value)(1.0))   # = sin(1)
    0.8414709848078965
    """
    a_value, b_value = _limit(a, "a"), _limit(b, "b")
    rtol, atol = check_tolerances(rtol, atol, "quad")
    limit = check_count(limit, "limit", "quad")
    panels = check_count(panels, "panels", "quad")
    sign = 1.0
    if a_value > b_value:
        a_value, b_value, sign = b_value, a_value, -1.0
    integrand = Integrand(f, a_value, b_value)
    doubt = None  # why the result is not to be trusted (a divergence), for the warning
    if a_value == b_value:
        value, error, converged, intervals, method, traced_sum = 0.0, 0.0, True, 0, "empty range", None
    else:
        value, error, converged, intervals, method, traced_sum, doubt = _integrate(
            integrand, rtol, atol, limit, panels)
    if traced_sum is not None:
        value = traced_sum
    value = value if sign > 0 else -value
    if _is_traced(a) or _is_traced(b):
        value = integral_with_limits(value, a, b, _end_value(integrand, a), _end_value(integrand, b))
    if doubt is not None:
        warnings.warn(f"quad: ∫ f from {_plain(a):g} to {_plain(b):g} cannot be trusted: {doubt} The result "
                      f"is {_plain_value(value)} with converged=False ({method}, {integrand.evals} evaluations).",
                      IntegrationWarning, stacklevel=2)
    elif not converged:
        hint = ("Raise limit=, loosen rtol=, or split the range at a difficult point."
                if not math.isfinite(error) or abs(_plain_value(value)) > error else
                f"The integral is about 0 (|I| ≤ {error:.1e}): give an absolute tolerance above that, e.g. "
                f"atol={10 ** math.ceil(math.log10(max(error, 1e-300))):g}.")
        warnings.warn(
            f"quad did not reach the tolerance max(atol={atol:g}, rtol={rtol:g}·|I|): estimated error "
            f"{error:.2e} after {integrand.evals} evaluations ({method}). {hint}", IntegrationWarning,
            stacklevel=2)
    return QuadResult(value, error, integrand.evals, converged, intervals, method)


def _plain_value(value: Any) -> float:
    return float(value.value) if type(value) is Tensor else float(value)


def _plain_array(values: Any) -> np.ndarray:
    return np.asarray(values.value if type(values) is Tensor else values, dtype=float)


def _end_value(integrand: Integrand, limit: Any) -> Any:
    """f at a limit, traced (for the Leibniz rule); 0 at ±∞."""
    if not math.isfinite(_plain(limit)):
        return 0.0
    integrand.evals += 1
    return integrand.f(limit)


def _integrate(integrand: Integrand, rtol: float, atol: float, limit: int, panels: int):
    lo, hi = integrand.range
    ends = _singular_ends(integrand) if integrand.kind == "finite" else set()
    if not ends:
        if integrand.kind == "both-infinite" and tails_may_diverge(lambda x: _plain_array(integrand.evaluate_f(x))):
            panels = max(panels, 2)  # halves at x = 0: x/(1+x²) must not cancel to 0 inside one symmetric rule
        run = adaptive(integrand, lo, hi, rtol, atol, limit, MAIN_RULE, panels, watch_ends=True)
        if run.suspect_end is None:
            traced = _traced_sum(integrand, [run]) if integrand.traced_output else None
            return run.value, run.error, run.converged, len(run.panels), "gauss-kronrod G10-K21", traced, None
        # both ends of (−∞, ∞) are watched: an odd f (x/(1+x²)) diverges at both, and the two cancel
        ends = {"lo", "hi"} if integrand.kind == "both-infinite" else {run.suspect_end}
    run = extrapolated(integrand, lo, hi, ends, rtol, atol, limit)
    where = " and ".join(_end_names(integrand, ends))
    method = f"gauss-kronrod G7-K15 on a geometric mesh + ε-extrapolation at {where}"
    intervals = sum(len(r.panels) for g in run.groups for r in g)
    if run.diverges:
        return (*divergent_value(run.diverges), False, intervals, method, None,
                divergence_reason({"lo": integrand.a, "hi": integrand.b}, run.diverges))
    traced = None
    if integrand.traced_output:
        sums = [_traced_sum(integrand, group) for group in run.groups[: run.length]]
        partial = [sums[0]]
        for s in sums[1:]:
            partial.append(partial[-1] + s)
        traced = epsilon_table(partial)[run.column][run.row]
    return run.value, run.error, run.converged, intervals, method, traced, None


def _end_names(integrand: Integrand, ends: set[str]) -> list[str]:
    if integrand.kind == "finite":
        return [f"x = {integrand.a:g}" if e == "lo" else f"x = {integrand.b:g}" for e in sorted(ends)]
    return [f"t = {integrand.range[0] if e == 'lo' else integrand.range[1]:g} (after the change of variables)"
            for e in sorted(ends)]


def _singular_ends(integrand: Integrand) -> set[str]:
    """The finite endpoints where f is not finite (or raises): they get the extrapolated treatment."""
    ends = set()
    for name, x in (("lo", integrand.a), ("hi", integrand.b)):
        try:
            with np.errstate(all="ignore"):
                value = integrand.evaluate_f(np.array([x]))
            value = value.value if type(value) is Tensor else value
            finite = bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
        except (ArithmeticError, ValueError):
            finite = False
        if not finite:
            ends.add(name)
    return ends


def _traced_sum(integrand: Integrand, runs: list[Adaptive]) -> Any:
    """Σ over the runs' panels of the Kronrod sums, with f evaluated traced (one call)."""
    nodes = [panel_nodes(run.panels, run.points) for run in runs]
    return integrand.traced(np.concatenate([n[0] for n in nodes]), np.concatenate([n[1] for n in nodes]))

