"""cm.vmap against the Python loop, on random programs as users write them (property-based).

A program is a chain of 2–4 NumPy idioms drawn from a catalogue (elementwise math, reductions, shape ops,
joins, contractions, indexing, sorting, np.linalg, losses), each with random options. For random batches:

    vmap(f, in_axes, out_axes)(*A)            = moveaxis(stack_b f(*A[b]), 0, out_axes)
    vmap(grad(Σ sin ∘ f, argnums))(*A)        = stack_b grad(Σ sin ∘ f)(*A[b])
    grad(Σ sin(vmap(f)(*A)))                  = grad(Σ_b Σ sin(f(*A[b])))
    vmap(vmap(f, in_axes), in_axes_outer)(*A) = stack_i stack_j f(*A[i][j])

all to rtol 1e-10. A calcml error the loop raises too, or a BatchingError, is an honest answer; a number that
differs is a bug. What fuzzing found is kept below as minimal regression programs.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.nn.losses as losses

RTOL, ATOL = 1e-10, 1e-12


# ---- programs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extra:
    """An extra argument of the program: ``kind`` is 'float' (uniform in ±1), 'unit' ([0, 1]), 'sign' (±1) or
    'int' (in [0, high))."""

    kind: str
    shape: tuple[int, ...]
    high: int = 0


@dataclass(frozen=True)
class Step:
    """One idiom: ``fn(x, *extras)``, with ``text`` the code a user would write."""

    text: str
    fn: Callable
    extras: tuple[Extra, ...] = ()
    smooth: bool = True  # False: a tie or kink may sit near the data, compare values only


@dataclass
class Program:
    """x ↦ step_k(…step_1(x, extras_1)…, extras_k): the arguments are x and every step's extras, in order."""

    shape: tuple[int, ...]
    steps: list[Step] = field(default_factory=list)

    @property
    def specs(self) -> list[Extra]:
        return [Extra("float", self.shape)] + [e for s in self.steps for e in s.extras]

    @property
    def smooth(self) -> bool:
        return all(s.smooth for s in self.steps)

    def __call__(self, *args: Any) -> Any:
        x, k = args[0], 1
        for step in self.steps:
            n = len(step.extras)
            x = step.fn(x, *args[k:k + n])
            k += n
        return x

    def __repr__(self) -> str:
        return f"Program(x{self.shape}: " + " -> ".join(s.text for s in self.steps) + ")"


def _sample(spec: Extra, rng: np.random.Generator, lead: tuple[int, ...] = ()) -> np.ndarray:
    shape = lead + spec.shape
    if spec.kind == "int":
        return rng.integers(0, spec.high, size=shape)
    if spec.kind == "unit":
        return rng.uniform(0.05, 0.95, size=shape)
    if spec.kind == "sign":
        return rng.choice([-1.0, 1.0], size=shape)
    return rng.uniform(-1.0, 1.0, size=shape)


def _shape_after(step: Step, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape ``step`` gives an example of ``shape``, or None when NumPy refuses it."""
    rng = np.random.default_rng(0)
    try:
        with np.errstate(all="ignore"):
            out = step.fn(rng.uniform(-1, 1, size=shape), *(_sample(e, rng) for e in step.extras))
    except Exception:  # an invalid combination of options: not a program
        return None
    out = np.asarray(out)
    return out.shape if out.dtype.kind == "f" else None


# ---- the catalogue: each builder draws one idiom for an input of a given shape ---------------------------
def _axis(draw, ndim: int) -> int:
    return draw(st.integers(-ndim, ndim - 1))


def _elementwise(draw, shape):
    c = draw(st.sampled_from([-0.3, 0.0, 0.4]))
    unary = {
        "sin": (np.sin, True), "exp": (lambda x: np.exp(0.5 * x), True), "tanh": (np.tanh, True),
        "x*x": (lambda x: x * x, True), "x+1.5": (lambda x: x + 1.5, True),
        f"where(x>{c})": (lambda x: np.where(x > c, x, 2 * x), False),
        f"maximum(x,{c})": (lambda x: np.maximum(x, c), False),
        "clip(-0.5,0.5)": (lambda x: np.clip(x, -0.5, 0.5), False),
    }
    binary = {"x*y": (lambda x, y: x * y, True), "x+y": (lambda x, y: x + y, True),
              "maximum(x,y)": (lambda x, y: np.maximum(x, y), False),
              "where(x>y,x,y*y)": (lambda x, y: np.where(x > y, x, y * y), False),
              "where(y>0,x,-x)": (lambda x, y: np.where(y > 0, x, -x), True)}
    if shape and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(binary)))
        k = draw(st.integers(0, len(shape)))
        yshape = tuple(draw(st.sampled_from([n, 1])) for n in shape[k:])
        fn, smooth = binary[name]
        return Step(f"{name} y{yshape}", fn, (Extra("float", yshape),), smooth)
    name = draw(st.sampled_from(sorted(unary)))
    fn, smooth = unary[name]
    return Step(name, fn, (), smooth)


def _reduction(draw, shape):
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    keep = draw(st.booleans())
    kind = draw(st.sampled_from(["sum", "mean", "max", "prod", "logsumexp", "softmax", "cumsum", "argmax",
                                 "sum_tuple"]))
    if kind == "sum_tuple" and ndim >= 2:
        axes = tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim))))
        return Step(f"sum(axis={axes},keepdims={keep})", lambda x: np.sum(x, axis=axes, keepdims=keep))
    if kind in ("sum", "mean", "max", "prod", "sum_tuple"):
        kind = "sum" if kind == "sum_tuple" else kind
        reduce = getattr(np, kind)
        return Step(f"{kind}(axis={axis},keepdims={keep})", lambda x: reduce(x, axis=axis, keepdims=keep),
                    smooth=kind != "max")
    if kind == "logsumexp":
        return Step(f"cm.logsumexp(axis={axis})", lambda x: cm.logsumexp(x, axis=axis))
    if kind == "softmax":
        return Step(f"cm.softmax(axis={axis})", lambda x: cm.softmax(x, axis=axis))
    if kind == "cumsum":
        return Step(f"cumsum(axis={axis})", lambda x: np.cumsum(x, axis=axis))
    if axis is None:
        return Step("ravel()[argmax(x)]", lambda x: np.ravel(x)[np.argmax(x)], smooth=False)
    return Step(f"take_along_axis(argmax(axis={axis}))",
                lambda x: np.take_along_axis(x, np.expand_dims(np.argmax(x, axis=axis), axis), axis=axis),
                smooth=False)


def _shape_op(draw, shape):
    ndim = len(shape)
    kind = draw(st.sampled_from(["reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "ravel", "flip",
                                 "moveaxis", "T"]))
    if kind == "reshape":
        order = draw(st.sampled_from(["C", "F"]))
        size = int(np.prod(shape))
        divisors = [d for d in range(1, size + 1) if size % d == 0]
        d = draw(st.sampled_from(divisors))
        new = draw(st.sampled_from([(d, -1), (-1,), (d, size // d, 1), (size // d, d)]))
        return Step(f"reshape({new},order={order})", lambda x: np.reshape(x, new, order=order))
    if kind == "transpose" and ndim:
        perm = tuple(draw(st.permutations(range(ndim))))
        return Step(f"transpose({perm})", lambda x: np.transpose(x, perm))
    if kind == "swapaxes" and ndim:
        a, b = _axis(draw, ndim), _axis(draw, ndim)
        return Step(f"swapaxes({a},{b})", lambda x: np.swapaxes(x, a, b))
    if kind == "expand_dims":
        a = draw(st.integers(-ndim - 1, ndim))
        return Step(f"expand_dims({a})", lambda x: np.expand_dims(x, a))
    if kind == "squeeze":
        ones = [i for i, n in enumerate(shape) if n == 1]
        a = draw(st.sampled_from([None] + ones + [i - ndim for i in ones]))
        return Step(f"squeeze({a})", lambda x: np.squeeze(x, a))
    if kind == "ravel":
        return Step("ravel", np.ravel)
    if kind == "flip":
        a = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
        return Step(f"flip({a})", lambda x: np.flip(x, a))
    if kind == "moveaxis" and ndim:
        a, b = _axis(draw, ndim), _axis(draw, ndim)
        return Step(f"moveaxis({a},{b})", lambda x: np.moveaxis(x, a, b))
    return Step(".T", lambda x: x.T)


def _join(draw, shape):
    ndim = len(shape)
    kind = draw(st.sampled_from(["concatenate", "concatenate_y", "stack", "pad", "tile"]))
    if kind.startswith("concatenate") and ndim:
        axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
        other = list(shape)
        if axis is not None:
            other[axis] = draw(st.integers(1, 3))
        other = tuple(other)
        if kind == "concatenate_y":
            first = draw(st.booleans())
            return Step(f"concatenate(y{other}{' first' if first else ''},axis={axis})",
                        lambda x, y: np.concatenate([y, x] if first else [x, y], axis=axis), (Extra("float", other),))
        const = np.linspace(-1, 1, int(np.prod(other))).reshape(other)
        return Step(f"concatenate([x,const{other},x],axis={axis})",
                    lambda x: np.concatenate([x, const, 2 * x], axis=axis))
    if kind == "stack":
        axis = draw(st.integers(-ndim - 1, ndim))
        return Step(f"stack([x,sin x],axis={axis})", lambda x: np.stack([x, np.sin(x)], axis=axis))
    if kind == "pad" and ndim:
        widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
        mode = draw(st.sampled_from(["constant", "edge", "reflect"]))
        return Step(f"pad({widths},{mode})", lambda x: np.pad(x, widths, mode=mode))
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=ndim + 1)))
    return Step(f"tile({reps})", lambda x: np.tile(x, reps))


def _contraction(draw, shape):
    ndim = len(shape)
    kind = draw(st.sampled_from(["x@W", "W@x", "x@v", "einsum", "outer", "dot", "x@y_batched"]))
    extra_kind = draw(st.sampled_from(["const", "arg"]))
    if kind == "x@W" and ndim:
        wshape = (shape[-1], draw(st.integers(1, 3)))
    elif kind == "W@x" and ndim:
        wshape = (draw(st.integers(1, 3)), shape[-2] if ndim >= 2 else shape[0])
    elif kind == "x@v" and ndim:
        wshape = (shape[-1],)
    elif kind == "outer":
        wshape = (draw(st.integers(1, 3)),)
    elif kind == "dot" and ndim:
        wshape = draw(st.sampled_from([(shape[-1],), (shape[-1], 2)]))
    elif kind == "x@y_batched" and ndim >= 2:
        wshape = shape[:-2] + (shape[-1], draw(st.integers(1, 3)))
    else:
        return _einsum(draw, shape)
    ops = {"x@W": lambda x, w: x @ w, "W@x": lambda x, w: w @ x, "x@v": lambda x, w: x @ w,
           "outer": lambda x, w: np.outer(x, w), "dot": lambda x, w: np.dot(x, w), "x@y_batched": lambda x, w: x @ w}
    op = ops[kind]
    if extra_kind == "const":
        w = np.cos(np.arange(int(np.prod(wshape)), dtype=float)).reshape(wshape)
        return Step(f"{kind} const{wshape}", lambda x: op(x, w))
    return Step(f"{kind} y{wshape}", op, (Extra("float", wshape),))


def _einsum(draw, shape):
    if len(shape) >= 2 and shape[-1] == shape[-2] and draw(st.booleans()):  # a repeated label: the diagonal
        spec = draw(st.sampled_from(["...ii->...i", "...ii->...", "...ij,...jj->...i"]))
        if spec.count(",") == 0:
            return Step(f"einsum('{spec}')", lambda x: np.einsum(spec, x))
        return Step(f"einsum('{spec}') x x", lambda x: np.einsum(spec, x, x))
    labels = string.ascii_lowercase[:len(shape)]
    sizes = dict(zip(labels, shape))
    new = iter("pqr")
    ylabels = ""
    for _ in range(draw(st.integers(1, 2))):
        pool = [c for c in labels if c not in ylabels]
        if pool and draw(st.booleans()):
            ylabels += draw(st.sampled_from(pool))
        else:
            c = next(new)
            sizes[c] = draw(st.integers(1, 3))
            ylabels += c
    every = sorted(set(labels + ylabels))
    out = "".join(draw(st.permutations(every))[:draw(st.integers(0, len(every)))])
    spec = f"{labels},{ylabels}->{out}"
    yshape = tuple(sizes[c] for c in ylabels)
    return Step(f"einsum('{spec}') y{yshape}", lambda x, y: np.einsum(spec, x, y), (Extra("float", yshape),))


def _index(draw, shape):
    ndim = len(shape)
    if not ndim:
        return Step("x[None]", lambda x: x[None])
    kind = draw(st.sampled_from(["slice", "int", "ellipsis", "newaxis", "const_array", "arg_array", "apart",
                                 "mask", "take", "take_arg", "take_along", "arg_array_inner", "arg_pair"]))
    n0 = shape[0]
    if kind == "slice":
        start, stop, step = draw(st.integers(-n0, n0)), draw(st.integers(-n0, n0)), draw(st.sampled_from([1, 2, -1]))
        assume(len(range(n0)[start:stop:step]) > 0)
        return Step(f"x[{start}:{stop}:{step}]", lambda x: x[start:stop:step])
    if kind == "int":
        i = draw(st.integers(-n0, n0 - 1))
        return Step(f"x[{i}]", lambda x: x[i])
    if kind == "ellipsis":
        i = draw(st.integers(-shape[-1], shape[-1] - 1))
        return Step(f"x[..., {i}]", lambda x: x[..., i])
    if kind == "newaxis":
        return Step("x[:, None]", lambda x: x[:, None])
    if kind == "const_array":
        idx = np.array(draw(st.lists(st.integers(-n0, n0 - 1), min_size=1, max_size=4)))
        return Step(f"x[{idx.tolist()}]", lambda x: x[idx])
    if kind == "arg_array":
        ishape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
        return Step(f"x[i{ishape}<{n0}]", lambda x, i: x[i], (Extra("int", ishape, n0),))
    if kind == "arg_array_inner" and ndim >= 2:
        k = draw(st.integers(1, 3))
        where = draw(st.sampled_from([":", "..."]))
        index = (slice(None),) if where == ":" else (Ellipsis,)
        n = shape[1] if where == ":" else shape[-1]
        return Step(f"x[{where}, i({k},)<{n}]", lambda x, i: x[index + (i,)], (Extra("int", (k,), n),))
    if kind == "arg_pair" and ndim >= 2:  # adjacent advanced indices, one constant, one per example, broadcast
        k = draw(st.integers(1, 3))
        j = np.arange(k)[:, None] % shape[1]
        return Step(f"x[i(1,{k})<{n0}, {j.tolist()}]", lambda x, i: x[i, j], (Extra("int", (1, k), n0),))
    if kind == "apart" and ndim >= 3:  # advanced indices apart: NumPy moves the indexed axes to the front
        k = draw(st.integers(1, 3))
        per_example = draw(st.booleans())
        if per_example:
            return Step(f"x[i{(k,)}, :, j{(k,)}]", lambda x, i, j: x[i, :, j],
                        (Extra("int", (k,), shape[0]), Extra("int", (k,), shape[2])))
        i, j = np.arange(k) % shape[0], (np.arange(k) + 1) % shape[2]
        return Step(f"x[{i.tolist()}, :, {j.tolist()}]", lambda x: x[i, :, j])
    if kind == "mask":
        mask = np.arange(int(np.prod(shape))).reshape(shape) % 3 != 1
        return Step("x[const mask]", lambda x: x[mask])
    if kind == "take":
        axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
        high = int(np.prod(shape)) if axis is None else shape[axis]
        idx = np.array(draw(st.lists(st.integers(0, high - 1), min_size=1, max_size=4)))
        return Step(f"take({idx.tolist()},axis={axis})", lambda x: np.take(x, idx, axis=axis))
    if kind == "take_arg":
        axis = _axis(draw, ndim)
        return Step(f"take(i(3,)<{shape[axis]},axis={axis})", lambda x, i: np.take(x, i, axis=axis),
                    (Extra("int", (3,), shape[axis]),))
    axis = _axis(draw, ndim)
    ishape = tuple(draw(st.integers(1, 3)) if a % ndim == axis % ndim else n for a, n in enumerate(shape))
    return Step(f"take_along_axis(i{ishape},axis={axis})", lambda x, i: np.take_along_axis(x, i, axis=axis),
                (Extra("int", ishape, shape[axis]),))


def _order(draw, shape):
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    kind = draw(st.sampled_from(["sort", "quantile", "median"]))
    if kind == "sort":
        a = -1 if axis is None else axis
        return Step(f"sort(axis={a})", lambda x: np.sort(x, axis=a), smooth=False)
    if kind == "quantile":
        q = draw(st.sampled_from([0.3, 0.5, [0.25, 0.9]]))
        return Step(f"quantile({q},axis={axis})", lambda x: np.quantile(x, q, axis=axis), smooth=False)
    return Step(f"median(axis={axis})", lambda x: np.median(x, axis=axis), smooth=False)


def _well_conditioned(x):
    """tanh(x) + (n+1)·I: strictly diagonally dominant, so invertible with a small condition number."""
    n = x.shape[-1]
    return np.tanh(x) + (n + 1) * np.eye(n)


def _linalg(draw, shape):
    ndim = len(shape)
    kind = draw(st.sampled_from(["inv", "det", "solve_v", "solve_m", "norm", "slogdet"]))
    square = ndim >= 2 and shape[-1] == shape[-2]
    if kind == "inv" and square:
        return Step("inv(A)", lambda x: np.linalg.inv(_well_conditioned(x)))
    if kind == "det" and square:
        return Step("det(A)", lambda x: np.linalg.det(_well_conditioned(x)))
    if kind == "slogdet" and square:
        return Step("slogdet(A)[1]", lambda x: np.linalg.slogdet(_well_conditioned(x))[1])
    if kind == "solve_v" and ndim == 2 and square:
        return Step(f"solve(A, b{shape[-1:]})", lambda x, b: np.linalg.solve(_well_conditioned(x), b),
                    (Extra("float", shape[-1:]),))
    if kind == "solve_m" and square:
        bshape = shape[:-1] + (draw(st.integers(1, 3)),)
        return Step(f"solve(A, B{bshape})", lambda x, b: np.linalg.solve(_well_conditioned(x), b),
                    (Extra("float", bshape),))
    if ndim == 0:
        return Step("abs", np.abs, smooth=False)
    if ndim >= 2 and draw(st.booleans()):
        axes = draw(st.sampled_from([(0, 1), (-2, -1), (-1, -2)]))
        order = draw(st.sampled_from([None, "fro", 1, np.inf]))
        return Step(f"norm(ord={order},axis={axes})", lambda x: np.linalg.norm(x, ord=order, axis=axes),
                    smooth=order in (None, "fro"))
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
    order = None if axis is None else draw(st.sampled_from([None, 1, 2, 3, np.inf]))
    return Step(f"norm(ord={order},axis={axis})", lambda x: np.linalg.norm(x, ord=order, axis=axis),
                smooth=order in (None, 2, 3))


def _loss(draw, shape):
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    kind = draw(st.sampled_from(["mse", "huber", "mae", "bce", "hinge", "cross_entropy", "cross_entropy_probs",
                                 "multiclass_hinge"]))
    if kind in ("cross_entropy", "multiclass_hinge") and len(shape) == 2:
        fn = getattr(losses, kind)
        return Step(f"{kind}(x, t{shape[:1]}<{shape[1]}, {reduction})",
                    lambda x, t: fn(x, t, reduction=reduction), (Extra("int", shape[:1], shape[1]),),
                    smooth=kind == "cross_entropy")
    if kind == "cross_entropy_probs" and len(shape) == 2:
        return Step(f"cross_entropy(x, p{shape}, {reduction})", lambda x, p: losses.cross_entropy(x, p, reduction),
                    (Extra("unit", shape),))
    target = {"bce": "unit", "hinge": "sign"}.get(kind, "float")
    fn = {"mse": losses.mse, "huber": losses.huber, "mae": losses.mae, "bce": losses.binary_cross_entropy_with_logits,
          "hinge": losses.hinge}.get(kind, losses.mse)
    return Step(f"{fn.__name__}(x, t{shape}, {reduction})", lambda x, t: fn(x, t, reduction=reduction),
                (Extra(target, shape),), smooth=kind in ("mse", "bce"))


CATALOGUE = {"elementwise": _elementwise, "reduction": _reduction, "shape": _shape_op, "join": _join,
             "contraction": _contraction, "index": _index, "order": _order, "linalg": _linalg, "loss": _loss}


@st.composite
def programs(draw, families: Sequence[str] = tuple(CATALOGUE), min_steps: int = 2, max_steps: int = 4) -> Program:
    """A chain of idioms, each valid for the shape the previous one gives, kept small (≤ 64 elements)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    program = Program(shape)
    for _ in range(draw(st.integers(min_steps, max_steps))):
        step = CATALOGUE[draw(st.sampled_from(list(families)))](draw, shape)
        new = _shape_after(step, shape)
        assume(new is not None and 0 < int(np.prod(new)) <= 64 and len(new) <= 4)
        program.steps.append(step)
        shape = new
    return program


# ---- batches and the loop ------------------------------------------------------------------------------
def _batched(spec: Extra, axis: int | None, size: int, rng: np.random.Generator) -> np.ndarray:
    """A batch of ``size`` examples of ``spec`` with the batch axis at ``axis`` (None: one shared value)."""
    if axis is None:
        return _sample(spec, rng)
    return np.moveaxis(_sample(spec, rng, (size,)), 0, axis)


def _ending_with_the_first(arg: np.ndarray, axis: int | None) -> np.ndarray:
    """The batch with its last example replaced by its first (unchanged when not batched)."""
    if axis is None:
        return arg
    arg = np.moveaxis(arg.copy(), axis, 0)
    arg[-1] = arg[0]
    return np.moveaxis(arg, 0, axis)


def _example(arg: Any, axis: int | None, b: int) -> Any:
    return arg if axis is None else np.take(arg, b, axis=axis)


def _loop(f: Callable, args: Sequence, in_axes: Sequence, size: int) -> list:
    return [f(*(_example(a, ax, b) for a, ax in zip(args, in_axes))) for b in range(size)]


def _stack(per_example: list, out_axis: int = 0) -> list[np.ndarray]:
    """The loop's results (each a leaf or tuple of leaves) stacked leaf by leaf, batch axis at ``out_axis``."""
    columns = zip(*(cm.tree.leaves(r) for r in per_example))
    return [np.moveaxis(np.stack([np.asarray(v, dtype=float) for v in col]), 0, out_axis) for col in columns]


def _assert_close(got: Any, expected: list[np.ndarray], what: str) -> None:
    leaves = cm.tree.leaves(got)
    assert len(leaves) == len(expected), what
    for g, e in zip(leaves, expected):
        g = np.asarray(g.value if isinstance(g, cm.Tensor) else g, dtype=float)
        assert g.shape == e.shape, f"{what}: shape {g.shape} != loop's {e.shape}"
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def _scalar(f: Callable) -> Callable:
    return lambda *a: np.sum(np.sin(f(*a)))


# ---- the properties --------------------------------------------------------------------------------------
@dataclass
class Case:
    """A program with its batch: the arguments, their in_axes, the out_axis and the batch size."""

    program: Program
    args: list
    in_axes: tuple
    out_axis: int
    size: int

    @property
    def float_args(self) -> tuple[int, ...]:
        return tuple(i for i, s in enumerate(self.program.specs) if s.kind != "int")


def _loop_or_error(thunk: Callable) -> tuple[Any, Exception | None]:
    try:
        with np.errstate(all="ignore"):
            return thunk(), None
    except cm.CalcmlError as error:
        return None, error


def _agrees(thunk: Callable, expected_thunk: Callable, what: str) -> None:
    """The batched answer equals the loop's; where the loop raises a calcml error, vmap raises one too; a
    BatchingError is an honest refusal."""
    expected, loop_error = _loop_or_error(expected_thunk)
    try:
        with np.errstate(all="ignore"):
            got = thunk()
    except cm.BatchingError:
        return
    except cm.CalcmlError:
        if loop_error is not None:
            return
        raise
    assert loop_error is None, f"{what}: the loop raised {loop_error!r}, vmap did not"
    _assert_close(got, expected, what)


def check_values(case: Case) -> None:
    p, args, ia = case.program, case.args, case.in_axes
    _agrees(lambda: cm.vmap(p, ia, case.out_axis)(*args),
            lambda: _stack(_loop(p, args, ia, case.size), case.out_axis), f"vmap {p}")


def _moderate(case: Case) -> bool:
    """Every output of the loop finite and at most 100 in size: sin of a huge value is ill-conditioned, so two
    correct gradients of Σ sin ∘ f could differ past rtol."""
    with np.errstate(all="ignore"):
        try:
            outputs = _stack(_loop(case.program, case.args, case.in_axes, case.size))
        except cm.CalcmlError:
            return True  # the error is compared instead
    return all(np.all(np.abs(o) <= 100) for o in outputs)


def check_per_example_gradients(case: Case) -> None:
    p, args, ia = case.program, case.args, case.in_axes
    if not _moderate(case):
        return
    g = cm.grad(_scalar(p), argnums=case.float_args)
    _agrees(lambda: cm.vmap(g, ia)(*args), lambda: _stack(_loop(g, args, ia, case.size)), f"vmap(grad) {p}")


def check_gradient_through_vmap(case: Case) -> None:
    p, args, ia, n = case.program, case.args, case.in_axes, case.size
    if not _moderate(case):
        return
    through = cm.grad(lambda *a: np.sum(np.sin(cm.vmap(p, ia, case.out_axis)(*a))), argnums=case.float_args)
    written_out = cm.grad(lambda *a: sum(_scalar(p)(*(_example(x, ax, b) for x, ax in zip(a, ia))) for b in range(n)),
                          argnums=case.float_args)
    _agrees(lambda: through(*args), lambda: cm.tree.leaves(written_out(*args)), f"grad(vmap) {p}")


def _double_loop_of(f: Callable, args: list, inner: tuple, outer: tuple, sizes: tuple[int, int]) -> list:
    """The leaves of stack_i stack_j f(args[i][j])."""
    rows = [_loop(f, [_example(a, ao, i) for a, ao in zip(args, outer)], inner, sizes[1]) for i in range(sizes[0])]
    return [np.stack(col) for col in zip(*(_stack(r) for r in rows))]


def check_nested(program: Program, inner: tuple, outer: tuple, sizes: tuple[int, int], seed: int,
                 gradient: bool = False) -> None:
    """vmap(vmap(f, inner), outer) on arguments of shape (B2?, …B1 at inner…) equals the double loop; with
    ``gradient``, f is grad(Σ sin ∘ program) with respect to its float arguments."""
    rng = np.random.default_rng(seed)
    args = [_batched(s, ai, sizes[1], rng) for s, ai in zip(program.specs, inner)]
    args = [a if ao is None else np.stack([_batched(s, ai, sizes[1], rng) for _ in range(sizes[0])])
            for a, s, ai, ao in zip(args, program.specs, inner, outer)]
    f: Callable = program
    if gradient:
        values, _ = _loop_or_error(lambda: _double_loop_of(program, args, inner, outer, sizes))
        if not all(np.all(np.abs(v) <= 100) for v in values or []):
            return  # sin of a huge value is ill-conditioned (see _moderate)
        f = cm.grad(_scalar(program), argnums=tuple(i for i, s in enumerate(program.specs) if s.kind != "int"))
    _agrees(lambda: cm.vmap(cm.vmap(f, inner), outer)(*args), lambda: _double_loop_of(f, args, inner, outer, sizes),
            f"nested vmap{' of grad' if gradient else ''} {program}")


@st.composite
def cases(draw, families: Sequence[str] = tuple(CATALOGUE)) -> Case:
    program = draw(programs(families))
    specs = program.specs
    in_axes = tuple(draw(st.sampled_from([0, 1, -1, None] if s.shape else [0, -1, None])) for s in specs)
    assume(any(a is not None for a in in_axes))
    size = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    args = [_batched(s, a, size, rng) for s, a in zip(specs, in_axes)]
    if draw(st.booleans()):  # a batch ending with its first example: the replay's own check sees example 0 again
        args = [_ending_with_the_first(a, ax) for a, ax in zip(args, in_axes)]
    out_ndim = len(_shape_after(Step("", program, tuple(specs[1:])), program.shape)) + 1
    out_axis = draw(st.sampled_from([a for a in (0, 1, -1) if -out_ndim <= a < out_ndim]))
    return Case(program, args, in_axes, out_axis, size)


FUZZ = settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(case=cases())
def test_vmap_equals_the_loop(case):
    check_values(case)


@FUZZ
@given(case=cases())
def test_per_example_gradients_equal_the_loop(case):
    assume(case.program.smooth)
    check_per_example_gradients(case)


@FUZZ
@given(case=cases())
def test_gradient_through_vmap_equals_the_loop_written_out(case):
    assume(case.program.smooth)
    check_gradient_through_vmap(case)


@FUZZ
@given(program=programs(max_steps=3), data=st.data())
def test_nested_vmap_equals_the_double_loop(program, data):
    specs = program.specs
    inner = tuple(data.draw(st.sampled_from([0, -1, None])) for _ in specs)
    outer = tuple(data.draw(st.sampled_from([0, None])) for _ in specs)
    assume(any(a is not None for a in inner) and any(a is not None for a in outer))
    check_nested(program, inner, outer, (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))),
                 data.draw(st.integers(0, 1000)), gradient=program.smooth and data.draw(st.booleans()))


# ---- what fuzzing found, as minimal programs (fixed in 44f6053; kept as regressions) ---------------------------
def _double_loop(f: Callable, args: Sequence, inner: tuple, outer: tuple) -> np.ndarray:
    """stack_i stack_j f(args[i][j]), with i over the outer batch and j over the inner one."""
    outer_size = next(np.shape(a)[0] for a, ao in zip(args, outer) if ao is not None)
    rows = []
    for i in range(outer_size):
        row_args = [_example(a, ao, i) for a, ao in zip(args, outer)]
        inner_size = next(np.shape(a)[ai] for a, ai in zip(row_args, inner) if ai is not None)
        rows.append(np.stack([np.asarray(r, dtype=float) for r in _loop(f, row_args, inner, inner_size)]))
    return np.stack(rows)


# Each batch is chosen so that the replay's own check (the last example unlike the first, run alone) agreed, so
# the wrong row (outer example 1) was returned: example 0's value of t > 0, or example 0's index.
_X, _I = np.array([[10.0, 10.0, 12.0]]), np.array([[[0, 1]], [[2, 2]], [[1, 0]]])
NESTED_REGRESSIONS = {
    "astype(t > 0), t batched by the outer vmap only": (
        lambda x, t: x * np.astype(t > 0, float), (np.array([[1.0, 2.0]]), np.array([[1, 0], [0, 0], [2, 0]])),
        (0, None), (None, 0)),
    "take(x, i), x batched by the inner vmap only": (lambda x, i: np.take(x, i, axis=0), (_X, _I), (0, 0), (None, 0)),
    "x[i], x batched by the inner vmap only": (lambda x, i: x[i], (_X, _I), (0, 0), (None, 0)),
    "take_along_axis(x, i), x batched by the inner vmap only": (
        lambda x, i: np.take_along_axis(x, i, axis=0), (_X, _I), (0, 0), (None, 0)),
}


@pytest.mark.parametrize("name", sorted(NESTED_REGRESSIONS))
def test_nested_regressions(name):
    f, args, inner, outer = NESTED_REGRESSIONS[name]
    got = cm.vmap(cm.vmap(f, inner), outer)(*args)
    np.testing.assert_allclose(got, _double_loop(f, args, inner, outer), rtol=RTOL, atol=ATOL)


# A per-example index into an unbatched array, then a per-example operand, then sort or quantile (which index with
# the argsort they read): the trace removed the index read with list.remove, comparing Tensors with ==, a bare
# ValueError where the loop works.
BARE_EXCEPTIONS = {
    "sort(x[i] + t)": (lambda x, i, t: np.sort(x[i] + t),
                       (np.array([1.0, 2.0, 3.0]), np.array([[0, 2]]), np.array([[0.5, 0.25]])), (None, 0, 0)),
    "quantile(take_along_axis(x, i) * t)": (
        lambda x, i, t: np.quantile(np.take_along_axis(x, i, axis=0) * t, [0.25, 0.9]),
        (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[[0, 1], [1, 0]]] * 2),
         np.array([[[0.5, 0.25], [1.0, 2.0]], [[1.0, 3.0], [2.0, 1.0]]])), (None, 0, 0)),
    "median(x[i]), nested, i batched by the outer vmap only": (
        lambda x, i: np.median(x[i]), (np.arange(12.0).reshape(2, 2, 3), np.array([[[0, 1, 1]], [[1, 0, 0]]])),
        ((0, None), (0, 0))),
}


@pytest.mark.parametrize("name", sorted(BARE_EXCEPTIONS))
def test_bare_exception_regressions(name):
    f, args, in_axes = BARE_EXCEPTIONS[name]
    if "nested" in name:
        got = cm.vmap(cm.vmap(f, in_axes[0]), in_axes[1])(*args)
        np.testing.assert_allclose(got, _double_loop(f, args, *in_axes), rtol=RTOL, atol=ATOL)
        return
    size = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    _assert_close(cm.vmap(f, in_axes)(*args), _stack(_loop(f, args, in_axes, size)), "vmap")
