"""``odeint``: a differentiable ODE solve, y(ts) for y' = f(t, y, params), with gradients for y0 and params.

Two ways to the same gradient:

* backpropagation through the solver (default): every stage of every step is traced, so the gradient
  is exact for the discrete solution. Memory grows with the number of steps. The step sizes are chosen
  from values and treated as constants (the step-size controller itself is not differentiated), as in
  torchdiffeq.
* the adjoint method (``adjoint=True``): a primitive whose forward pass solves without tracing and keeps
  only y at the requested times; its VJP solves the augmented system backwards from each t_i to t_{i−1}

      y' = f,   a' = −aᵀ ∂f/∂y,   g_θ' = −aᵀ ∂f/∂θ,     a(t_N) = ∂L/∂y(t_N),  a(t_i) += ∂L/∂y(t_i),

  restarting y from the stored value at each t_i. Memory does not grow with the number of steps; the
  gradient is that of the continuous problem, accurate to the solver's tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.errors import UnsupportedTransformError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.state import enable_grad, no_grad
from calcml.autodiff.tensor import Tensor, as_float_array
from calcml.autodiff.transforms import vjp
from calcml.ode import arguments
from calcml.ode.adaptive import ExplicitScheme, run_adaptive
from calcml.ode.errors import SolverInputError
from calcml.ode.events import EventTracker, value_of
from calcml.ode.fixed import check_grid_size, run_fixed, step_grid
from calcml.ode.solve import check_method, check_options
from calcml.ode.tableaus import EXPLICIT
from calcml.ode.trajectory import Recorder


def trajectory(field: Callable, y0: Any, ts: np.ndarray, method: str, rtol: float, atol: float,
               step: float | None, max_steps: int) -> list:
    """y at every time in ``ts`` (ndarrays, or Tensors when field/y0 are traced)."""
    recorder = Recorder(ts[0], y0, ts, EventTracker(None, ts[0], y0), False)
    if method == "dopri5":
        run_adaptive(ExplicitScheme(), field, ts[0], y0, ts[-1], rtol, atol, max_steps, recorder)
    else:
        check_grid_size(method, ts[0], ts[-1], step, ts, max_steps)
        run_fixed(EXPLICIT[method], field, y0, step_grid(ts[0], ts[-1], step, ts), recorder)
    return recorder.run.ys


def odeint(f: Callable, y0: Any, ts: Any, params: Any = (), method: str = "dopri5", adjoint: bool = False,
           rtol: float = 1e-7, atol: float = 1e-9, step: float | None = None, max_steps: int = 100_000) -> Any:
    """y(ts) for y' = f(t, y, params), y(ts[0]) = y0: shape (len(ts), *y0.shape), differentiable.

    ``params`` is an array/Tensor or a tuple of them, passed to f as given. Gradients reach ``y0`` and
    ``params``; with ``adjoint=True`` every parameter must come through ``params`` (values f captures
    from its closure are constants for the adjoint). ``method``: "dopri5" (rtol, atol), "rk4" or "euler"
    (fixed ``step``, or one step per interval of ts). Bad input (NaN/±inf in y0 or ts, tolerances < 0,
    step ≤ 0) is refused before any work with SolverInputError; ``max_steps`` bounds every method.

    >>> w = cm.Tensor(np.array(0.5), requires_grad=True)
    >>> y = cm.ode.odeint(lambda t, y, w: -w * y, np.array([1.0]), [0.0, 2.0], w, adjoint=True)
    >>> np.sum(y[-1]).backward(); w.grad        # d/dw e^{−2w} = −2e^{−1}
    array(-0.73575891)
    """
    check_method(method, ("dopri5", "rk4", "euler"), "odeint")
    ts = np.asarray(value_of(ts), dtype=float).ravel()
    arguments.finite_array(ts, "ts", "odeint")
    if len(ts) < 2 or not (np.all(np.diff(ts) > 0) or np.all(np.diff(ts) < 0)):
        raise SolverInputError(f"odeint: ts must hold at least two strictly increasing (or decreasing) times, "
                               f"got {ts!r}.")
    check_options(method, rtol, atol, max_steps, step, None, "odeint")
    arguments.finite_array(y0, "y0", "odeint")
    if type(y0) is not Tensor:
        y0 = as_float_array(y0)
    packed = isinstance(params, (tuple, list))
    plist = tuple(params) if packed else (params,)
    if adjoint:
        return odeint_adjoint(y0, *plist, field=f, ts=ts, packed=packed, method=method, rtol=rtol, atol=atol,
                              step=step, max_steps=max_steps)
    return np.stack(trajectory(lambda t, y: f(t, y, params), y0, ts, method, rtol, atol, step, max_steps))


@primitive(formula=Formula("∂L/∂y0 and ∂L/∂θ from the adjoint ODE, solved backwards in time"))
def odeint_adjoint(y0, *params, field, ts, packed, method, rtol, atol, step, max_steps):
    """y(ts) without tracing the steps; ∂L/∂y0 and ∂L/∂θ by the adjoint ODE solved backwards in time."""
    given = tuple(params) if packed else params[0]
    with no_grad():
        ys = trajectory(lambda t, y: value_of(field(t, y, given)), y0, ts, method, rtol, atol, step, max_steps)
    return np.stack(ys)


_LAST: dict[str, Any] = {}  # the engine asks for one argument at a time: solve backwards once per cotangent


def _adjoint_vjp(argnum, g, ans, y0, *params, field, ts, packed, method, rtol, atol, step, max_steps):
    if type(g) is Tensor:
        raise UnsupportedTransformError(
            "odeint(adjoint=True) gives first derivatives only: its backward solve is not traced.\n"
            "  for second derivatives (Hessians, grad of grad) use odeint(..., adjoint=False), which "
            "backpropagates through the solver's operations.")
    cached = _LAST.get("key")
    if cached is None or cached[0] is not g or cached[1] is not ans:
        _LAST["key"] = (g, ans)
        _LAST["grads"] = _adjoint_solve(g, ans, y0, params, field, ts, packed, method, rtol, atol, step, max_steps)
    return _LAST["grads"][argnum]


def _adjoint_solve(g, ans, y0, params, field, ts, packed, method, rtol, atol, step, max_steps) -> list:
    shape, n = y0.shape, y0.size
    sizes = [np.size(p) for p in params]

    def call(t, y, *ps):
        return field(t, y, tuple(ps) if packed else ps[0])

    def augmented(t, z):
        y, a = z[:n].reshape(shape), z[n:2 * n].reshape(shape)
        with enable_grad():
            fy, pullback = vjp(lambda y, *ps: call(t, y, *ps), y, *params)
            grads = pullback(a)
        return np.concatenate([np.ravel(fy)] + [-np.ravel(gr) for gr in grads])

    a = np.asarray(g[-1], dtype=float)
    g_params = np.zeros(sum(sizes))
    for i in range(len(ts) - 1, 0, -1):
        z0 = np.concatenate([np.ravel(ans[i]), np.ravel(a), g_params])
        z = trajectory(augmented, z0, np.array([ts[i], ts[i - 1]]), method, rtol, atol, step, max_steps)[-1]
        a = z[n:2 * n].reshape(shape) + g[i - 1]
        g_params = z[2 * n:]
    grads = [a.astype(np.result_type(y0, np.float32), copy=False)]
    offsets = np.cumsum([0] + sizes)
    for p, start, stop in zip(params, offsets[:-1], offsets[1:]):
        grads.append(g_params[start:stop].reshape(np.shape(p)))
    return grads


odeint_adjoint.defvjp_argnum(_adjoint_vjp)


def saved_for_backward(output: Any) -> tuple[int, int]:
    """(number of graph nodes, bytes of the arrays they keep alive) behind ``output``: what a backward
    pass needs stored. Plain arrays hold nothing."""
    from calcml.autodiff.reverse import reverse_topological_order

    if type(output) is not Tensor or output.node is None:
        return 0, 0
    arrays: dict[int, np.ndarray] = {}
    nodes = 0
    for tensor in reverse_topological_order(output):
        arrays[id(tensor.value)] = tensor.value
        if tensor.node is not None:
            nodes += 1
            for value in tensor.node.values:
                if isinstance(value, np.ndarray):
                    arrays[id(value)] = value
    return nodes, sum(a.nbytes for a in arrays.values())



