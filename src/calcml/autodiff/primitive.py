"""Primitives: the operations the engine knows how to differentiate, and ``apply``, the hot path.

A primitive is a NumPy forward function that carries its own rules. There is one way to declare
them: the primitive's ``def…`` methods, called beside the forward function.

    @primitive(formula=Formula("d/dx tanh x = 1 − tanh² x", partials=("1 − tanh² {0}",)))
    def tanh(x):
        "Hyperbolic tangent."
        return np.tanh(x)

    tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))
    tanh.defjvp(lambda t, ans, x: t * (1 - ans * ans))

``defvjp``, ``defjvp``  one rule per argument, in order (above).
``defpartials``         an elementwise f from its local partials ∂f/∂x_i(ans, *args), both modes at once:
                        x̄_i = ḡ · ∂f/∂x_i and ṫ_out = Σ_i ∂f/∂x_i · ṫ_i.  The tanh above in one line:
                        ``tanh.defpartials(lambda ans, x: 1 - ans * ans)``.
``defvjp_argnum``       one VJP rule ``rule(argnum, g, ans, *args)`` for every argument of a variadic
                        primitive (concatenate, einsum, custom_vjp, checkpoint).
``defjvp_all``          one JVP rule ``rule(tangents, ans, *args)`` over the tangents of all arguments
                        (``None`` where an argument carries none).
``defvmap``             the batched call, for ``cm.vmap``.

Nothing else sets a rule: the engine reads what these methods stored.

The ``Formula`` is how ``cm.trace(...).explain()`` writes the chain rule at a tanh node.

VJP rules ``vjp(g, ans, *args, **kwargs)`` return ∂L/∂arg given g = ∂L/∂ans. They are written with
NumPy calls, so they run on plain arrays when speed matters and on Tensors (traced, differentiable
again) when a higher derivative is wanted.

JVP rules ``jvp(t, ans, *args, **kwargs)`` return the tangent of ``ans`` given the tangent ``t`` of
one argument. Tangents carry a leading batch axis: ``t.shape == (B, *arg.shape)``, so one forward
pass pushes B directions at once (a whole Jacobian). For primitives that broadcast their arguments
the engine first aligns ``t`` to the output's rank, so elementwise rules need not think about it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.errors import AnomalyError, CalcmlError, OperationError, describe
from calcml.autodiff.formula import Formula
from calcml.autodiff.forward import push_tangent
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import CREATION_ORDER, Node, Tensor, new_node

REGISTRY: dict[str, Primitive] = {}
ADD_ALL = np.add.reduce  # Σ over every axis, without np.sum's dispatch
NO_OPTIONS: dict[str, Any] = {}  # the keyword arguments of an operator call (t + u): shared, never written to


class Primitive:
    """A differentiable operation: forward, VJP per argument and JVP per argument, side by side.

    ``formula`` says how its derivative reads in explanations; ``derivative="rule"`` is short for
    ``formula=Formula("rule")``. Without either, explanations show the numbers but no rule.

    The rules are declared with the ``def…`` methods, each returning the primitive; the engine reads
    ``vjps``/``jvps`` (argument → rule) and ``_vjp_argnum``/``_jvp_all`` (the variadic rules).
    """

    def __init__(self, forward: Callable, name: str | None = None, broadcasts: bool = False,
                 derivative: str = "", formula: Formula | None = None):
        self.forward = forward
        self.name = name or forward.__name__.rstrip("_")
        self.broadcasts = broadcasts  # elementwise with NumPy broadcasting: gradients are un-broadcast
        self.formula = formula or (Formula(derivative) if derivative else None)
        self.vjps: dict[int, Callable] = {}
        self.jvps: dict[int, Callable] = {}
        self._vjp_argnum: Callable | None = None  # set by defvjp_argnum
        self._jvp_all: Callable | None = None  # set by defjvp_all; read by forward.push_tangent
        self.vmap_rule: Callable | None = None  # (fn, args, kwargs, size): the batched call, for cm.vmap
        self.__doc__ = forward.__doc__
        REGISTRY[self.name] = self

    def defvjp(self, *rules: Callable | None, argnums: tuple[int, ...] | None = None) -> Primitive:
        """Declare the VJP rule ``rule(g, ans, *args) -> x̄_i`` of each argument, in order (``None`` for a
        non-differentiable one)."""
        for argnum, rule in zip(argnums or range(len(rules)), rules):
            if rule is not None:
                self.vjps[argnum] = rule
        return self

    def defjvp(self, *rules: Callable | None, argnums: tuple[int, ...] | None = None) -> Primitive:
        """Declare the JVP rule ``rule(t, ans, *args) -> ṫ_out`` of each argument, in order (``None`` for a
        non-differentiable one)."""
        for argnum, rule in zip(argnums or range(len(rules)), rules):
            if rule is not None:
                self.jvps[argnum] = rule
        return self

    def defpartials(self, *partials: Callable, singular: bool | Callable = False) -> Primitive:
        """Declare both modes of an elementwise primitive from its local partials ``∂f/∂x_i(ans, *args)``.

        The Jacobian of an elementwise f is diagonal, so each mode multiplies by the same partial:
        VJP  x̄_i = ḡ · ∂f/∂x_i  and  JVP  ṫ_out = Σ_i ∂f/∂x_i · ṫ_i.  ``singular=True`` for partials that
        can be infinite or undefined at the edge of the domain, or a test ``(ans, *args) -> bool`` that says
        when they can be (see ``zero_where_unused``).

        >>> cube = cm.primitive(lambda x: x ** 3, name="cube", derivative="d/dx x³ = 3x²")
        >>> cube.defpartials(lambda ans, x: 3 * x * x)
        <primitive cube>
        >>> cm.grad(lambda x: np.sum(cube(x)))(np.array([1.0, 2.0]))
        array([ 3., 12.])
        """
        for i, partial in enumerate(partials):
            vjp = lambda g, ans, *args, _d=partial: g * _d(ans, *args)  # noqa: E731
            jvp = lambda t, ans, *args, _d=partial: t * _d(ans, *args)  # noqa: E731
            if singular:
                test = singular if callable(singular) else None
                vjp, jvp = zero_where_unused(vjp, test), zero_where_unused(jvp, test)
            self.vjps[i], self.jvps[i] = vjp, jvp
        return self

    def defvjp_argnum(self, rule: Callable) -> Primitive:
        """Declare one VJP rule ``rule(argnum, g, ans, *args) -> x̄_argnum`` for every argument (a primitive
        with any number of them: concatenate, einsum, a custom function)."""
        self._vjp_argnum = rule
        return self

    def defjvp_all(self, rule: Callable) -> Primitive:
        """Declare one JVP rule ``rule(tangents, ans, *args) -> ṫ_out`` over all arguments at once, with
        ``tangents[i]`` None where argument i carries no tangent; it replaces the per-argument rules."""
        self._jvp_all = rule
        return self

    def defvmap(self, rule: Callable) -> Primitive:
        """Declare how ``cm.vmap`` runs this primitive on a batch: ``rule(prim, args, kwargs, size)``."""
        self.vmap_rule = rule
        return self

    @property
    def derivative(self) -> str:
        """The derivative rule in words (``formula.rule``), or "" when none was declared."""
        return self.formula.rule if self.formula is not None else ""

    def vjp_rule(self, argnum: int) -> Callable:
        """The VJP rule for argument ``argnum``: ``rule(g, ans, *args) -> ḡ_argnum``."""
        rule = self.vjps.get(argnum)
        if rule is not None:
            return rule
        if self._vjp_argnum is not None:
            return lambda g, ans, *args, **kwargs: self._vjp_argnum(argnum, g, ans, *args, **kwargs)
        raise OperationError(
            f"'{self.name}' has no gradient with respect to its argument {argnum}.\n"
            "  that argument is treated as a constant by this primitive: pass it as a plain array, "
            "or define its rule with defvjp."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return apply(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def zero_where_unused(rule: Callable, may_be_singular: Callable | None = None) -> Callable:
    """A VJP or JVP rule made exact where its local derivative is infinite or undefined (√x at x ≤ 0, ln x at
    x ≤ 0, x/y at y = 0): where the incoming ḡ (or ṫ) is 0 the result is 0, not 0·∞ = NaN.

    ḡ = 0 where the output is not used — the untaken branch of ``np.where(x > 0, np.sqrt(x), 0)`` — and
    ṫ = 0 off the diagonal of a Jacobian; the true contribution is then 0. (JAX and PyTorch give NaN.)
    ``may_be_singular(ans, *args)``, when given, is a cheap test on the arguments (x / 3, x ** 2 are never
    singular) that lets the rule skip the check of its result.

    >>> cm.grad(lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0)))(np.array([-1.0, 4.0]))
    array([0.  , 0.25])
    """
    def guarded(g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        product = rule(g, ans, *args, **kwargs)
        if may_be_singular is not None and not may_be_singular(ans, *args):
            return product
        # A finite sum means finite entries (an overflowing sum only costs the masks below). Under vmap the
        # record must not depend on one example's values, so the masks are always recorded there.
        values = product.value if type(product) is Tensor else product
        if not STATE.vmap_tracers and math.isfinite(ADD_ALL(values, None)):
            return product
        # Plain masks: the derivative in g is kept where the product is finite (x³'s third derivative needs
        # it where a seed is 0); only 0 · ∞ and 0 · NaN become 0.
        unused = (g == 0) & ~np.isfinite(product)
        return np.where(unused, 0, product)

    return guarded


def primitive(forward: Callable | None = None, *, name: str | None = None, broadcasts: bool = False,
              derivative: str = "", formula: Formula | None = None) -> Any:
    """Make a NumPy function a calcml primitive; then declare its rules with ``defvjp``/``defjvp``.

    Use it to teach the engine an operation it lacks (like JAX's ``custom_vjp``); ``derivative=`` (or a
    ``Formula``) is the rule that ``cm.trace(...).explain()`` shows at its nodes:

    >>> @cm.primitive(derivative="d/dx softclip(x) = 1 / (1 + |x|)²")
    ... def softclip(x):
    ...     "softclip(x) = x / (1 + |x|)"
    ...     return x / (1 + np.abs(x))
    >>> softclip.defvjp(lambda g, ans, x: g / (1 + np.abs(x)) ** 2)
    <primitive softclip>
    >>> softclip.defjvp(lambda t, ans, x: t / (1 + np.abs(x)) ** 2)
    <primitive softclip>
    >>> cm.grad(lambda x: np.sum(softclip(x)))(np.array([0.0, 1.0]))
    array([1.  , 0.25])
    """
    if forward is None:
        return lambda f: Primitive(f, name=name, broadcasts=broadcasts, derivative=derivative, formula=formula)
    return Primitive(forward, name=name, broadcasts=broadcasts, derivative=derivative, formula=formula)


def apply(prim: Primitive, args: tuple, kwargs: dict) -> Any:
    """Run ``prim`` on ``args``; record a graph node and push tangents when an input calls for it.

    The hot path of the engine: it unwraps Tensors once, calls NumPy once, and does nothing else
    when no input requires a gradient or carries a tangent.
    """
    values = []
    parents = []
    tangent_args = tensor_args = False
    i = 0
    for arg in args:
        if type(arg) is Tensor:
            tensor_args = True
            values.append(arg.value)
            if arg.requires_grad:
                parents.append(i)
            if arg.tangent is not None:
                tangent_args = True
        else:
            values.append(arg)
        i += 1
    state = STATE
    if state.watching:
        ans = _forward_watched(prim, args, values, kwargs, state)
    else:
        try:
            ans = prim.forward(*values, **kwargs)
        except CalcmlError:
            raise  # already says what, where and what to do
        except Exception as error:
            raise _forward_error(prim, args, kwargs, error) from error
    if not tensor_args:  # plain arrays in, a plain array out: like NumPy, nothing to trace
        return ans
    if type(ans) is not np.ndarray and not isinstance(ans, np.ndarray):  # subclasses kept (vmap's examples)
        ans = np.asarray(ans)
    out = new_tensor(Tensor)
    if ans.base is not None:  # a view (a slice, a reshape): its memory may be another Tensor's
        note_shared_memory(ans, args, out)
    out.value = ans
    out.grad = out.tangent = out.name = None
    out.seq = next(CREATION_ORDER)
    out.modified_at = 0
    if tangent_args and state.tangents_stopped:  # inside no_grad: a constant in forward mode too
        tangent_args = False
    if parents and state.recording:
        if ans.dtype.kind == "c":
            raise _complex_error(prim, args)
        out.requires_grad = True
        out.node = new_node(Node, (prim, args, values, kwargs, parents))
    else:
        out.requires_grad = False
        out.node = None
    if tangent_args:
        if ans.dtype.kind == "c":
            raise _complex_error(prim, args)
        if state.vmap_tracers:  # the replay computes the tangents again: what this rule reads is not a taint
            out.tangent = state.vmap_tracers[-1].run_rule(push_tangent, prim, ans, args, values, kwargs)
        else:
            out.tangent = push_tangent(prim, ans, args, values, kwargs)
    if state.watching:
        if state.detect_anomaly:
            check_finite(ans, prim, args, "forward")
        if state.recorder is not None:
            state.recorder.append(out)
        for tracer in reversed(state.vmap_tracers):  # the innermost vmap whose example it involves
            if tracer.record(prim, args, kwargs, out):
                break
    return out


new_tensor = object.__new__  # a Tensor without __init__: apply sets every slot itself


def note_shared_memory(view: np.ndarray, args: tuple, out: Tensor) -> None:
    """Mark ``out`` and the arguments whose memory its array ``view`` shares: an in-place update of either
    would change the other in NumPy, which the graph cannot follow (``Tensor._snapshot`` refuses it)."""
    root = view.base
    for arg in args:
        if type(arg) is Tensor and (arg.value is root or arg.value.base is root):
            arg.shares_memory = out.shares_memory = True


def _forward_watched(prim: Primitive, args: tuple, values: list, kwargs: dict, state: Any) -> Any:
    """The forward call while cm.vmap records (options may hold recorded Tensors, such as where= masks,
    and the forward may read the example's values: it is itself recorded), or under anomaly detection."""
    tracing = state.vmap_tracers
    try:
        if tracing:
            options = {k: v.value if type(v) is Tensor else v for k, v in kwargs.items()} if kwargs else kwargs
            return tracing[-1].run_forward(prim.forward, values, options)
        return prim.forward(*values, **kwargs)
    except CalcmlError:
        raise
    except Exception as error:
        raise _forward_error(prim, args, kwargs, error) from error


def check_finite(value: Any, prim: Primitive, args: tuple, where: str) -> None:
    """Raise AnomalyError when ``value`` has a NaN or infinity (used under ``detect_anomaly``)."""
    array = np.asarray(value.value if isinstance(value, Tensor) else value)
    if np.issubdtype(array.dtype, np.inexact) and not np.all(np.isfinite(array)):
        kind = "NaN" if np.any(np.isnan(array)) else "an infinite value"
        shapes = ", ".join(describe(a) for a in args)
        raise AnomalyError(
            f"detect_anomaly: the {where} pass of '{prim.name}' produced {kind}.\n"
            f"  inputs: {shapes}\n"
            f"  rule: {prim.derivative or prim.name}\n"
            "  look at the inputs of this op: a log or division at 0, an overflowing exp, or a "
            "learning rate that is too large are the usual causes."
        )


def _complex_error(prim: Primitive, args: tuple) -> Exception:
    from calcml.autodiff.errors import UnsupportedTransformError

    shapes = ", ".join(describe(a) for a in args)
    return UnsupportedTransformError(
        f"'{prim.name}' produced complex numbers from a traced input ({shapes}); calcml differentiates "
        "real-valued computations only, and would otherwise silently drop imaginary parts.\n"
        "  write the complex arithmetic with separate real and imaginary arrays "
        "(as calcml.apps.quantum does)."
    )


def _forward_error(prim: Primitive, args: tuple, kwargs: dict, error: Exception) -> Exception:
    shapes = ", ".join(describe(a) for a in args)
    options = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    cls = OperationError
    if isinstance(error, IndexError):
        from calcml.autodiff.errors import IndexOutOfRangeError

        cls = IndexOutOfRangeError
    elif "shape" in str(error) or "broadcast" in str(error) or "dimension" in str(error):
        from calcml.autodiff.errors import ShapeError

        cls = ShapeError
    return cls(
        f"'{prim.name}' failed on ({shapes}{options}): {error}\n"
        "  check the shapes and options above; NumPy's own message is quoted after the colon."
    )
