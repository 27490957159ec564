"""Reverse-mode transforms: one forward pass, then one backward pass per cotangent.

    grad(f)(x)                 ∇f(x)
    value_and_grad(f)(x)       (f(x), ∇f(x))
    vjp(f, x)                  (f(x), u ↦ uᵀ J)

``Tensor.backward()`` is the same pass as PyTorch spells it; this module connects it to the Tensor
(tensor.py cannot import the backward pass, which is built on it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.errors import NonScalarOutputError
from calcml.autodiff.reverse import (
    backward_into_leaves,
    backward_pass,
    own_copy,
    reaches_other_leaves,
    reverse_topological_order,
    seed_for,
)
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import TENSOR_HOOKS, Tensor
from calcml.autodiff.transforms.arguments import (
    TracedArgument,
    argnums_tuple,
    as_output_tensor,
    call_traced,
    finish,
    nested,
    output_leaves,
    plain_aux,
    release,
)

TENSOR_HOOKS.backward = backward_into_leaves


def gradients(outs: list[Tensor], seeds: list[Any], traced: list[TracedArgument],
              keep_nested: bool) -> tuple[list[Any], bool]:
    """∂⟨seeds, outs⟩/∂argument for each traced argument, in the argument's structure; zeros where the
    outputs do not depend on a leaf, None for a constant leaf. At the top level, a gradient whose graph
    reaches leaves outside the inputs stays traced (a gradient penalty's ``loss.backward()`` needs it)."""
    inputs = [x for argument in traced for x in argument.inputs if x is not None]
    own = {id(x) for x in inputs}
    live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad or id(o) in own]  # f may return an input
    grads: dict[int, Any] = {}
    keep_traced = keep_nested
    if live:
        roots = [o for o, _ in live]
        order = reverse_topological_order(roots, own)
        made = sum(len(argument.made) for argument in traced)
        users_leaves = made < len(inputs)  # some inputs are the user's own leaves (model.parameters())
        other_leaves = reaches_other_leaves(order, own)
        traced_seed = any(type(s) is Tensor for s in seeds)  # a pullback's cotangent being differentiated
        keep_traced = keep_nested or traced_seed or (STATE.recording and (users_leaves or other_leaves))
        grads, _ = backward_pass(roots, [s for _, s in live], inputs, create_graph=STATE.reverse_depth > 0 or
                                 keep_traced, order=order, prune=other_leaves)
    handed_out = {id(seed) for seed in seeds}  # a gradient may be a seed itself (f returns its input)
    result = []
    for argument in traced:
        leaves = []
        for x in argument.inputs:
            if x is None:
                leaves.append(None)
                continue
            g = grads.get(id(x))
            value = x.value
            if g is None:
                g = np.zeros_like(value)
            elif g.shape != value.shape:
                g = np.broadcast_to(g, value.shape)
            if type(g) is not Tensor and g.dtype is not value.dtype and g.dtype != value.dtype:
                g = g.astype(value.dtype)
            g = own_copy(g, handed_out)
            handed_out.add(id(g))
            leaves.append(finish(g, keep_traced))
        result.append(leaves[0] if argument.treedef is tree.LEAF else tree.unflatten(argument.treedef, leaves))
    return result, keep_traced


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ (x ↦ (f(x), ∇f(x)))`` in one forward and one backward pass.

    >>> cm.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
    """
    return functools.wraps(f)(unwrapped_value_and_grad(f, argnums, has_aux))


def unwrapped_value_and_grad(f: Callable, argnums: int | Sequence[int], has_aux: bool,
                             transform: str = "grad") -> Callable:
    """``value_and_grad`` without copying f's name and docstring (cheap enough to build per call); ``transform``
    names the transform the user called in errors (hessian and hvp are built on this gradient)."""

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        keep_nested = nested()
        nums = argnums_tuple(argnums, args, transform)
        out, inputs = call_traced(f, args, kwargs, nums)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("has_aux=True expects the function to return a pair (value, aux).")
            out, aux = out
        out = as_output_tensor(out, transform)
        if out.value.size != 1:
            raise NonScalarOutputError(
                f"{transform} needs a function with a scalar output, but this one returned shape {out.shape}.\n"
                "  reduce it (np.sum, np.mean), or use cm.jacobian for every output, or cm.vjp with a "
                "cotangent."
            )
        grads, keep_traced = gradients([out], [seed_for(out, None, transform)], inputs, keep_nested)
        release(inputs)
        value = finish(out, keep_traced)
        if has_aux:
            value = (value, plain_aux(aux))  # auxiliary data is not differentiated: plain at the top level
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
    return functools.wraps(f)(unwrapped_grad(f, argnums, has_aux))


def unwrapped_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   transform: str = "grad") -> Callable:
    """``grad`` without copying f's name and docstring (hvp builds one per call)."""
    value_and_grad_f = unwrapped_value_and_grad(f, argnums, has_aux, transform)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_grad_f(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(x), u ↦ uᵀ J_f(x))``: the output and a function pulling cotangents back to the inputs.

    The output and the cotangent may be pytrees (a tuple of arrays ...) of the same structure; the
    pullback returns a tuple with one gradient per primal, each in its primal's structure. It may be
    called many times.

    >>> out, pullback = cm.vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> pullback(np.array([1.0, 1.0]))
    (array([2., 6.]),)
    """
    keep_nested = nested()
    out, traced = call_traced(f, primals, {}, tuple(range(len(primals))))
    aux = None
    if has_aux:
        out, aux = out
    outs, treedef = output_leaves(out)
    release(traced)  # the pullback finds them by identity

    def pullback(cotangent: Any) -> tuple:
        cotangents = [cotangent] if treedef.is_leaf else tree.structured_leaves(cotangent, treedef,
                                                                                 "the vjp pullback's cotangent")
        seeds = [seed_for(o, c, "the vjp pullback", keep_traced=True) for o, c in zip(outs, cotangents)]
        return tuple(gradients(outs, seeds, traced, keep_nested)[0])

    value = tree.unflatten(treedef, [finish(o, keep_nested) for o in outs])
    return (value, pullback, plain_aux(aux)) if has_aux else (value, pullback)
