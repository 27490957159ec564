"""Function transforms, as in JAX: each takes a function and returns a new one.

    grad(f)(x)                 ∇f(x)                          (reverse mode)
    value_and_grad(f)(x)       (f(x), ∇f(x))
    vjp(f, x)                  (f(x), u ↦ uᵀ J)
    jvp(f, (x,), (v,))         (f(x), J v)                    (forward mode)
    jacobian(f, mode=...)(x)   J, by rows (rev) or by columns pushed all at once (fwd)
    hessian(f)(x)              ∇²f(x) = the forward-mode Jacobian of ∇f
    hvp(f, x, v)               ∇²f(x) v, forward-over-reverse

Transforms compose: called inside another transform they return Tensors that stay on the outer
trace, so ``grad(grad(f))`` is the second derivative. At the top level they return plain arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from calcml.autodiff.errors import NonScalarOutputError, ShapeError, UnsupportedTransformError
from calcml.autodiff.primitive import apply
from calcml.autodiff.reverse import backward_pass, seed_for
from calcml.autodiff.rules.elementwise import positive
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, as_float_array


# ---- inputs and outputs -------------------------------------------------------------------------
def _nested() -> bool:
    """True inside another transform: results must then stay traced for the outer one."""
    return STATE.reverse_depth > 0 or STATE.forward_depth > 0


def _as_input(value: Any) -> Tensor:
    """A fresh Tensor to differentiate with respect to; it stays linked to an outer trace if there is one."""
    if type(value) is Tensor:
        if value.requires_grad and STATE.recording:
            fresh = apply(positive, (value,), {})  # an identity node: the outer graph continues through it
        else:
            fresh = Tensor(value.value)
            fresh.tangent = value.tangent
        fresh.requires_grad = True
        return fresh
    return Tensor(as_float_array(value), requires_grad=True)


def _argnums_tuple(argnums: int | Sequence[int], args: tuple, transform: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"{transform}: argnums={argnums!r} but the function was called with "
                             f"{len(args)} positional argument(s).")
    return tuple(i % len(args) for i in nums)


def _call_traced(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> tuple[Any, list[Tensor]]:
    """Call ``f`` with the chosen arguments replaced by fresh traced inputs."""
    inputs = [_as_input(args[i]) for i in nums]
    call_args = list(args)
    for i, tensor in zip(nums, inputs):
        call_args[i] = tensor
    STATE.reverse_depth += 1
    previous_recording, STATE.recording = STATE.recording, True  # a transform always records its own f,
    try:                                                           # even inside no_grad or a VJP rule
        out = f(*call_args, **kwargs)
    finally:
        STATE.reverse_depth -= 1
        STATE.recording = previous_recording
    return out, inputs


def _as_output_tensor(out: Any, transform: str) -> Tensor:
    if type(out) is Tensor:
        return out
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{transform} expects the function to return one array, but it returned a "
                        f"{type(out).__name__}. Return a single array, or use has_aux=True to return "
                        "(value, auxiliary data).")
    return Tensor(np.asarray(out))  # does not depend on the inputs: its gradient is zero


def _finish(value: Any, nested: bool) -> Any:
    """Plain arrays at the top level, Tensors inside another transform."""
    if nested:
        return value
    if type(value) is Tensor:
        value = value.value
    value = np.asarray(value)
    if not value.flags.writeable:
        value = value.copy()  # broadcast views from the rules become ordinary arrays
    return value[()] if value.ndim == 0 else value


def _gradients(out: Tensor, seed: Any, inputs: list[Tensor], nested: bool) -> list[Any]:
    """∂out/∂input (weighted by ``seed``) for each input; zeros where ``out`` does not depend on it."""
    if not out.requires_grad:
        return [np.zeros_like(x.value) for x in inputs]
    grads, _ = backward_pass(out, seed, inputs, create_graph=STATE.reverse_depth > 0)
    result = []
    for x in inputs:
        g = grads.get(id(x))
        if g is None:
            g = np.zeros_like(x.value)
        elif np.shape(g) != x.shape:
            g = np.broadcast_to(g, x.shape)
        if type(g) is not Tensor and g.dtype != x.dtype:
            g = g.astype(x.dtype)
        result.append(_finish(g, nested))
    return result


# ---- reverse mode ------------------------------------------------------------------------------
def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ (x ↦ (f(x), ∇f(x)))`` in one forward and one backward pass.

    >>> cm.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
    """
    return functools.wraps(f)(_value_and_grad(f, argnums, has_aux))


def _value_and_grad(f: Callable, argnums: int | Sequence[int], has_aux: bool) -> Callable:
    """``value_and_grad`` without copying f's name and docstring (cheap enough to build per call)."""

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        nested = _nested()
        nums = _argnums_tuple(argnums, args, "grad")
        out, inputs = _call_traced(f, args, kwargs, nums)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("has_aux=True expects the function to return a pair (value, aux).")
            out, aux = out
        out = _as_output_tensor(out, "grad")
        if out.value.size != 1:
            raise NonScalarOutputError(
                f"grad needs a function with a scalar output, but this one returned shape {out.shape}.\n"
                "  reduce it (np.sum, np.mean), or use cm.jacobian for every output, or cm.vjp with a "
                "cotangent."
            )
        grads = _gradients(out, np.ones_like(out.value), inputs, nested)
        value = _finish(out, nested)
        if has_aux:
            value = (value, aux)
        return value, (grads[0] if isinstance(argnums, int) else tuple(grads))

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ ∇f``, by reverse mode (backpropagation). ``f`` must return a scalar.

    ``argnums`` picks the argument(s) to differentiate; with a tuple the result is a tuple.
    With ``has_aux=True``, ``f`` returns ``(value, aux)`` and ``grad`` returns ``(gradient, aux)``.

    >>> f = lambda x: np.sum(np.tanh(x) ** 2)
    >>> cm.grad(f)(np.array([0.0, 1.0]))            # 2 tanh(x)(1 − tanh²x)
    array([0.        , 0.63970001])
    """
    return functools.wraps(f)(_grad(f, argnums, has_aux))


def _grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    value_and_grad_f = _value_and_grad(f, argnums, has_aux)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_grad_f(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(x), u ↦ uᵀ J_f(x))``: the output and a function pulling cotangents back to the inputs.

    The pullback returns a tuple with one gradient per primal. It may be called many times.

    >>> out, pullback = cm.vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> pullback(np.array([1.0, 1.0]))
    (array([2., 6.]),)
    """
    nested = _nested()
    out, inputs = _call_traced(f, primals, {}, tuple(range(len(primals))))
    aux = None
    if has_aux:
        out, aux = out
    out = _as_output_tensor(out, "vjp")

    def pullback(cotangent: Any) -> tuple:
        seed = seed_for(out, cotangent, "the vjp pullback")
        return tuple(_gradients(out, seed, inputs, nested))

    value = _finish(out, nested)
    return (value, pullback, aux) if has_aux else (value, pullback)


# ---- forward mode ------------------------------------------------------------------------------
def _push_forward(f: Callable, primals: Sequence[Any], tangents: Sequence[np.ndarray]) -> tuple[Any, Any]:
    """Run ``f`` once with a batch of B tangents per primal (each of shape (B, *primal.shape))."""
    if STATE.forward_depth > 0:
        raise UnsupportedTransformError(
            "forward mode inside forward mode (jvp of jvp) is not supported: both would share one "
            "tangent and mix their perturbations.\n  for second derivatives use cm.hessian or cm.hvp "
            "(forward-over-reverse), or grad of grad."
        )
    if STATE.reverse_depth > 0:
        raise UnsupportedTransformError(
            "forward mode (jvp, jacobian(mode='fwd'), hessian, hvp) inside a reverse-mode transform is "
            "not supported: its tangents are not traced for the outer gradient.\n"
            "  use jacobian(mode='rev') or grad of grad inside, or put the forward transform outside."
        )
    inputs = []
    for primal, tangent in zip(primals, tangents):
        x = Tensor(as_float_array(primal.value if type(primal) is Tensor else primal))
        tangent = np.asarray(tangent, dtype=x.dtype)
        x.tangent = tangent
        inputs.append(x)
    batch = tangents[0].shape[0]
    STATE.forward_depth += 1
    try:
        out = f(*inputs)
    finally:
        STATE.forward_depth -= 1
    if type(out) is not Tensor:
        out = Tensor(np.asarray(out))
    out_tangent = out.tangent
    if out_tangent is None:
        out_tangent = np.zeros((batch,) + out.shape, dtype=out.dtype)
    return out.value, out_tangent


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(x), J_f(x) v)`` by true forward mode: one pass that carries the tangent v alongside x.

    >>> cm.jvp(np.sin, (np.array([0.0, np.pi]),), (np.array([1.0, 1.0]),))
    (array([0.0000000e+00, 1.2246468e-16]), array([ 1., -1.]))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents) takes tuples: cm.jvp(f, (x,), (v,)).")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primal(s) but {len(tangents)} tangent(s); give one each.")
    batched = []
    for i, (primal, tangent) in enumerate(zip(primals, tangents)):
        if np.shape(primal) != np.shape(tangent):
            raise ShapeError(f"jvp: tangent {i} has shape {np.shape(tangent)} but primal {i} has shape "
                             f"{np.shape(primal)}; they must match.")
        batched.append(np.asarray(tangent)[None])
    value, tangent_out = _push_forward(f, primals, batched)
    return _finish(value, False), _finish(tangent_out[0], False)


# ---- Jacobians and Hessians --------------------------------------------------------------------
def _jacobian_forward(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> list[np.ndarray]:
    """All columns of J at once: one forward pass with the identity as a batch of tangents."""
    primals = [as_float_array(args[i].value if type(args[i]) is Tensor else args[i]) for i in nums]
    sizes = [p.size for p in primals]
    total = sum(sizes)
    identity = np.eye(total, dtype=np.result_type(*primals))
    tangents, start = [], 0
    for p, n in zip(primals, sizes):
        tangents.append(identity[:, start:start + n].reshape((total,) + p.shape))
        start += n

    def with_primals(*xs):
        call_args = list(args)
        for i, x in zip(nums, xs):
            call_args[i] = x
        return f(*call_args, **kwargs)

    value, tangent_out = _push_forward(with_primals, primals, tangents)
    columns = np.moveaxis(tangent_out, 0, -1)  # out.shape + (total,)
    jacobians, start = [], 0
    for p, n in zip(primals, sizes):
        jacobians.append(columns[..., start:start + n].reshape(np.shape(value) + p.shape))
        start += n
    return jacobians


def _jacobian_reverse(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> list[Any]:
    """J row by row: one forward pass, then one backward pass per output element."""
    nested = _nested()
    out, inputs = _call_traced(f, args, kwargs, nums)
    out = _as_output_tensor(out, "jacobian")
    rows = [[] for _ in inputs]
    seeds = np.eye(max(out.size, 1), dtype=out.dtype)
    for k in range(out.size):
        for row, g in zip(rows, _gradients(out, seeds[k].reshape(out.shape), inputs, nested)):
            row.append(g)
    result = []
    for row, x in zip(rows, inputs):
        stacked = np.stack(row) if row else np.zeros((0,) + x.shape, dtype=x.dtype)
        result.append(np.reshape(stacked, out.shape + x.shape))
    return result


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "rev") -> Callable:
    """``f ↦ J_f``: the matrix of partial derivatives J[i, j] = ∂f_i/∂x_j, shaped out.shape + x.shape.

    ``mode="rev"`` builds it row by row (one backward pass per output: best for few outputs);
    ``mode="fwd"`` pushes every column in a single vectorized forward pass (best for few inputs).

    >>> cm.jacobian(lambda x: x ** 2, mode="fwd")(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', not {mode!r}.")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, args, "jacobian")
        build = _jacobian_forward if mode == "fwd" else _jacobian_reverse
        result = [_finish(j, _nested()) for j in build(f, args, kwargs, nums)]
        return result[0] if isinstance(argnums, int) else tuple(result)

    return jacobian_f


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """``f ↦ ∇²f``: H[i, j] = ∂²f/∂x_i∂x_j, as the forward-mode Jacobian of the gradient
    (forward-over-reverse: one backward pass carrying n tangents, not n passes).

    >>> cm.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    if not isinstance(argnums, int):
        raise TypeError("hessian takes one argnum (an int); for mixed partials use "
                        "cm.jacobian(cm.grad(f, argnums=i), argnums=j, mode='fwd').")
    return jacobian(grad(f, argnums), argnums, mode="fwd")


def hvp(f: Callable, x: Any, v: Any) -> Any:
    """∇²f(x) v without forming the Hessian: the forward-mode derivative of ∇f in direction v.

    Costs a small multiple of one gradient, whatever the size of x.

    >>> cm.hvp(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    return jvp(_grad(f), (x,), (v,))[1]
