"""Route NumPy calls on Tensors to primitives: the bridge that makes plain NumPy code differentiable.

``np.tanh(t)`` reaches ``Tensor.__array_ufunc__``; ``np.sum(t, axis=1)`` reaches
``Tensor.__array_function__``. Both look the NumPy callable up here. Functions whose result does not
depend smoothly on their input (comparisons, argmax, floor, shape queries) run on the plain values and
return plain arrays: their derivative is zero wherever it exists, so the graph simply stops there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.errors import InPlaceError, NoRuleError, describe
from calcml.autodiff.primitive import Primitive, apply
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, note_value_use

UFUNCS: dict[np.ufunc, Primitive] = {}
FUNCTIONS: dict[Callable, Callable] = {}

# Piecewise constant: each member's derivative is 0 wherever it exists, so it runs on the plain values
# and its result is a plain array (the graph stops there, as PyTorch and JAX give zero gradients).
# Audited member by member (issue 10); why each one is constant between its jumps:
#   rounding        floor, ceil, trunc, rint, fix, round/around; floor_divide (⌊x/y⌋, in x and in y);
#                   sign (±1, 0)
#   comparisons     greater ... not_equal, isclose, allclose, array_equal(_equiv), isin: booleans
#   tests           isfinite, isnan, isinf, isposinf, isneginf, signbit, isreal, iscomplex: booleans
#   logic, bits     logical_*, bitwise_*, invert, left/right_shift, gcd, lcm: booleans and integers
#   positions       argmax, argmin, argsort, argpartition, nonzero, argwhere, flatnonzero, searchsorted,
#                   digitize, count_nonzero, any, all: integer positions, counts and booleans
#   fresh arrays    zeros_like, ones_like, empty_like: depend on the argument's shape, not its values
#   dtype queries   result_type, can_cast, iscomplexobj, isrealobj
# Not members, though they once were or look it: remainder/mod and fmod (slope 1 in x), sort and unique
# (permutations and selections of the values), full_like (the fill flows through), heaviside (its value
# at 0 is an argument), divmod (its remainder): each has a rule.
PIECEWISE_CONSTANT_UFUNCS = {
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isnan, np.isinf, np.signbit,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift, np.gcd, np.lcm,
}
PIECEWISE_CONSTANT_FUNCTIONS = {
    np.fix, np.round, np.around,
    np.isclose, np.allclose, np.array_equal, np.array_equiv, np.isin,
    np.isposinf, np.isneginf, np.isreal, np.iscomplex,
    np.argmax, np.argmin, np.argsort, np.argpartition, np.nonzero, np.argwhere, np.flatnonzero,
    np.searchsorted, np.digitize, np.count_nonzero, np.any, np.all,
    np.zeros_like, np.ones_like, np.empty_like,
    np.result_type, np.can_cast, np.iscomplexobj, np.isrealobj,
}


# Writers: NumPy functions that fill an existing array in place (np.full and np.full_like call np.copyto).
# They run on plain values, but refuse to write into a Tensor or to write a traced value, which would
# leave the graph there. Not differentiable, so supported_functions() does not list them.
WRITERS = {np.copyto, np.put, np.putmask, np.place, np.fill_diagonal}


def write_plain(name: str, write: Callable, args: tuple, kwargs: dict) -> Any:
    """``write(dst, *rest)`` on plain values; refused when ``dst`` is a Tensor or a traced value is written."""
    dst, written = args[0], (*args[1:], *kwargs.values())
    if type(dst) is Tensor or any(type(a) is Tensor and a.is_traced() for a in written):
        raise InPlaceError(
            f"{name} writes in place into {describe(dst)}, outside the graph "
            f"(np.full(shape, t) and np.full_like(array, t) do this too).\n"
            f"  arguments: {', '.join(describe(a) for a in written)}\n"
            "  instead: build a new array: np.broadcast_to(t, shape) or np.full_like(tensor, t) for a "
            "filled one, np.where(mask, values, a) to replace entries, a one-hot product "
            "(np.eye(n)[index].T @ values) to add at indices."
        )
    return write(dst, *plain(args[1:]), **plain(kwargs))


# Questions about a Tensor's shape are answered from the Tensor itself (they are asked inside every rule).
FUNCTIONS[np.shape] = lambda a: a.shape
FUNCTIONS[np.ndim] = lambda a: a.ndim
FUNCTIONS[np.size] = lambda a, axis=None: a.size if axis is None else a.shape[axis]


def implements(numpy_function: Callable, handler: Callable) -> None:
    """Make ``numpy_function(tensor, ...)`` call ``handler`` (a primitive or an adapter to one)."""
    if isinstance(numpy_function, np.ufunc):
        UFUNCS[numpy_function] = handler
    else:
        FUNCTIONS[numpy_function] = handler


def plain(value: Any) -> Any:
    """Replace Tensors by their arrays, also inside lists and tuples. (Under cm.vmap, reading the plain
    values of an example is noted: what is computed from them cannot be replayed for the other examples.)"""
    if type(value) is Tensor:
        if STATE.vmap_tracers:
            note_value_use(value)
        return value.value
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def unwrapped(value: Any) -> Any:
    """``plain`` without the note: for operations that are themselves recorded."""
    if type(value) is Tensor:
        return value.value
    if isinstance(value, (list, tuple)):
        return type(value)(unwrapped(v) for v in value)
    return value


UFUNC_METHODS = {
    ("reduce", np.add): np.sum, ("reduce", np.multiply): np.prod, ("reduce", np.maximum): np.max,
    ("reduce", np.minimum): np.min, ("accumulate", np.add): np.cumsum, ("accumulate", np.multiply): np.cumprod,
}


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """Handle ``ufunc(*inputs)`` when an input is a Tensor."""
    if kwargs.get("out") is not None:
        raise InPlaceError(
            f"numpy.{ufunc.__name__} was asked to write its result into an existing array (out=), "
            "which would bypass the graph.\n"
            f"  arguments: {', '.join(describe(a) for a in inputs)}\n"
            "  instead: use the returned value, e.g. a = a + t rather than a += t on a plain array."
        )
    if method == "__call__":
        handler = UFUNCS.get(ufunc)
        if kwargs and handler is not None:
            inputs, kwargs = _ufunc_keywords(ufunc, inputs, kwargs)
        if type(handler) is Primitive:
            return apply(handler, inputs, kwargs)
        if handler is not None:  # an adapter that picks a primitive (e.g. maximum's tie rule)
            return handler(*inputs, **kwargs)
        if ufunc in PIECEWISE_CONSTANT_UFUNCS:
            if STATE.vmap_tracers:  # under vmap its result differs per example: recorded, not a constant
                return STATE.vmap_tracers[-1].piecewise(ufunc, inputs, kwargs, unwrapped)
            return ufunc(*plain(inputs), **kwargs)
    elif (method, ufunc) in UFUNC_METHODS:  # np.add.reduce(x) is np.sum(x, axis=0): axis 0 by default
        return UFUNC_METHODS[method, ufunc](*inputs, **{"axis": 0, **kwargs})
    elif method == "outer" and ufunc in UFUNCS:  # ufunc.outer(a, b)[i, j] = ufunc(a[i], b[j])
        a, b = inputs
        return ufunc(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b, **kwargs)
    elif method == "at":
        return write_plain(f"numpy.{ufunc.__name__}.at", ufunc.at, inputs, kwargs)
    name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
    if getattr(np, ufunc.__name__, None) is ufunc:
        name = f"numpy.{name}"
    else:  # scipy.special's ufuncs reach calcml the same way
        name = f"{name} (a ufunc from outside NumPy; write it with NumPy functions or as a cm.primitive)"
    raise NoRuleError(no_rule_message(name, inputs))


def _ufunc_keywords(ufunc: np.ufunc, inputs: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``dtype=d`` becomes a cast of the inputs (NumPy computes in d); ``where=`` (it leaves entries unset
    unless ``out=`` is given), ``casting=``, ``order=``, ``subok=`` and ``signature=`` are refused; the
    rest (a gufunc's ``axis=``) is passed on."""
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    if kwargs.get("where", True) is True:
        kwargs.pop("where", None)
    refused = sorted(set(kwargs) & {"where", "casting", "order", "subok", "signature"})
    if refused:
        raise NoRuleError(
            f"numpy.{ufunc.__name__}(..., {'=..., '.join(refused)}=...) has no rule on Tensors.\n"
            f"  arguments: {', '.join(describe(a) for a in inputs)}\n"
            f"  instead: call numpy.{ufunc.__name__} without it; for where=, pick entries afterwards with "
            "np.where(mask, result, fallback)."
        )
    if dtype is not None:
        inputs = tuple(np.astype(a, dtype) if type(a) is Tensor else np.asarray(a, dtype=dtype) for a in inputs)
    return inputs, kwargs


def dispatch_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    """Handle a NumPy function (``np.sum``, ``np.concatenate`` ...) called with a Tensor argument."""
    handler = FUNCTIONS.get(func)
    if type(handler) is Primitive and not kwargs:
        return apply(handler, args, kwargs)
    if handler is not None:
        if kwargs.get("out") is not None:
            raise InPlaceError(f"numpy.{func.__name__}(..., out=...) would write around the graph; "
                               "use the returned value instead.")
        return handler(*args, **kwargs)
    if func in PIECEWISE_CONSTANT_FUNCTIONS:
        if STATE.vmap_tracers:
            return STATE.vmap_tracers[-1].piecewise(func, args, kwargs, unwrapped)
        return func(*plain(args), **plain(kwargs))
    if func in WRITERS:
        return write_plain(f"numpy.{func.__name__}", func, args, kwargs)
    raise NoRuleError(no_rule_message(f"{_public_module(func)}.{func.__name__}", args))


def supported_functions() -> list[str]:
    """Names of the NumPy functions and ufuncs calcml can differentiate."""
    names = {f"numpy.{u.__name__}" for u in UFUNCS}
    names |= {f"{_public_module(f)}.{f.__name__}" for f in FUNCTIONS}
    return sorted(names)


def _library_entry() -> str | None:
    """The NumPy/SciPy function the user's code called, when the unsupported one runs inside it (np.poly1d
    calls np.trim_zeros): the outermost library frame below the first frame of other code."""
    frame = sys._getframe(2)
    entry = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] in ("numpy", "scipy"):
            entry = _public_name(module, frame.f_code.co_qualname.removesuffix(".__init__"))
        elif entry is not None or not module.startswith("calcml"):
            break
        frame = frame.f_back
    return entry


def _public_name(module: str, qualname: str) -> str:
    """Where a user finds ``qualname`` of ``module``: ``numpy.poly1d`` for ``numpy.lib._polynomial_impl``'s
    ``poly1d``, else the module path up to its first private part."""
    top = module.split(".")[0]
    if hasattr(sys.modules.get(top), qualname.split(".")[0]):
        return f"{top}.{qualname}"
    parts = module.split(".")
    public = parts[:next((i for i, part in enumerate(parts) if part.startswith("_")), len(parts))]
    return ".".join(public + [qualname])


def _public_module(func: Callable) -> str:
    """``numpy`` or ``numpy.linalg``: where a user finds the function (not NumPy's private modules)."""
    parts = (getattr(func, "__module__", None) or "numpy").split(".")
    public = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join(public)


def no_rule_message(name: str, args: tuple) -> str:
    shown = ", ".join(describe(a) for a in args)
    supported = ", ".join(n.removeprefix("numpy.") for n in supported_functions())
    entry = _library_entry()
    reached = f" (reached from {entry}, which you called)" if entry and not entry.endswith(name) else ""
    return (
        f"calcml cannot differentiate {name}{reached}: it has no rule yet.\n"
        f"  called with: {shown}\n"
        f"  supported: {supported}\n"
        "  to add one: see `cm.primitive` in the README (\"Your own primitive\")."
    )
