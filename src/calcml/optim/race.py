"""Optimizer races on 2-D surfaces: several ``cm.optim`` optimizers start from one point and their paths are
recorded step by step.

    p₀ = start;  for k = 0, 1, …:  g = ∇f(p_k) (cm.value_and_grad);  p_{k+1} = optimizer step from p_k

Newton takes its step with H = ∇²f(p_k) (``cm.hessian``, inside ``cm.optim.Newton``). A run stops early when
it reaches the tolerance (it keeps going to ``steps`` so paths can be compared, but the step is recorded),
when the point or the loss stops being finite or leaves a ball of radius ``max_norm`` (diverged), or when
Newton meets a Hessian that is not positive definite (failed). Nothing here draws: ``cm.viz.loss_surface``
and the lab draw these results.

>>> result = race("rosenbrock", ["gd", "momentum", "adam", "newton"], steps=500)
>>> [(run.label, round(run.final_loss, 4), run.steps_to_tolerance, run.diverged) for run in result.runs]
[('GD', 2.2849, None, False), ('momentum 0.9', 0.0018, None, False),
 ('Adam', 0.1528, None, False), ('Newton', 0.0, 5, False)]
"""

from __future__ import annotations

import html
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calcml.autodiff.errors import CalcmlError
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms import hessian, value_and_grad
from calcml.optim import catalog
from calcml.optim.catalog import NamedOptimizer
from calcml.optim.newton import NotPositiveDefiniteError

Bounds = tuple[tuple[float, float], tuple[float, float]]


class RaceError(CalcmlError, ValueError):
    """A race was asked for something it cannot run: an unknown surface or optimizer, a bad start point."""


@dataclass(frozen=True)
class Surface:
    """A function of two variables to race on.

    ``f(x, y)`` works elementwise on arrays (for drawing) and on calcml Tensors (for gradients).
    ``minima`` are the known minimizers (empty when unknown or when there is none) and ``minimum_value``
    the lowest value (None when unknown or unbounded below); ``lr`` and ``adaptive_lr`` are learning rates
    that work for gradient descent and for the adaptive methods (Adagrad, RMSprop, Adam) on this surface.
    """

    name: str
    expression: str
    f: Callable[[Any, Any], Any]
    bounds: Bounds
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...] = ()
    minimum_value: float | None = None
    lr: float = 1e-3
    adaptive_lr: float = 0.05
    log_scale: bool = False  # contours on a log scale read better for steep valleys

    def loss(self, p: Any) -> Any:
        """f at a point given as one vector p = (x, y): what the optimizers minimize."""
        return self.f(p[0], p[1])

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, Z) on an n×n grid over ``bounds``."""
        (x0, x1), (y0, y1) = self.bounds
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        with np.errstate(all="ignore"):
            Z = np.asarray(self.f(X, Y), dtype=np.float64) * np.ones_like(X)
        return X, Y, Z

    @classmethod
    def from_expression(cls, text: str, bounds: Bounds = ((-3.0, 3.0), (-3.0, 3.0)),
                        start: tuple[float, float] | None = None, **options: Any) -> Surface:
        """A surface from a formula in x and y, read by calcml's safe parser and lambdified (never eval'd).

        >>> float(Surface.from_expression("x**2 + 10*y**2").loss(np.array([1.0, 1.0])))
        11.0
        """
        from calcml.symbolic.errors import UnknownVariableError
        from calcml.symbolic.numeric import read_formula

        try:
            _, g = read_formula(text, ["x", "y"], "a surface")
        except UnknownVariableError as error:
            raise RaceError(str(error)) from None
        f = lambda x, y: g(x, y) + 0.0 * x  # a constant formula still gives an array over a grid
        return cls(name="custom", expression=text, f=f, bounds=bounds, start=start or _default_start(bounds),
                   **options)

    @classmethod
    def from_callable(cls, f: Callable, bounds: Bounds = ((-3.0, 3.0), (-3.0, 3.0)),
                      start: tuple[float, float] | None = None, name: str | None = None,
                      **options: Any) -> Surface:
        """A surface from a NumPy function written either as ``f(x, y)`` or as ``f(p)`` with p = (x, y)."""
        fxy = (lambda x, y: f(np.stack([x, y]))) if _positional_count(f) == 1 else f
        label = name or getattr(f, "__name__", "f")
        label = "f" if label == "<lambda>" else label
        return cls(name=label, expression=f"{label}(x, y)", f=fxy, bounds=bounds,
                   start=start or _default_start(bounds), **options)


def _positional_count(f: Callable) -> int:
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return 2
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(1 for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty)


def _default_start(bounds: Bounds) -> tuple[float, float]:
    (x0, x1), (y0, y1) = bounds
    return (x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0))


SURFACES: dict[str, Surface] = {
    "quadratic": Surface(
        "quadratic", "½(x² + 20y²)", lambda x, y: 0.5 * (x ** 2 + 20.0 * y ** 2),
        bounds=((-5.0, 5.0), (-2.5, 2.5)), start=(-4.5, 1.5), minima=((0.0, 0.0),), minimum_value=0.0,
        lr=0.05, adaptive_lr=0.3),
    "rosenbrock": Surface(
        "rosenbrock", "(1 − x)² + 100(y − x²)²", lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2,
        bounds=((-2.0, 2.0), (-1.0, 3.0)), start=(-1.2, 1.0), minima=((1.0, 1.0),), minimum_value=0.0,
        lr=1e-3, adaptive_lr=0.05, log_scale=True),
    "himmelblau": Surface(
        "himmelblau", "(x² + y − 11)² + (x + y² − 7)²",
        lambda x, y: (x ** 2 + y - 11.0) ** 2 + (x + y ** 2 - 7.0) ** 2,
        bounds=((-5.0, 5.0), (-5.0, 5.0)), start=(-0.5, -0.5),
        minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)),
        minimum_value=0.0, lr=0.01, adaptive_lr=0.1, log_scale=True),
    "beale": Surface(
        "beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
        lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2,
        bounds=((-4.5, 4.5), (-4.5, 4.5)), start=(1.0, 1.5), minima=((3.0, 0.5),), minimum_value=0.0,
        lr=1e-3, adaptive_lr=0.05, log_scale=True),
    "bowl": Surface(
        "bowl", "½(x² + 4y²)", lambda x, y: 0.5 * (x ** 2 + 4.0 * y ** 2),
        bounds=((-3.0, 3.0), (-3.0, 3.0)), start=(-2.5, 2.0), minima=((0.0, 0.0),), minimum_value=0.0,
        lr=0.1, adaptive_lr=0.3),
    "saddle": Surface(
        "saddle", "x² − y²", lambda x, y: x ** 2 - y ** 2,
        bounds=((-2.0, 2.0), (-2.0, 2.0)), start=(-1.8, 1e-3), lr=0.05, adaptive_lr=0.05),
}


def surface(spec: str | Surface | Callable, **options: Any) -> Surface:
    """A Surface from a built-in name (``SURFACES``), a formula in x and y, or a Python function."""
    if isinstance(spec, Surface):
        return spec
    if callable(spec):
        return Surface.from_callable(spec, **options)
    if not isinstance(spec, str):
        raise RaceError(f"a surface is a name ({', '.join(SURFACES)}), a formula in x and y or a function, "
                        f"not {type(spec).__name__}.")
    key = spec.strip().lower()
    if key in SURFACES:
        return SURFACES[key]
    if key.isidentifier():  # a bare word that is not a surface: most likely a misspelt name
        raise RaceError(f"no built-in surface {spec!r}; choose one of {', '.join(SURFACES)}, "
                        "or give a formula in x and y such as 'x**2 + 10*y**2'.")
    return Surface.from_expression(spec, **options)


# ---- optimizers -------------------------------------------------------------------------------------
# the optimizers a race offers, from the one table of named optimizers (calcml.optim.catalog)
OPTIMIZERS: dict[str, NamedOptimizer] = {
    name: catalog.OPTIMIZERS[name] for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton")
}
ALIASES = catalog.ALIASES


@dataclass(frozen=True)
class Run:
    """One optimizer's race: its path p₀ … p_k (shape (k+1, 2)), f at each point, and how it ended.

    ``steps_to_tolerance`` is the first step from which every later point is within the tolerance (None if
    the run did not end within it): a run that passes near the minimum and leaves again has not reached it.

    ``status`` is "converged" (reached the tolerance), "unconverged" (ran every step without reaching it),
    "diverged" (the point or the loss left every bound) or "failed" (Newton met an indefinite Hessian);
    ``reason`` says why a run stopped early.
    """

    name: str
    label: str
    lr: float
    path: np.ndarray
    losses: np.ndarray
    steps_to_tolerance: int | None
    status: str
    reason: str = ""

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def final_point(self) -> np.ndarray:
        return self.path[-1]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def steps(self) -> int:
        return len(self.path) - 1


@dataclass(frozen=True)
class RaceResult:
    """All runs of one race on one surface from one start, with the criterion for "steps to tolerance"."""

    surface: Surface
    start: np.ndarray
    runs: list[Run]
    tolerance: float
    criterion: str  # "f − f* ≤ tol" or "‖∇f‖ ≤ tol"
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Run:
        for run in self.runs:
            if run.name == name or run.label == name:
                return run
        raise KeyError(f"no run named {name!r}; runs: {', '.join(r.name for r in self.runs)}")

    def rows(self) -> list[tuple[str, ...]]:
        """The table: optimizer, η, final loss, steps to tolerance, status."""
        return [(run.label, f"{run.lr:g}", f"{run.final_loss:.3e}",
                 "—" if run.steps_to_tolerance is None else str(run.steps_to_tolerance),
                 run.status + (f" ({run.reason})" if run.reason else "")) for run in self.runs]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("optimizer", "η", "final f", f"steps to {self.criterion}",
                                                 "outcome"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows())
        return (f"<div><p>{html.escape(self.surface.name)}: f(x, y) = {html.escape(self.surface.expression)}, "
                f"start {tuple(float(v) for v in self.start)}</p>"
                f'<table class="calcml-race"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def optimizer_name(name: str) -> str:
    key = catalog.canonical_name(name)
    if key not in OPTIMIZERS:
        raise RaceError(f"no optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}.")
    return key


def learning_rate_for(name: str, lr: float | Mapping[str, float] | None, where: Surface) -> float:
    if isinstance(lr, Mapping):
        if name in lr:
            return float(lr[name])
        lr = None
    if name == "newton":
        return 1.0  # Newton's step is already scaled by the curvature: a full step unless asked otherwise
    if lr is not None:
        return float(lr)
    return where.adaptive_lr if OPTIMIZERS[name].adaptive else where.lr


def run_optimizer(where: Surface, name: str, start: np.ndarray, lr: float, steps: int, tolerance: float,
                  max_norm: float = 1e6, label: str | None = None) -> Run:
    """Run one optimizer for ``steps`` steps from ``start`` and record its path."""
    name = optimizer_name(name)
    label = label or OPTIMIZERS[name].label
    theta = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = catalog.make_optimizer(name, [theta], lr)
    loss_and_grad = value_and_grad(where.loss)
    path, losses, within = [theta.value.copy()], [], []
    status, reason = "unconverged", ""

    def reached(loss: float, gradient: np.ndarray) -> bool:
        if where.minimum_value is not None:
            return loss - where.minimum_value <= tolerance
        return float(np.linalg.norm(gradient)) <= tolerance

    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            loss, gradient = loss_and_grad(theta.value.copy())
            loss = float(loss)
            if not (math.isfinite(loss) and np.all(np.isfinite(gradient))):
                if k == 0:
                    raise RaceError(f"f or its gradient is not finite at the start {tuple(start)}: "
                                    "choose another start.")
                status, reason = "diverged", f"f or ∇f not finite at step {k}"
                path.pop()
                break
            losses.append(loss)
            within.append(reached(loss, gradient))
            if np.linalg.norm(theta.value) > max_norm:
                status, reason = "diverged", f"‖p‖ > {max_norm:g} at step {k}"
                break
            if k == steps:
                break
            try:
                if name == "newton":
                    optimizer.step(where.loss)
                else:
                    theta.grad = gradient
                    optimizer.step()
            except NotPositiveDefiniteError:
                status, reason = "failed", f"Hessian not positive definite at step {k}"
                break
            path.append(theta.value.copy())
    settled = None  # the first step from which every later point is within the tolerance
    for k in range(len(within) - 1, -1, -1):
        if not within[k]:
            break
        settled = k
    if status == "unconverged" and settled is not None:
        status = "converged"
    return Run(name, label, lr, np.array(path), np.array(losses), settled, status, reason)


def race(where: str | Surface | Callable, optimizers: Sequence[str] = ("gd", "momentum", "adam"),
         start: Sequence[float] | None = None, lr: float | Mapping[str, float] | None = None, steps: int = 500,
         tolerance: float = 1e-6, max_norm: float = 1e6,
         progress: Callable[[Run], None] | None = None) -> RaceResult:
    """Race ``optimizers`` (names from ``OPTIMIZERS``) on a surface from one start.

    ``lr`` is one learning rate for every first-order optimizer, or a dict name → lr; unset, each uses the
    surface's tuned rate. Newton takes full steps (η = 1) unless the dict names it. A run has reached the
    tolerance when f − f* ≤ tol (surfaces with a known minimum) or ‖∇f‖ ≤ tol (the others). ``progress`` is
    called with each finished run.
    """
    where = surface(where)
    if steps < 0:
        raise RaceError(f"steps must be ≥ 0, got {steps}.")
    names = [optimizer_name(n) for n in optimizers]
    if not names:
        raise RaceError(f"name at least one optimizer: {', '.join(OPTIMIZERS)}.")
    p0 = np.array(where.start if start is None else start, dtype=np.float64)
    if p0.shape != (2,) or not np.all(np.isfinite(p0)):
        raise RaceError(f"the start is a point (x, y) of two finite numbers, got {list(np.ravel(p0))}.")
    runs = []
    for name in names:
        runs.append(run_optimizer(where, name, p0, learning_rate_for(name, lr, where), steps, tolerance, max_norm))
        if progress is not None:
            progress(runs[-1])
    criterion = "f − f* ≤ tol" if where.minimum_value is not None else "‖∇f‖ ≤ tol"
    return RaceResult(where, p0, runs, tolerance, criterion)


LR_VERDICTS = ("too small", "right", "too large", "divergent")


def learning_rate_comparison(where: str | Surface | Callable = "bowl", start: Sequence[float] | None = None,
                             lrs: Sequence[float] | None = None, steps: int = 60,
                             tolerance: float = 1e-6) -> RaceResult:
    """Gradient descent from one start with four learning rates: too small, right, too large, divergent.

    On a quadratic with curvatures λ_min ≤ λ_max (eigenvalues of the Hessian) gradient descent multiplies
    the error along each eigenvector by 1 − ηλ per step: it converges for η < 2/λ_max, fastest at
    η = 2/(λ_min + λ_max), zig-zags across the steep direction as η nears 2/λ_max and diverges beyond it.
    Unset, ``lrs`` are 0.05·η*, η* = 2/(λ_min + λ_max), 1.9/λ_max and 2.5/λ_max, with the eigenvalues of the
    Hessian at the start (λ_min replaced by 0 when the surface curves down there).
    """
    where = surface(where)
    p0 = np.array(where.start if start is None else start, dtype=np.float64)
    eigenvalues = np.linalg.eigvalsh(hessian(where.loss)(p0))
    top, bottom = float(eigenvalues[-1]), max(float(eigenvalues[0]), 0.0)
    if lrs is None:
        if top <= 0:
            raise RaceError("the surface does not curve upwards at the start: give the learning rates with lrs=.")
        best = 2.0 / (top + bottom)
        lrs = [0.05 * best, best, 1.9 / top, 2.5 / top]
    runs = []
    for i, eta in enumerate(lrs):
        verdict = LR_VERDICTS[i] if len(lrs) == len(LR_VERDICTS) else ""
        label = f"η = {eta:.3g}" + (f" ({verdict})" if verdict else "")
        runs.append(run_optimizer(where, "gd", p0, float(eta), steps, tolerance, label=label))
    criterion = "f − f* ≤ tol" if where.minimum_value is not None else "‖∇f‖ ≤ tol"
    return RaceResult(where, p0, runs, tolerance, criterion, extra={"hessian_eigenvalues": eigenvalues})
