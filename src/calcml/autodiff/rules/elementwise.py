"""Elementwise primitives: arithmetic, remainders, powers, signs, exponentials, logarithms, trigonometric
and hyperbolic functions, sinc, maximum/minimum (and the NaN-ignoring fmax/fmin), clip, where, select,
nan_to_num, full_like, real/imag.

For an elementwise f the Jacobian is diagonal, so both modes multiply by the same local derivative:
VJP  ∂L/∂x = g · f'(x)  and  JVP  ṫ_out = f'(x) · ṫ.  ``prim.defpartials(f')`` declares both from f'.
Each primitive's ``Formula`` writes f' with the operands ``{0}``, ``{1}`` for ``cm.trace(...).explain()``.
Broadcasting between arguments is undone by the engine (``unbroadcast``), not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from calcml.autodiff.dispatch import implements, plain
from calcml.autodiff.errors import UnsupportedTransformError, describe
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import Primitive, apply, primitive, zero_where_unused
from calcml.autodiff.tensor import Tensor

LN2 = math.log(2.0)
LN10 = math.log(10.0)
RADIANS_PER_DEGREE = math.pi / 180.0


def _no_gradient(g, ans, *args):
    """A partial derivative that is 0 wherever it exists (a step, a sign): zeros, not g·0 (which is NaN at g = ∞)."""
    return np.zeros_like(g)


def elementwise(ufunc: np.ufunc, formula: Formula) -> Primitive:
    """A primitive that computes ``ufunc`` and answers for it when NumPy is called on a Tensor."""
    prim = Primitive(ufunc, name=ufunc.__name__, broadcasts=True, formula=formula)
    implements(ufunc, prim)
    return prim


# ---- arithmetic --------------------------------------------------------------------------------
add = elementwise(np.add, Formula("∂(x+y)/∂x = 1, ∂(x+y)/∂y = 1", ("1", "1"), infix="{0} + {1}"))
add.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: g)
add.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: t)

subtract = elementwise(np.subtract, Formula("∂(x−y)/∂x = 1, ∂(x−y)/∂y = −1", ("1", "−1"), infix="{0} − {1}"))
subtract.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
subtract.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: -t)

multiply = elementwise(np.multiply, Formula("∂(xy)/∂x = y, ∂(xy)/∂y = x (product rule)", ("{1}", "{0}"),
                                            infix="{0} · {1}"))
multiply.defpartials(lambda ans, x, y: y, lambda ans, x, y: x)

divide = elementwise(np.divide, Formula("∂(x/y)/∂x = 1/y, ∂(x/y)/∂y = −x/y² (quotient rule)", ("1/{1}", "−{0}/{1}²"),
                                        infix="{0} / {1}"))
def _divisor_may_vanish(ans, x, y) -> bool:
    """1/y is finite for a nonzero Python number (x / n, the mean of n numbers): no check needed then."""
    return not (type(y) in (int, float) and y != 0)


divide.defvjp(zero_where_unused(lambda g, ans, x, y: g / y, _divisor_may_vanish),
              zero_where_unused(lambda g, ans, x, y: -g * ans / y, _divisor_may_vanish))
divide.defjvp(zero_where_unused(lambda t, ans, x, y: t / y, _divisor_may_vanish),
              zero_where_unused(lambda t, ans, x, y: -t * ans / y, _divisor_may_vanish))

negative = elementwise(np.negative, Formula("d/dx (−x) = −1", ("−1",), infix="−{0}"))
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)

positive = elementwise(np.positive, Formula("d/dx (+x) = 1", ("1",)))
positive.defvjp(lambda g, ans, x: g)
positive.defjvp(lambda t, ans, x: t)

conjugate = elementwise(np.conjugate, Formula("conj x = x for real x: d/dx = 1 (complex values are refused)", ("1",)))
conjugate.defvjp(lambda g, ans, x: g)
conjugate.defjvp(lambda t, ans, x: t)


# ---- remainders and rounding division ------------------------------------------------------------
def _whole_quotient(ans, x, y):
    """n = (x − r)/y: how many y's the remainder r = x − n·y took away (rounded, since it is a whole number)."""
    return np.round((x - ans) / y)


remainder = elementwise(np.remainder, Formula("x mod y = x − ⌊x/y⌋·y: ∂/∂x = 1, ∂/∂y = −⌊x/y⌋ (between the jumps)",
                                              ("1", "−⌊{0}/{1}⌋")))
remainder.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: -g * _whole_quotient(ans, x, y))
remainder.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: -t * _whole_quotient(ans, x, y))

fmod = elementwise(np.fmod, Formula("fmod(x, y) = x − trunc(x/y)·y: ∂/∂x = 1, ∂/∂y = −trunc(x/y) (between the jumps)",
                                    ("1", "−trunc({0}/{1})")))
fmod.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: -g * _whole_quotient(ans, x, y))
fmod.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: -t * _whole_quotient(ans, x, y))


def _numpy_divmod(x, y):
    """divmod(x, y) = (⌊x/y⌋, x mod y): a piecewise-constant quotient and a differentiable remainder."""
    return np.floor_divide(x, y), np.remainder(x, y)


implements(np.divmod, _numpy_divmod)


# ---- powers and roots ----------------------------------------------------------------------------
def _power_base_slope(ans, x, y):
    """∂(x^y)/∂x = y·x^(y−1), and 0 where y = 0: x⁰ = 1 is constant, also at x = 0 (0·0⁻¹ would be NaN)."""
    if isinstance(y, (int, float)):  # x ** 2 and friends: no mask needed
        if y == 2:
            return 2 * x
        return y * x ** (y - 1) if y != 0 else np.zeros_like(x)
    base = np.where((y == 0) & (x == 0), 1.0, x)  # there y·1^(y−1) = 0, and no 0⁻¹ even in higher derivatives
    return y * base ** (y - 1)


def _power_exponent_slope(ans, x, y):
    """∂(x^y)/∂y = x^y·ln x: 0 where x = 0 and y ≥ 0, NaN where x < 0 (x^y is not smooth in y there),
    both as PyTorch."""
    base = np.where((x == 0) & (y >= 0), 1.0, x)
    with np.errstate(invalid="ignore", divide="ignore"):  # ln x is NaN for x < 0 and −∞ at 0
        return ans * np.log(base)


POWER_PARTIALS = ("{1}·{0}^({1}−1)", "{0}^{1}·ln {0}")
power = elementwise(np.power, Formula("∂(x^y)/∂x = y·x^(y−1), ∂(x^y)/∂y = x^y·ln x (power rule)", POWER_PARTIALS,
                                      infix="{0}^{1}"))

def _power_may_be_singular(ans, x, y) -> bool:
    """x^y's slopes are finite for a Python integer exponent y ≥ 1 (x², x⁴: the usual case); else checked."""
    return not (type(y) is int and y >= 1)


power.defpartials(_power_base_slope, _power_exponent_slope, singular=_power_may_be_singular)

float_power = elementwise(np.float_power, Formula("x^y in float64: ∂/∂x = y·x^(y−1), ∂/∂y = x^y·ln x (power rule)",
                                                  POWER_PARTIALS))
float_power.defpartials(_power_base_slope, _power_exponent_slope, singular=_power_may_be_singular)

square = elementwise(np.square, Formula("d/dx x² = 2x", ("2·{0}",)))
square.defpartials(lambda ans, x: 2 * x)

sqrt = elementwise(np.sqrt, Formula("d/dx √x = 1/(2√x)", ("1/(2√{0})",)))
sqrt.defvjp(zero_where_unused(lambda g, ans, x: g / (2 * ans)))
sqrt.defjvp(zero_where_unused(lambda t, ans, x: t / (2 * ans)))

cbrt = elementwise(np.cbrt, Formula("d/dx ∛x = 1/(3∛x²)", ("1/(3∛{0}²)",)))
cbrt.defvjp(zero_where_unused(lambda g, ans, x: g / (3 * ans * ans)))
cbrt.defjvp(zero_where_unused(lambda t, ans, x: t / (3 * ans * ans)))

reciprocal = elementwise(np.reciprocal, Formula("d/dx 1/x = −1/x²", ("−1/{0}²",)))
reciprocal.defpartials(lambda ans, x: -ans * ans, singular=True)

# ---- signs ---------------------------------------------------------------------------------------
absolute = elementwise(np.absolute, Formula("d/dx |x| = sign(x), with |x|'(0) = 0 by convention", ("sign({0})",)))
absolute.defpartials(lambda ans, x: np.sign(x))
implements(np.fabs, absolute)

copysign = elementwise(np.copysign, Formula(
    "copysign(x, y) = |x|·sign y: ∂/∂x = ±1 (+1 where the signs agree), ∂/∂y = 0", ("sign({0})·sign({1})", "0")))
copysign.defvjp(lambda g, ans, x, y: g * (np.sign(x) * np.sign(ans)), _no_gradient)
copysign.defjvp(lambda t, ans, x, y: t * (np.sign(x) * np.sign(ans)), _no_gradient)

heaviside = elementwise(np.heaviside, Formula(
    "heaviside(x, h₀) = 0, h₀, 1 for x <, =, > 0: ∂/∂x = 0, ∂/∂h₀ = 1 where x = 0", ("0", "1 where {0} = 0, else 0")))
heaviside.defvjp(_no_gradient, lambda g, ans, x, h0: g * (x == 0))
heaviside.defjvp(_no_gradient, lambda t, ans, x, h0: t * (x == 0))

# ---- exponentials and logarithms ----------------------------------------------------------------
exp = elementwise(np.exp, Formula("d/dx eˣ = eˣ", ("e^{0}",)))
exp.defpartials(lambda ans, x: ans)

exp2 = elementwise(np.exp2, Formula("d/dx 2ˣ = 2ˣ ln 2", ("2^{0} ln 2",)))
exp2.defpartials(lambda ans, x: ans * LN2)

expm1 = elementwise(np.expm1, Formula("d/dx (eˣ − 1) = eˣ", ("e^{0}",)))
expm1.defpartials(lambda ans, x: ans + 1)

log = elementwise(np.log, Formula("d/dx ln x = 1/x", ("1/{0}",)))
log.defvjp(zero_where_unused(lambda g, ans, x: g / x))
log.defjvp(zero_where_unused(lambda t, ans, x: t / x))

log2 = elementwise(np.log2, Formula("d/dx log₂ x = 1/(x ln 2)", ("1/({0} ln 2)",)))
log2.defvjp(zero_where_unused(lambda g, ans, x: g / (x * LN2)))
log2.defjvp(zero_where_unused(lambda t, ans, x: t / (x * LN2)))

log10 = elementwise(np.log10, Formula("d/dx log₁₀ x = 1/(x ln 10)", ("1/({0} ln 10)",)))
log10.defvjp(zero_where_unused(lambda g, ans, x: g / (x * LN10)))
log10.defjvp(zero_where_unused(lambda t, ans, x: t / (x * LN10)))

log1p = elementwise(np.log1p, Formula("d/dx ln(1 + x) = 1/(1 + x)", ("1/(1 + {0})",)))
log1p.defvjp(zero_where_unused(lambda g, ans, x: g / (1 + x)))
log1p.defjvp(zero_where_unused(lambda t, ans, x: t / (1 + x)))

logaddexp = elementwise(np.logaddexp, Formula("∂/∂x ln(eˣ + eʸ) = eˣ/(eˣ + eʸ) = e^(x − ans)",
                                              ("e^{0}/(e^{0} + e^{1})", "e^{1}/(e^{0} + e^{1})")))
logaddexp.defpartials(lambda ans, x, y: np.exp(x - ans), lambda ans, x, y: np.exp(y - ans))

logaddexp2 = elementwise(np.logaddexp2, Formula("∂/∂x log₂(2ˣ + 2ʸ) = 2ˣ/(2ˣ + 2ʸ) = 2^(x − ans)",
                                                ("2^{0}/(2^{0} + 2^{1})", "2^{1}/(2^{0} + 2^{1})")))
logaddexp2.defpartials(lambda ans, x, y: np.exp2(x - ans), lambda ans, x, y: np.exp2(y - ans))


@primitive(broadcasts=True, formula=Formula("d/dx nan_to_num(x) = 1 where x is finite, 0 where it was replaced; "
                                            "∂/∂nan = 1 where x is NaN (likewise posinf, neginf)",
                                            ("1 where {0} is finite, else 0", "1 where {0} is NaN, else 0",
                                             "1 where {0} = +∞, else 0", "1 where {0} = −∞, else 0")))
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN and ±∞ replaced by finite numbers.  d/dx = 1 where x is finite, 0 where it was replaced;
    ∂/∂nan = 1 where x is NaN (and likewise for posinf, neginf)."""
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


nan_to_num.defpartials(
    lambda ans, x, *fills: np.isfinite(x),
    lambda ans, x, *fills: np.isnan(x),
    lambda ans, x, *fills: np.isposinf(x),
    lambda ans, x, *fills: np.isneginf(x),
)
implements(np.nan_to_num, lambda x, copy=True, nan=0.0, posinf=None, neginf=None: nan_to_num(x, nan, posinf, neginf))

# ---- trigonometric ------------------------------------------------------------------------------
sin = elementwise(np.sin, Formula("d/dx sin x = cos x", ("cos {0}",)))
sin.defpartials(lambda ans, x: np.cos(x))

cos = elementwise(np.cos, Formula("d/dx cos x = −sin x", ("−sin {0}",)))
cos.defpartials(lambda ans, x: -np.sin(x))

tan = elementwise(np.tan, Formula("d/dx tan x = 1 + tan² x", ("1 + tan² {0}",)))
tan.defpartials(lambda ans, x: 1 + ans * ans)

arcsin = elementwise(np.arcsin, Formula("d/dx arcsin x = 1/√(1 − x²)", ("1/√(1 − {0}²)",)))
arcsin.defpartials(lambda ans, x: 1 / np.sqrt(1 - x * x), singular=True)

arccos = elementwise(np.arccos, Formula("d/dx arccos x = −1/√(1 − x²)", ("−1/√(1 − {0}²)",)))
arccos.defpartials(lambda ans, x: -1 / np.sqrt(1 - x * x), singular=True)

arctan = elementwise(np.arctan, Formula("d/dx arctan x = 1/(1 + x²)", ("1/(1 + {0}²)",)))
arctan.defpartials(lambda ans, x: 1 / (1 + x * x))

arctan2 = elementwise(np.arctan2, Formula("∂/∂y atan2(y, x) = x/(x² + y²), ∂/∂x atan2(y, x) = −y/(x² + y²)",
                                          ("{1}/({1}² + {0}²)", "−{0}/({1}² + {0}²)")))
arctan2.defpartials(lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y))

hypot = elementwise(np.hypot, Formula("∂/∂x √(x² + y²) = x/√(x² + y²)",
                                      ("{0}/√({0}² + {1}²)", "{1}/√({0}² + {1}²)")))
hypot.defpartials(lambda ans, x, y: x / ans, lambda ans, x, y: y / ans, singular=True)

deg2rad = elementwise(np.deg2rad, Formula("deg2rad x = x·π/180: d/dx = π/180", ("π/180",)))
deg2rad.defpartials(lambda ans, x: RADIANS_PER_DEGREE)
implements(np.radians, deg2rad)

rad2deg = elementwise(np.rad2deg, Formula("rad2deg x = x·180/π: d/dx = 180/π", ("180/π",)))
rad2deg.defpartials(lambda ans, x: 1 / RADIANS_PER_DEGREE)
implements(np.degrees, rad2deg)


def _nonzero(x):
    """x with its zeros replaced by 1: a safe divisor where the other branch of a ``where`` is taken."""
    return np.where(x == 0, 1.0, x)


@primitive(broadcasts=True, formula=Formula("d/dx sinc′(x) = −π² sinc x − 2·sinc′(x)/x, which is −π²/3 at x = 0",
                                            ("−π² sinc {0} − 2·sinc′({0})/{0}",)))
def sinc_slope(x):
    """sinc′(x) = (cos πx − sinc x)/x, which is 0 at x = 0: a primitive, so that its own derivative
    keeps the limit at 0 (sinc″(0) = −π²/3)."""
    return np.where(x == 0, 0.0, (np.cos(np.pi * x) - np.sinc(x)) / _nonzero(x))


sinc_slope.defpartials(
    lambda ans, x: np.where(x == 0, -np.pi ** 2 / 3, -np.pi ** 2 * np.sinc(x) - 2 * ans / _nonzero(x)))

sinc = Primitive(np.sinc, name="sinc", broadcasts=True,
                 formula=Formula("sinc x = sin πx/(πx):  d/dx sinc x = (cos πx − sinc x)/x, with the limit 0 at x = 0",
                                 ("sinc′({0})",)))
sinc.defpartials(lambda ans, x: sinc_slope(x))
implements(np.sinc, sinc)

# ---- hyperbolic ---------------------------------------------------------------------------------
sinh = elementwise(np.sinh, Formula("d/dx sinh x = cosh x", ("cosh {0}",)))
sinh.defpartials(lambda ans, x: np.cosh(x))

cosh = elementwise(np.cosh, Formula("d/dx cosh x = sinh x", ("sinh {0}",)))
cosh.defpartials(lambda ans, x: np.sinh(x))

tanh = elementwise(np.tanh, Formula("d/dx tanh x = 1 − tanh² x", ("1 − tanh² {0}",)))
tanh.defpartials(lambda ans, x: 1 - ans * ans)

arcsinh = elementwise(np.arcsinh, Formula("d/dx arsinh x = 1/√(x² + 1)", ("1/√({0}² + 1)",)))
arcsinh.defpartials(lambda ans, x: 1 / np.sqrt(x * x + 1))

arccosh = elementwise(np.arccosh, Formula("d/dx arcosh x = 1/√(x² − 1)", ("1/√({0}² − 1)",)))
arccosh.defpartials(lambda ans, x: 1 / np.sqrt(x * x - 1), singular=True)

arctanh = elementwise(np.arctanh, Formula("d/dx artanh x = 1/(1 − x²)", ("1/(1 − {0}²)",)))
arctanh.defpartials(lambda ans, x: 1 / (1 - x * x), singular=True)


# ---- maximum and minimum ------------------------------------------------------------------------
def _is_traced(value) -> bool:
    return type(value) is Tensor and (value.requires_grad or value.tangent is not None)


def extremum(ufunc: np.ufunc, x_wins: Callable, y_wins: Callable, rule: str, x_wins_when: str) -> None:
    """Answer for a binary max/min ``ufunc`` whose slope in x is ``x_wins(ans, x, y)``, 1 where x is the result
    (``x_wins_when``, written over the operands ``{0}`` = x and ``{1}`` = y).

    Between two traced values a tie is split ½/½ (PyTorch's torch.maximum); against a constant the tie
    goes to the constant, so np.maximum(0, x) is ReLU with ReLU′(0) = 0.
    """
    y_wins_when = x_wins_when.format("{1}", "{0}")
    both = Primitive(ufunc, name=ufunc.__name__, broadcasts=True, formula=Formula(
        f"{rule}, ½ each on a tie",
        (f"1 where {x_wins_when}, ½ on a tie, else 0", f"1 where {y_wins_when}, ½ on a tie, else 0")))
    both.defpartials(lambda ans, x, y: np.where(x == y, 0.5, x_wins(ans, x, y)),
                     lambda ans, x, y: np.where(x == y, 0.5, y_wins(ans, x, y)))
    one = Primitive(ufunc, name=ufunc.__name__, broadcasts=True, formula=Formula(
        f"{rule}; a tie with a constant goes to the constant (ReLU′(0) = 0)",
        (f"1 where {x_wins_when}, else 0", f"1 where {y_wins_when}, else 0")))
    one.defpartials(x_wins, y_wins)

    def choose(x, y):
        return apply(both if _is_traced(x) and _is_traced(y) else one, (x, y), {})

    implements(ufunc, choose)


extremum(np.maximum, lambda ans, x, y: x > y, lambda ans, x, y: y > x, "∂ max(x, y)/∂x = 1 where x > y, else 0",
         "{0} > {1}")
extremum(np.minimum, lambda ans, x, y: x < y, lambda ans, x, y: y < x, "∂ min(x, y)/∂x = 1 where x < y, else 0",
         "{0} < {1}")
# fmax/fmin ignore a NaN: the other argument is the result and takes the gradient.
extremum(np.fmax, lambda ans, x, y: (x > y) | np.isnan(y), lambda ans, x, y: (y > x) | np.isnan(x),
         "∂ fmax(x, y)/∂x = 1 where x > y or y is NaN, else 0", "{0} > {1} or {1} is NaN")
extremum(np.fmin, lambda ans, x, y: (x < y) | np.isnan(y), lambda ans, x, y: (y < x) | np.isnan(x),
         "∂ fmin(x, y)/∂x = 1 where x < y or y is NaN, else 0", "{0} < {1} or {1} is NaN")


# ---- clip and where -----------------------------------------------------------------------------
def _inside(x, low, high):
    """1 where low ≤ x ≤ high (bounds inclusive, as torch.clamp), else 0; None means unbounded."""
    mask = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        mask = mask & (x >= low)
    if high is not None:
        mask = mask & (x <= high)
    return mask


@primitive(broadcasts=True, formula=Formula("d/dx clip(x, low, high) = 1 inside [low, high], 0 outside",
                                            ("1 where {1} ≤ {0} ≤ {2}, else 0", "1 where {0} < {1}, else 0",
                                             "1 where {0} > {2}, else 0")))
def clip(x, low=None, high=None):
    """clip(x, low, high) = min(max(x, low), high).  d/dx = 1 inside [low, high], 0 outside."""
    return np.clip(x, low, high)


def _low_wins(ans, x, low, high):
    """∂ clip/∂low = 1 where x < low < high (when low > high the result is high, as torch.clamp)."""
    below = x < low
    return below if high is None else below & (low < high)


def _high_wins(ans, x, low, high):
    above = x > high
    return above if low is None else above | (low > high)


clip.defpartials(lambda ans, x, low, high: _inside(x, low, high), _low_wins, _high_wins)


def _numpy_clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    low = a_min if a_min is not None else min
    high = a_max if a_max is not None else max
    return clip(a, low, high)


implements(np.clip, _numpy_clip)


@primitive(broadcasts=True, formula=Formula("∂ where(c, x, y)/∂x = c, ∂/∂y = 1 − c (c is not differentiated)",
                                            (None, "1 where {0}, else 0", "1 where not {0}, else 0")))
def where(condition, x, y):
    """where(c, x, y) picks x where c holds, else y.  ∂/∂x = c, ∂/∂y = 1 − c (c is not differentiated)."""
    return np.where(condition, x, y)


where.defvjp(None, lambda g, ans, c, x, y: np.where(c, g, 0.0), lambda g, ans, c, x, y: np.where(c, 0.0, g))
where.defjvp(None, lambda t, ans, c, x, y: np.where(c, t, 0.0), lambda t, ans, c, x, y: np.where(c, 0.0, t))


def _numpy_where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(condition.value if type(condition) is Tensor else condition)
    if type(condition) is Tensor and condition.is_traced():  # not differentiated: only its truth values count
        condition = np.not_equal(condition, 0)
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


# ---- filled arrays and real parts ---------------------------------------------------------------
def _numpy_full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    """np.full_like(a, v): ``a`` gives only the shape and dtype, so the gradient flows to the fill
    (summed over its copies), never to ``a``. A fill cast to integers is piecewise constant. A Tensor fill
    is broadcast even when untraced: under cm.vmap it may differ per example, and its value is not read."""
    dtype = np.dtype(dtype or a.dtype)
    shape = a.shape if shape is None else shape
    if type(fill_value) is not Tensor or dtype.kind != "f":
        return np.full_like(plain(a), plain(fill_value), dtype=dtype, order=order, shape=shape, **kwargs)
    return np.astype(np.broadcast_to(fill_value, shape), dtype)


implements(np.full_like, _numpy_full_like)


def _real_only(name: str, x) -> None:
    if np.iscomplexobj(x):
        raise UnsupportedTransformError(
            f"numpy.{name} of a complex {describe(x)}: calcml differentiates real-valued computations only.\n"
            "  keep real and imaginary parts as two real arrays (as calcml.apps.quantum does)."
        )


def _numpy_real(val):
    """The real part of a real array is the array itself (d/dx = 1); complex values are refused."""
    _real_only("real", val)
    return val


def _numpy_imag(val):
    """The imaginary part of a real array is 0, a constant."""
    _real_only("imag", val)
    return np.zeros_like(val)


implements(np.real, _numpy_real)
implements(np.imag, _numpy_imag)
