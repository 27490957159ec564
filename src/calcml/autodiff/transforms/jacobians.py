"""Whole matrices of derivatives, built from the two modes:

    jacobian(f, mode=...)(x)   J, by rows (rev: one backward pass per output) or by columns pushed all
                               at once (fwd: one forward pass with the identity as tangents)
    hessian(f)(x)              ∇²f(x) = the forward-mode Jacobian of ∇f (forward-over-reverse)
    hvp(f, x, v)               ∇²f(x) v without forming ∇²f
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.tensor import Tensor, as_float_array
from calcml.autodiff.transforms.arguments import (
    argnums_tuple,
    aux_splitter,
    call_traced,
    finish,
    nested,
    output_leaves,
    plain_aux,
    release,
)
from calcml.autodiff.transforms.forward_mode import flat_primals, jvp, push_forward, rebuilder
from calcml.autodiff.transforms.reverse_mode import gradients, unwrapped_grad


def _jacobian_tree(blocks: list[list[Any]], out_def: tree.TreeDef, in_defs: list[tree.TreeDef],
                   single: bool) -> Any:
    """Jacobian blocks (per output leaf, per input leaf) arranged as JAX does: the output's structure
    outside, each argument's structure inside (a tuple over argnums unless one int was given)."""
    per_output = []
    for row in blocks:
        per_argument, start = [], 0
        for treedef in in_defs:
            n = treedef.num_leaves
            per_argument.append(tree.unflatten(treedef, row[start:start + n]))
            start += n
        per_output.append(per_argument[0] if single else tuple(per_argument))
    return tree.unflatten(out_def, per_output)


def _jacobian_forward(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...], single: bool) -> Any:
    """All columns of J at once: one forward pass with the identity as a batch of tangents."""
    leaves, in_defs = flat_primals([args[i] for i in nums])
    primals = [p if type(p) is Tensor else as_float_array(p) for p in leaves]
    sizes = [p.size for p in primals]
    total = sum(sizes)
    identity = np.eye(total, dtype=np.result_type(*[p.dtype for p in primals]))
    tangents, start = [], 0
    for p, n in zip(primals, sizes):
        tangents.append(identity[:, start:start + n].reshape((total,) + p.shape))
        start += n
    rebuild = rebuilder(in_defs)

    def with_primals(*xs):
        call_args = list(args)
        for i, x in zip(nums, xs):
            call_args[i] = x
        return f(*call_args, **kwargs)

    values, out_tangents, out_def, keep = push_forward(with_primals, primals, tangents, rebuild)
    blocks = []
    for value, tangent in zip(values, out_tangents):
        columns = np.moveaxis(tangent, 0, -1)  # out.shape + (total,)
        row, start = [], 0
        for p, n in zip(primals, sizes):
            row.append(finish(np.reshape(columns[..., start:start + n], np.shape(value) + p.shape), keep))
            start += n
        blocks.append(row)
    return _jacobian_tree(blocks, out_def, in_defs, single)


def _jacobian_reverse(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...], single: bool) -> Any:
    """J row by row: one forward pass, then one backward pass per output element."""
    keep = nested()
    out, traced = call_traced(f, args, kwargs, nums)
    outs, out_def = output_leaves(out)
    blocks = []
    for o in outs:
        seeds = np.eye(max(o.size, 1), dtype=o.dtype)
        rows = []
        for k in range(o.size):
            per_argument, _ = gradients([o], [seeds[k].reshape(o.shape)], traced, keep)
            rows.append([leaf for g in per_argument for leaf in tree.leaves(g)])
        row = []
        for j, x in enumerate(x for argument in traced for x in argument.inputs):
            if x is None:
                row.append(None)
                continue
            stacked = np.stack([r[j] for r in rows]) if rows else np.zeros((0,) + x.shape, dtype=x.dtype)
            row.append(finish(np.reshape(stacked, o.shape + x.shape), keep))
        blocks.append(row)
    release(traced)
    return _jacobian_tree(blocks, out_def, [argument.treedef for argument in traced], single)


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "rev", has_aux: bool = False) -> Callable:
    """``f ↦ J_f``: the matrix of partial derivatives J[i, j] = ∂f_i/∂x_j, shaped out.shape + x.shape.

    ``mode="rev"`` builds it row by row (one backward pass per output: best for few outputs);
    ``mode="fwd"`` pushes every column in a single vectorized forward pass (best for few inputs).
    Outputs and arguments may be pytrees: the result has the output's structure outside and the
    argument's inside, as in JAX. With ``has_aux=True``, f returns ``(out, aux)`` and so does the result.

    >>> cm.jacobian(lambda x: x ** 2, mode="fwd")(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', not {mode!r}.")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        nums = argnums_tuple(argnums, args, "jacobian")
        build = _jacobian_forward if mode == "fwd" else _jacobian_reverse
        if not has_aux:
            return build(f, args, kwargs, nums, isinstance(argnums, int))
        without_aux, aux = aux_splitter(f, "jacobian")
        return build(without_aux, args, kwargs, nums, isinstance(argnums, int)), plain_aux(aux[0])

    return jacobian_f


def hessian(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ ∇²f``: H[i, j] = ∂²f/∂x_i∂x_j, as the forward-mode Jacobian of the gradient
    (forward-over-reverse: one backward pass carrying n tangents, not n passes).

    With a tuple of ``argnums`` the result is nested like JAX's: ``H[i][j] = ∂²f/∂x_i∂x_j`` blocks.

    >>> cm.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    gradient = functools.wraps(f)(unwrapped_grad(f, argnums, has_aux, transform="hessian"))
    jacobian_of_gradient = jacobian(gradient, argnums, mode="fwd", has_aux=has_aux)

    @functools.wraps(f)
    def hessian_f(*args: Any, **kwargs: Any) -> Any:
        argnums_tuple(argnums, args, "hessian")  # errors name the transform the user called
        return jacobian_of_gradient(*args, **kwargs)

    return hessian_f


def hvp(f: Callable, x: Any, v: Any, has_aux: bool = False) -> Any:
    """∇²f(x) v without forming the Hessian: the forward-mode derivative of ∇f in direction v.

    Costs a small multiple of one gradient, whatever the size of x. ``x`` and ``v`` may be pytrees of
    the same structure (several arguments: pass a tuple and unpack it in f). With ``has_aux=True``,
    f returns ``(value, aux)`` and hvp returns ``(Hv, aux)``.

    >>> cm.hvp(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    if not has_aux:
        return jvp(unwrapped_grad(f, transform="hvp"), (x,), (v,))[1]
    gradient_and_aux = unwrapped_grad(f, 0, has_aux=True, transform="hvp")
    without_aux, aux = aux_splitter(lambda y: gradient_and_aux(y), "hvp")
    return jvp(without_aux, (x,), (v,))[1], plain_aux(aux[0])
