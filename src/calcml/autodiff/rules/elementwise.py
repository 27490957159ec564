"""Elementwise primitives: arithmetic, powers, exponentials, logarithms, trigonometric and hyperbolic
functions, maximum/minimum, clip and where.

For an elementwise f the Jacobian is diagonal, so both modes multiply by the same local derivative:
VJP  ∂L/∂x = g · f'(x)  and  JVP  ṫ_out = f'(x) · ṫ.  ``derivatives(prim, f')`` declares both from f'.
Broadcasting between arguments is undone by the engine (``unbroadcast``), not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from calcml.autodiff.dispatch import implements
from calcml.autodiff.primitive import Primitive, primitive
from calcml.autodiff.tensor import Tensor

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def derivatives(prim: Primitive, *partials: Callable) -> None:
    """Declare VJP and JVP from the partial derivatives ∂f/∂arg_i(ans, *args), one per argument."""
    for i, partial in enumerate(partials):
        prim.vjps[i] = lambda g, ans, *args, _d=partial: g * _d(ans, *args)
        prim.jvps[i] = lambda t, ans, *args, _d=partial: t * _d(ans, *args)


def elementwise(ufunc: np.ufunc, derivative: str) -> Primitive:
    """A primitive that computes ``ufunc`` and answers for it when NumPy is called on a Tensor."""
    prim = Primitive(ufunc, name=ufunc.__name__, broadcasts=True, derivative=derivative)
    implements(ufunc, prim)
    return prim


# ---- arithmetic --------------------------------------------------------------------------------
add = elementwise(np.add, "∂(x+y)/∂x = 1, ∂(x+y)/∂y = 1")
add.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: g)
add.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: t)

subtract = elementwise(np.subtract, "∂(x−y)/∂x = 1, ∂(x−y)/∂y = −1")
subtract.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
subtract.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: -t)

multiply = elementwise(np.multiply, "∂(xy)/∂x = y, ∂(xy)/∂y = x (product rule)")
derivatives(multiply, lambda ans, x, y: y, lambda ans, x, y: x)

divide = elementwise(np.divide, "∂(x/y)/∂x = 1/y, ∂(x/y)/∂y = −x/y² (quotient rule)")
divide.defvjp(lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y)
divide.defjvp(lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y)

negative = elementwise(np.negative, "d/dx (−x) = −1")
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)

positive = elementwise(np.positive, "d/dx (+x) = 1")
positive.defvjp(lambda g, ans, x: g)
positive.defjvp(lambda t, ans, x: t)


def _log_of_base(ans, x, y):
    """∂(x^y)/∂y = x^y · ln x, taken as 0 where x ≤ 0 (there x^y is real only for integer y)."""
    positive_base = x > 0
    return np.where(positive_base, ans * np.log(np.where(positive_base, x, 1.0)), 0.0)


power = elementwise(np.power, "∂(x^y)/∂x = y·x^(y−1), ∂(x^y)/∂y = x^y·ln x (power rule)")
derivatives(power, lambda ans, x, y: y * x ** (y - 1), _log_of_base)
implements(np.float_power, power)

square = elementwise(np.square, "d/dx x² = 2x")
derivatives(square, lambda ans, x: 2 * x)

sqrt = elementwise(np.sqrt, "d/dx √x = 1/(2√x)")
sqrt.defvjp(lambda g, ans, x: g / (2 * ans))
sqrt.defjvp(lambda t, ans, x: t / (2 * ans))

cbrt = elementwise(np.cbrt, "d/dx ∛x = 1/(3∛x²)")
cbrt.defvjp(lambda g, ans, x: g / (3 * ans * ans))
cbrt.defjvp(lambda t, ans, x: t / (3 * ans * ans))

reciprocal = elementwise(np.reciprocal, "d/dx 1/x = −1/x²")
derivatives(reciprocal, lambda ans, x: -ans * ans)

absolute = elementwise(np.absolute, "d/dx |x| = sign(x), with |x|'(0) = 0 by convention")
derivatives(absolute, lambda ans, x: np.sign(x))
implements(np.fabs, absolute)

# ---- exponentials and logarithms ----------------------------------------------------------------
exp = elementwise(np.exp, "d/dx eˣ = eˣ")
derivatives(exp, lambda ans, x: ans)

exp2 = elementwise(np.exp2, "d/dx 2ˣ = 2ˣ ln 2")
derivatives(exp2, lambda ans, x: ans * LN2)

expm1 = elementwise(np.expm1, "d/dx (eˣ − 1) = eˣ")
derivatives(expm1, lambda ans, x: ans + 1)

log = elementwise(np.log, "d/dx ln x = 1/x")
log.defvjp(lambda g, ans, x: g / x)
log.defjvp(lambda t, ans, x: t / x)

log2 = elementwise(np.log2, "d/dx log₂ x = 1/(x ln 2)")
log2.defvjp(lambda g, ans, x: g / (x * LN2))
log2.defjvp(lambda t, ans, x: t / (x * LN2))

log10 = elementwise(np.log10, "d/dx log₁₀ x = 1/(x ln 10)")
log10.defvjp(lambda g, ans, x: g / (x * LN10))
log10.defjvp(lambda t, ans, x: t / (x * LN10))

log1p = elementwise(np.log1p, "d/dx ln(1 + x) = 1/(1 + x)")
log1p.defvjp(lambda g, ans, x: g / (1 + x))
log1p.defjvp(lambda t, ans, x: t / (1 + x))

logaddexp = elementwise(np.logaddexp, "∂/∂x ln(eˣ + eʸ) = eˣ/(eˣ + eʸ) = e^(x − ans)")
derivatives(logaddexp, lambda ans, x, y: np.exp(x - ans), lambda ans, x, y: np.exp(y - ans))

# ---- trigonometric ------------------------------------------------------------------------------
sin = elementwise(np.sin, "d/dx sin x = cos x")
derivatives(sin, lambda ans, x: np.cos(x))

cos = elementwise(np.cos, "d/dx cos x = −sin x")
derivatives(cos, lambda ans, x: -np.sin(x))

tan = elementwise(np.tan, "d/dx tan x = 1 + tan² x")
derivatives(tan, lambda ans, x: 1 + ans * ans)

arcsin = elementwise(np.arcsin, "d/dx arcsin x = 1/√(1 − x²)")
derivatives(arcsin, lambda ans, x: 1 / np.sqrt(1 - x * x))

arccos = elementwise(np.arccos, "d/dx arccos x = −1/√(1 − x²)")
derivatives(arccos, lambda ans, x: -1 / np.sqrt(1 - x * x))

arctan = elementwise(np.arctan, "d/dx arctan x = 1/(1 + x²)")
derivatives(arctan, lambda ans, x: 1 / (1 + x * x))

arctan2 = elementwise(np.arctan2, "∂/∂y atan2(y, x) = x/(x² + y²), ∂/∂x atan2(y, x) = −y/(x² + y²)")
derivatives(arctan2, lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y))

hypot = elementwise(np.hypot, "∂/∂x √(x² + y²) = x/√(x² + y²)")
derivatives(hypot, lambda ans, x, y: x / ans, lambda ans, x, y: y / ans)

# ---- hyperbolic ---------------------------------------------------------------------------------
sinh = elementwise(np.sinh, "d/dx sinh x = cosh x")
derivatives(sinh, lambda ans, x: np.cosh(x))

cosh = elementwise(np.cosh, "d/dx cosh x = sinh x")
derivatives(cosh, lambda ans, x: np.sinh(x))

tanh = elementwise(np.tanh, "d/dx tanh x = 1 − tanh² x")
derivatives(tanh, lambda ans, x: 1 - ans * ans)

arcsinh = elementwise(np.arcsinh, "d/dx arsinh x = 1/√(x² + 1)")
derivatives(arcsinh, lambda ans, x: 1 / np.sqrt(x * x + 1))

arccosh = elementwise(np.arccosh, "d/dx arcosh x = 1/√(x² − 1)")
derivatives(arccosh, lambda ans, x: 1 / np.sqrt(x * x - 1))

arctanh = elementwise(np.arctanh, "d/dx artanh x = 1/(1 − x²)")
derivatives(arctanh, lambda ans, x: 1 / (1 - x * x))


# ---- maximum and minimum ------------------------------------------------------------------------
def _larger(ans, x, y):
    """1 where x wins, ½ on ties between two traced values (PyTorch's torch.maximum convention)."""
    return np.where(x == y, 0.5, x > y)


def _smaller(ans, x, y):
    return np.where(x == y, 0.5, x < y)


maximum = Primitive(np.maximum, name="maximum", broadcasts=True,
                    derivative="∂ max(x, y)/∂x = 1 where x > y, ½ where x = y, else 0")
derivatives(maximum, _larger, lambda ans, x, y: _larger(ans, y, x))

minimum = Primitive(np.minimum, name="minimum", broadcasts=True,
                    derivative="∂ min(x, y)/∂x = 1 where x < y, ½ where x = y, else 0")
derivatives(minimum, _smaller, lambda ans, x, y: _smaller(ans, y, x))

maximum_with_constant = Primitive(
    np.maximum, name="maximum", broadcasts=True,
    derivative="∂ max(x, c)/∂x = 1 where x > c, else 0 — so np.maximum(0, x) is ReLU with ReLU'(0) = 0",
)
derivatives(maximum_with_constant, lambda ans, x, y: x > y, lambda ans, x, y: y > x)

minimum_with_constant = Primitive(
    np.minimum, name="minimum", broadcasts=True,
    derivative="∂ min(x, c)/∂x = 1 where x < c, else 0 (the kink belongs to the constant)",
)
derivatives(minimum_with_constant, lambda ans, x, y: x < y, lambda ans, x, y: y < x)


def _is_traced(value) -> bool:
    return type(value) is Tensor and (value.requires_grad or value.tangent is not None)


def _choose_maximum(x, y, **kwargs):
    """np.maximum on Tensors: ties are split ½/½ between two traced values, but go to a constant."""
    both = _is_traced(x) and _is_traced(y)
    return (maximum if both else maximum_with_constant)(x, y, **kwargs)


def _choose_minimum(x, y, **kwargs):
    both = _is_traced(x) and _is_traced(y)
    return (minimum if both else minimum_with_constant)(x, y, **kwargs)


implements(np.maximum, _choose_maximum)
implements(np.minimum, _choose_minimum)
implements(np.fmax, _choose_maximum)
implements(np.fmin, _choose_minimum)


# ---- clip and where -----------------------------------------------------------------------------
def _inside(x, low, high):
    """1 where low ≤ x ≤ high (bounds inclusive, as torch.clamp), else 0; None means unbounded."""
    mask = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        mask = mask & (x >= low)
    if high is not None:
        mask = mask & (x <= high)
    return mask


@primitive(broadcasts=True)
def clip(x, low=None, high=None):
    """clip(x, low, high) = min(max(x, low), high).  d/dx = 1 inside [low, high], 0 outside."""
    return np.clip(x, low, high)


derivatives(
    clip,
    lambda ans, x, low, high: _inside(x, low, high),
    lambda ans, x, low, high: x < low,
    lambda ans, x, low, high: x > high,
)


def _numpy_clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    low = a_min if a_min is not None else min
    high = a_max if a_max is not None else max
    return clip(a, low, high)


implements(np.clip, _numpy_clip)


@primitive(broadcasts=True)
def where(condition, x, y):
    """where(c, x, y) picks x where c holds, else y.  ∂/∂x = c, ∂/∂y = 1 − c (c is not differentiated)."""
    return np.where(condition, x, y)


where.defvjp(None, lambda g, ans, c, x, y: np.where(c, g, 0.0), lambda g, ans, c, x, y: np.where(c, 0.0, g))
where.defjvp(None, lambda t, ans, c, x, y: np.where(c, t, 0.0), lambda t, ans, c, x, y: np.where(c, 0.0, t))


def _numpy_where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(condition.value if type(condition) is Tensor else condition)
    if type(condition) is Tensor:
        condition = condition.value
    return where(condition, x, y)


implements(np.where, _numpy_where)


def _numpy_select(condlist, choicelist, default=0):
    """np.select as nested ``where``: the first condition that holds picks its choice, else ``default``.
    The gradient flows to the chosen branch only (conditions are not differentiated)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions but {len(choicelist)} choices; give one each.")
    result = default
    for condition, choice in zip(reversed(condlist), reversed(choicelist)):
        result = _numpy_where(condition, choice, result)
    return result


implements(np.select, _numpy_select)
