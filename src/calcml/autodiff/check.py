"""``check_grad``: compare the engine's gradient with central finite differences.

    ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h,   error O(h²) from truncation plus O(ε/h) from rounding,

so h ≈ ε^(1/3)·max(1, |x_i|) balances the two and leaves about 10 correct digits in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.errors import GradientMismatch
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms import grad

DEFAULT_STEP_SCALE = np.finfo(np.float64).eps ** (1 / 3)


@dataclass(frozen=True, repr=False)
class GradCheck:
    """The outcome of ``check_grad``: per-argument gradients, numeric estimates and relative errors."""

    max_rel_error: float
    worst_index: tuple[int, ...]
    worst_argument: int
    passed: bool
    autodiff: tuple[np.ndarray, ...]
    numeric: tuple[np.ndarray, ...]
    rel_error: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        return (f"GradCheck(max_rel_error={self.max_rel_error:.1e}, worst_index={self.worst_index}, "
                f"passed={self.passed})")

    def _repr_html_(self, rows: int = 20) -> str:
        """A table per element: autodiff, finite differences and their relative error (Jupyter)."""
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"<p>gradient check {verdict}: largest relative error {self.max_rel_error:.1e} at argument "
                 f"{self.worst_argument}, index {self.worst_index}</p>",
                 "<table><tr><th>argument</th><th>index</th><th>autodiff</th><th>finite differences</th>"
                 "<th>relative error</th></tr>"]
        shown = 0
        for k, (auto, numeric, error) in enumerate(zip(self.autodiff, self.numeric, self.rel_error)):
            for index in np.ndindex(auto.shape):
                if shown == rows:
                    break
                lines.append(f"<tr><td>{k}</td><td>{index}</td><td>{auto[index]:.10g}</td>"
                             f"<td>{numeric[index]:.10g}</td><td>{error[index]:.1e}</td></tr>")
                shown += 1
        lines.append("</table>")
        return "".join(lines)


def _scalar_objective(f: Callable, args: tuple, seed: int) -> Callable:
    """f itself if it returns a scalar; otherwise x ↦ ⟨u, f(x)⟩ for a fixed random u (this checks Jᵀu)."""
    probe = f(*[Tensor(a) for a in args])
    probe = np.asarray(probe.value if type(probe) is Tensor else probe)
    if probe.size == 1:
        return f if probe.ndim == 0 else (lambda *xs: np.sum(f(*xs)))
    weights = np.random.default_rng(seed).standard_normal(probe.shape)
    return lambda *xs: np.sum(weights * f(*xs))


def _evaluate(f: Callable, args: list[np.ndarray]) -> float:
    out = f(*[Tensor(a) for a in args])
    return np.asarray(out.value if type(out) is Tensor else out).item()


def check_grad(f: Callable, *args: Any, eps: float | None = None, rtol: float = 1e-6,
               atol: float | None = None, raise_on_mismatch: bool = True, seed: int = 0) -> GradCheck:
    """Compare calcml's gradient of ``f`` at ``args`` with central finite differences, element by element.

    (f(x + h·e_i) − f(x − h·e_i)) / 2h ≈ ∂f/∂x_i, with error O(h²).

    Every argument is checked (in float64). A non-scalar ``f`` is checked through ⟨u, f(x)⟩ for a fixed
    random u. The relative error of an element is |auto − numeric| / max(|auto|, |numeric|, atol), where
    atol defaults to 1e-8 × the largest gradient, so gradients that are tiny compared with the rest are
    judged absolutely.

    >>> cm.check_grad(lambda x: np.sum(np.sin(x)), np.array([0.1, 2.0]))
    GradCheck(max_rel_error=3.1e-11, worst_index=(1,), passed=True)

    Raises GradientMismatch naming the worst element when the two disagree by more than ``rtol``.
    """
    if not args:
        raise TypeError("check_grad(f, *args) needs at least one argument to differentiate at.")
    points = [np.array(a.value if type(a) is Tensor else a, dtype=np.float64) for a in args]
    objective = _scalar_objective(f, tuple(points), seed)
    autodiff = grad(objective, argnums=tuple(range(len(points))))(*points)
    numeric = []
    for k, x in enumerate(points):
        estimate = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            h = eps if eps is not None else DEFAULT_STEP_SCALE * max(1.0, abs(x[index]))
            shifted = [p.copy() for p in points]
            shifted[k][index] = x[index] + h
            upper = _evaluate(objective, shifted)
            shifted[k][index] = x[index] - h
            lower = _evaluate(objective, shifted)
            estimate[index] = (upper - lower) / (2 * h)
        numeric.append(estimate)
    scale = max([np.max(np.abs(n), initial=0.0) for n in numeric] + [1.0])
    floor = atol if atol is not None else 1e-8 * scale
    errors = [np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
              for a, n in zip(autodiff, numeric)]
    worst_argument = int(np.argmax([np.max(e, initial=0.0) for e in errors]))
    worst = errors[worst_argument]
    worst_index = tuple(int(i) for i in np.unravel_index(np.argmax(worst), worst.shape)) if worst.size else ()
    max_error = float(np.max(worst, initial=0.0))
    report = GradCheck(max_error, worst_index, worst_argument, max_error <= rtol, tuple(autodiff),
                       tuple(numeric), tuple(errors))
    if raise_on_mismatch and not report.passed:
        a = autodiff[worst_argument][worst_index]
        n = numeric[worst_argument][worst_index]
        raise GradientMismatch(
            f"autodiff and finite differences disagree: relative error {max_error:.2e} > rtol={rtol:g}\n"
            f"  at argument {worst_argument}, index {worst_index}: autodiff {a:.10g}, numeric {n:.10g}\n"
            "  if f has a kink there (abs, max, ReLU at 0) finite differences are meaningless; otherwise "
            "a VJP rule is wrong."
        )
    return report
