"""``check_grad``: compare the engine's derivatives, in both modes, with central finite differences.

    ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h,   error O(h²) from truncation plus O(ε|f|/h) from rounding,

so the step is relative, h = ε^(1/3)·max(|x_i|, 1), which leaves about 10 correct digits in float64.
Where f is much larger than its change along x_i (badly scaled inputs such as sum(x²) at [1e8, 2]) the
rounding part ε|f|/h is itself large: that much disagreement is expected and is not called a mismatch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.errors import GradientMismatchError, NoForwardRuleError
from calcml.autodiff.state import recording
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms import grad, jacobian

DEFAULT_STEP_SCALE = np.finfo(np.float64).eps ** (1 / 3)
ROUNDING = 8 * np.finfo(np.float64).eps  # a few ulps of f per evaluation
WEAK = 1e-4  # an element that rounding lets finite differences confirm only worse than this is reported


@dataclass(frozen=True, repr=False)
class GradCheck:
    """The outcome of ``check_grad``: per-argument gradients, numeric estimates and relative errors.

    ``autodiff`` is reverse mode; ``forward`` the same gradient by forward mode (one pass with every
    basis direction); ``rel_error`` the worse of the two against ``numeric``, beyond rounding noise.
    With ``order=2``, ``second_order`` is the check of the gradient itself (Hessian rows, both modes).
    """

    max_rel_error: float
    worst_index: tuple[int, ...]
    worst_argument: int
    passed: bool
    autodiff: tuple[np.ndarray, ...]
    numeric: tuple[np.ndarray, ...]
    rel_error: tuple[np.ndarray, ...]
    forward: tuple[np.ndarray, ...] = ()
    worst_mode: str = "reverse"
    second_order: GradCheck | None = None
    not_checked: str = ""  # a mode that could not be checked, and why (a primitive without a JVP rule)
    unresolved: int = 0  # elements finite differences can confirm only to worse than 1e-4 (f's rounding noise)

    def __repr__(self) -> str:
        unresolved = f", unresolved={self.unresolved}" if self.unresolved else ""
        return (f"GradCheck(max_rel_error={self.max_rel_error:.1e}, worst_index={self.worst_index}, "
                f"passed={self.passed}{unresolved})")

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


def _central_differences(objective: Callable, points: list[np.ndarray], eps: float | None
                         ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per element: the central difference, and the rounding noise it carries (≈ ε·|f| / h)."""
    numeric, noise = [], []
    for k, x in enumerate(points):
        estimate, rounding = np.zeros_like(x), np.zeros_like(x)
        for index in np.ndindex(x.shape):
            h = eps if eps is not None else DEFAULT_STEP_SCALE * max(1.0, abs(x[index]))
            shifted = [p.copy() for p in points]
            shifted[k][index] = x[index] + h
            upper = _evaluate(objective, shifted)
            shifted[k][index] = x[index] - h
            lower = _evaluate(objective, shifted)
            estimate[index] = (upper - lower) / (2 * h)
            rounding[index] = ROUNDING * (abs(upper) + abs(lower)) / (2 * h)
        numeric.append(estimate)
        noise.append(rounding)
    return numeric, noise


def _relative_errors(auto: list[np.ndarray], numeric: list[np.ndarray], noise: list[np.ndarray],
                     floor: float) -> list[np.ndarray]:
    """|auto − numeric| beyond the rounding noise, relative to max(|auto|, |numeric|, floor)."""
    return [np.maximum(np.abs(a - n) - r, 0.0) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
            for a, n, r in zip(auto, numeric, noise)]


def _autodiff_gradients(objective: Callable, points: list[np.ndarray], modes: tuple[str, ...]
                        ) -> tuple[dict[str, list[np.ndarray]], str]:
    """The gradient by reverse mode and by forward mode (every basis direction in one pass)."""
    nums = tuple(range(len(points)))
    results = {}
    not_checked = ""
    if "rev" in modes:
        results["reverse"] = [np.asarray(g, dtype=np.float64) for g in grad(objective, argnums=nums)(*points)]
    if "fwd" in modes:
        try:
            columns = jacobian(objective, argnums=nums, mode="fwd")(*points)
            results["forward"] = [np.asarray(g, dtype=np.float64).reshape(p.shape) for g, p in zip(columns, points)]
        except NoForwardRuleError as error:
            if "rev" not in modes:
                raise
            not_checked = f"forward mode: {str(error).splitlines()[0]}"
    return results, not_checked


def check_grad(f: Callable, *args: Any, eps: float | None = None, rtol: float = 1e-6,
               atol: float | None = None, raise_on_mismatch: bool = True, seed: int = 0,
               order: int = 1, modes: tuple[str, ...] = ("rev", "fwd")) -> GradCheck:
    """Compare calcml's derivatives of ``f`` at ``args`` with central finite differences, element by element,
    in reverse mode (``cm.grad``) and in forward mode (``cm.jacobian(mode="fwd")``).

    (f(x + h·e_i) − f(x − h·e_i)) / 2h ≈ ∂f/∂x_i, with error O(h²) and a relative step h.

    Every argument is checked (in float64). A non-scalar ``f`` is checked through ⟨u, f(x)⟩ for a fixed
    random u. The relative error of an element is the disagreement beyond rounding noise divided by
    max(|auto|, |numeric|, atol), where atol defaults to 1e-8 × the largest gradient, so gradients that
    are tiny compared with the rest are judged absolutely. ``order=2`` also checks the second
    derivatives: the gradient's own derivatives (reverse-over-reverse and forward-over-reverse)
    against differences of the gradient.

    >>> cm.check_grad(lambda x: np.sum(np.sin(x)), np.array([0.1, 2.0]))
    GradCheck(max_rel_error=0.0e+00, worst_index=(0,), passed=True)

    Raises GradientMismatchError naming the worst element and the mode when the two disagree by more than ``rtol``.
    """
    if not args:
        raise TypeError("check_grad(f, *args) needs at least one argument to differentiate at.")
    if order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, not {order!r}.")
    unknown = set(modes) - {"rev", "fwd"}
    if unknown or not modes:
        raise ValueError(f"check_grad: modes must be a non-empty subset of ('rev', 'fwd'), not {modes!r}.")
    points = [np.array(a.value if type(a) is Tensor else a, dtype=np.float64) for a in args]
    nums = tuple(range(len(points)))
    objective = _scalar_objective(f, tuple(points), seed)
    numeric, noise = _central_differences(objective, points, eps)
    scale = max([np.max(np.abs(n), initial=0.0) for n in numeric] + [1.0])
    floor = atol if atol is not None else 1e-8 * scale
    with recording(False):  # plain numbers even when f also uses Tensors that require grad (model weights)
        results, not_checked = _autodiff_gradients(objective, points, modes)
    errors_by_mode = {mode: _relative_errors(auto, numeric, noise, floor) for mode, auto in results.items()}
    worst_mode = max(errors_by_mode, key=lambda m: max(float(np.max(e, initial=0.0)) for e in errors_by_mode[m]))
    errors = [np.maximum.reduce([errors_by_mode[m][k] for m in errors_by_mode]) for k in nums]
    worst_argument = int(np.argmax([np.max(e, initial=0.0) for e in errors]))
    worst = errors_by_mode[worst_mode][worst_argument]
    worst_index = tuple(int(i) for i in np.unravel_index(np.argmax(worst), worst.shape)) if worst.size else ()
    max_error = float(np.max(worst, initial=0.0))
    second = None
    if order == 2:
        second = _check_second_order(objective, points, eps, rtol, atol, seed, modes)
    reported = results.get("reverse", results.get("forward"))
    unresolved = _unresolved(reported, numeric, noise, 1e-3 * scale, max(rtol, WEAK))
    report = GradCheck(max_error, worst_index, worst_argument, max_error <= rtol and (second is None or second.passed),
                       tuple(reported), tuple(numeric), tuple(errors), tuple(results.get("forward", ())),
                       worst_mode, second, not_checked, unresolved)
    if unresolved:
        warnings.warn(
            f"check_grad: at {unresolved} element(s) the rounding noise of f (|f| is large next to its change "
            f"there) lets finite differences confirm the gradient only to worse than {max(rtol, WEAK):g}; "
            "check a function of the relevant part alone (subtract large constants, rescale the input).",
            GradCheckWarning, stacklevel=2)
    if raise_on_mismatch and max_error > rtol:
        a = results[worst_mode][worst_argument][worst_index]
        n = numeric[worst_argument][worst_index]
        raise GradientMismatchError(
            f"{worst_mode}-mode autodiff and finite differences disagree: relative error {max_error:.2e} > "
            f"rtol={rtol:g}\n"
            f"  at argument {worst_argument}, index {worst_index}: autodiff {a:.10g}, numeric {n:.10g}\n"
            "  if f has a kink there (abs, max, ReLU at 0) finite differences are meaningless; otherwise "
            f"a {'VJP' if worst_mode == 'reverse' else 'JVP'} rule is wrong."
        )
    if raise_on_mismatch and second is not None and not second.passed:
        raise GradientMismatchError(f"second derivatives disagree with differences of the gradient: {second!r}")
    return report


class GradCheckWarning(UserWarning):
    """check_grad could not resolve some elements to rtol: rounding noise of f is larger there."""


def _unresolved(auto: list[np.ndarray], numeric: list[np.ndarray], noise: list[np.ndarray], floor: float,
                rtol: float) -> int:
    """How many elements have a rounding allowance larger than ``rtol`` relative to the element's gradient
    or to ``floor`` (1e-3 of the largest: a near-zero entry is not worth a warning)."""
    return int(sum(np.count_nonzero(r > rtol * np.maximum(np.maximum(np.abs(a), np.abs(n)), floor))
                   for a, n, r in zip(auto, numeric, noise)))


def _check_second_order(objective: Callable, points: list[np.ndarray], eps: float | None, rtol: float,
                        atol: float | None, seed: int, modes: tuple[str, ...]) -> GradCheck:
    """Check x ↦ ⟨u, ∇f(x)⟩ for a random u: its gradient is H u, by rev-over-rev and fwd-over-rev."""
    nums = tuple(range(len(points)))
    rng = np.random.default_rng(seed + 1)
    directions = [rng.standard_normal(p.shape) for p in points]

    def directional_gradient(*xs):
        gradients = grad(objective, argnums=nums)(*xs)
        return sum(np.sum(g * u) for g, u in zip(gradients, directions))

    return check_grad(directional_gradient, *points, eps=eps, rtol=max(rtol, 1e-5), atol=atol,
                      raise_on_mismatch=False, seed=seed, order=1, modes=modes)
