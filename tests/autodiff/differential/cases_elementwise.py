"""Differential cases for every ufunc and elementwise function: arithmetic, remainders, powers, signs,
exponentials and logarithms, trigonometric and hyperbolic functions, sinc, maximum/minimum and fmax/fmin,
clip, where, select, nan_to_num, full_like, real/imag.

Piecewise rules are sampled off their kinks and jumps (``make_args``): finite differences and second
derivatives mean nothing at a kink, and which side a tie goes to is tested in test_rules_elementwise.py.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from tests.autodiff.differential.spec import Case, fixed, same_shape

T = torch.float64


def signed(low, high):
    """±(low, high) for every argument: away from 0, where |x|, 1/x or a sign has its kink or pole."""
    def make_args(rng, shapes):
        return tuple(rng.choice([-1.0, 1.0], s) * rng.uniform(low, high, s) for s in shapes)
    return make_args


def bands(*fractions):
    """k + u with integer k ∈ [−2, 1] and u in the i-th argument's own band: arguments never tie, and
    either may be the larger (the bands must not overlap)."""
    def make_args(rng, shapes):
        return tuple(rng.integers(-2, 2, s) + rng.uniform(low, high, s) for (low, high), s in zip(fractions, shapes))
    return make_args


def off_the_jumps(rng, shapes):
    """x mod y jumps where x/y is whole: y = ±0.75 or ±1.5 and x = 0.75·(n + f), f ∈ (0.2, 0.8), keep clear."""
    sx, sy = shapes
    return 0.75 * (rng.integers(-3, 3, sx) + rng.uniform(0.2, 0.8, sx)), rng.choice([-1.5, -0.75, 0.75, 1.5], sy)


def zeros_and_exponents(rng, shapes):
    """x = 0 exactly with exponents y ∈ (2.5, 4): x^y, y·x^(y−1) and their derivatives at 0 are all finite."""
    return np.zeros(shapes[0]), rng.uniform(2.5, 4.0, shapes[1])


def with_nans_and_infinities(rng, shapes):
    x = rng.uniform(-2, 2, shapes[0])
    pick = rng.uniform(size=np.shape(x))
    return (np.where(pick < 0.15, np.nan, np.where(pick < 0.25, np.inf, np.where(pick < 0.35, -np.inf, x))),)


def off_the_select_edges(rng, shapes):
    return (rng.choice([-1.5, 0.0, 1.0], shapes[0]) + rng.uniform(-0.4, 0.4, shapes[0]),)


# Constant arrays are float32, so that float32 inputs stay float32 (float64 ones promote them anyway).
EXPONENTS = np.arange(4, dtype=np.float32)
POWERS = torch.arange(4.0, dtype=T)
ZERO_HERE = np.array([-1.5, 0.0, 0.7, 0.0], dtype=np.float32)  # heaviside's value at 0 is used where x = 0
SOME_NANS = np.array([np.nan, 0.5, np.nan], dtype=np.float32)
CONDITION = np.array([[True, False, True], [False, False, True]])
fills = st.sampled_from([((2, 3), ()), ((2, 3), (3,)), ((3,), (1,)), ((), ())])  # (array, fill it broadcasts to)
unary = same_shape(1)


def unary_case(name, fn, torch_fn, domain=(-2.0, 2.0), **options):
    return Case(name, fn, shapes=unary, domain=domain, torch_fn=torch_fn, **options)


CASES = [
    # -- arithmetic --------------------------------------------------------------------------------
    Case("numpy.add", np.add, arity=2, torch_fn=torch.add),
    Case("numpy.add", lambda x, y: x + y, arity=2, torch_fn=lambda x, y: x + y, note="the + operator"),
    Case("numpy.subtract", lambda x, y: x - y, arity=2, torch_fn=torch.sub),
    Case("numpy.multiply", lambda x, y: x * y, arity=2, torch_fn=torch.mul),
    Case("numpy.divide", lambda x, y: x / y, arity=2, make_args=signed(0.5, 2.0), torch_fn=torch.div),
    Case("numpy.negative", lambda x: -x, torch_fn=torch.neg),
    Case("numpy.positive", np.positive, torch_fn=torch.positive),
    Case("numpy.conjugate", np.conjugate, torch_fn=torch.conj_physical, note="real inputs: the identity"),
    Case("numpy.reciprocal", np.reciprocal, make_args=signed(0.4, 2.0), torch_fn=torch.reciprocal),
    # -- remainders: slope 1 in x, −quotient in y, off the jumps --------------------------------------
    Case("numpy.remainder", lambda x, y: x % y, arity=2, make_args=off_the_jumps, torch_fn=torch.remainder),
    Case("numpy.remainder", lambda x, y: np.mod(x, y), arity=2, make_args=off_the_jumps, torch_fn=torch.remainder),
    Case("numpy.fmod", np.fmod, arity=2, make_args=off_the_jumps, torch_fn=torch.fmod),
    Case("numpy.divmod", np.divmod, arity=2, make_args=off_the_jumps,
         torch_fn=lambda x, y: (torch.div(x, y, rounding_mode="floor").detach(), torch.remainder(x, y)),
         note="a tuple: the quotient is piecewise constant, the remainder has slope 1"),
    # -- powers and roots ----------------------------------------------------------------------------
    Case("numpy.power", lambda x, y: x ** y, arity=2, domain=((0.3, 2.0), (-2.0, 2.0)), torch_fn=torch.pow),
    Case("numpy.power", lambda x, y: np.power(x, y), arity=2, make_args=zeros_and_exponents, torch_fn=torch.pow,
         note="at x = 0: both partials 0, as PyTorch"),
    Case("numpy.power", lambda x: x ** EXPONENTS, shapes=fixed((4,)), make_args=lambda rng, s: (np.zeros(4),),
         torch_fn=lambda x: x ** POWERS, note="x^0 … x^3 at 0: slopes [0, 1, 0, 0], curvatures [0, 0, 2, 0]"),
    Case("numpy.power", lambda x: x ** 3, torch_fn=lambda x: x ** 3, note="a Python int exponent"),
    Case("numpy.float_power", lambda x, y: np.float_power(x, y).astype(np.result_type(x)), arity=2,
         domain=((0.3, 2.0), (-2.0, 2.0)), torch_fn=torch.float_power,
         note="float_power computes in float64 by definition; cast back so float32 stays float32"),
    unary_case("numpy.square", np.square, torch.square),
    unary_case("numpy.sqrt", np.sqrt, torch.sqrt, (0.2, 3.0)),
    Case("numpy.cbrt", np.cbrt, shapes=unary, make_args=signed(0.2, 3.0),
         torch_fn=lambda x: torch.sign(x) * torch.abs(x) ** (1 / 3)),
    # -- signs -----------------------------------------------------------------------------------------
    Case("numpy.absolute", np.abs, make_args=signed(0.1, 2.0), torch_fn=torch.abs),
    Case("numpy.absolute", lambda x: abs(x), make_args=signed(0.1, 2.0), torch_fn=torch.abs),
    Case("numpy.fabs", np.fabs, make_args=signed(0.1, 2.0), torch_fn=torch.abs),
    Case("numpy.copysign", np.copysign, arity=2, make_args=signed(0.2, 2.0), torch_fn=torch.copysign),
    Case("numpy.heaviside", np.heaviside, arity=2, make_args=signed(0.2, 2.0),
         note="off x = 0 both partials are 0 (PyTorch has no heaviside derivative: differences judge)"),
    Case("numpy.heaviside", lambda h0: np.heaviside(ZERO_HERE, h0), shapes=st.sampled_from([((),), ((4,),)]),
         domain=(0.0, 1.0), note="∂/∂h₀ = 1 where x = 0"),
    # -- exponentials and logarithms -------------------------------------------------------------------
    unary_case("numpy.exp", np.exp, torch.exp),
    unary_case("numpy.exp2", np.exp2, torch.exp2),
    unary_case("numpy.expm1", np.expm1, torch.expm1),
    unary_case("numpy.log", np.log, torch.log, (0.2, 3.0)),
    unary_case("numpy.log2", np.log2, torch.log2, (0.2, 3.0)),
    unary_case("numpy.log10", np.log10, torch.log10, (0.2, 3.0)),
    unary_case("numpy.log1p", np.log1p, torch.log1p, (-0.5, 3.0)),
    Case("numpy.logaddexp", np.logaddexp, arity=2, torch_fn=torch.logaddexp),
    Case("numpy.logaddexp2", np.logaddexp2, arity=2, torch_fn=torch.logaddexp2),
    # -- trigonometric and hyperbolic ------------------------------------------------------------------
    unary_case("numpy.sin", np.sin, torch.sin, (-3.0, 3.0)),
    unary_case("numpy.cos", np.cos, torch.cos, (-3.0, 3.0)),
    unary_case("numpy.tan", np.tan, torch.tan, (-1.2, 1.2)),
    unary_case("numpy.arcsin", np.arcsin, torch.asin, (-0.9, 0.9)),
    unary_case("numpy.arccos", np.arccos, torch.acos, (-0.9, 0.9)),
    unary_case("numpy.arctan", np.arctan, torch.atan, (-3.0, 3.0)),
    Case("numpy.arctan2", np.arctan2, arity=2, domain=((-2.0, 2.0), (0.5, 2.0)), torch_fn=torch.atan2,
         note="x > 0 keeps clear of the branch cut on the negative x axis"),
    Case("numpy.hypot", np.hypot, arity=2, make_args=signed(0.3, 2.0), torch_fn=torch.hypot),
    unary_case("numpy.sinh", np.sinh, torch.sinh),
    unary_case("numpy.cosh", np.cosh, torch.cosh),
    unary_case("numpy.tanh", np.tanh, torch.tanh),
    unary_case("numpy.arcsinh", np.arcsinh, torch.asinh),
    unary_case("numpy.arccosh", np.arccosh, torch.acosh, (1.2, 3.0)),
    unary_case("numpy.arctanh", np.arctanh, torch.atanh, (-0.9, 0.9)),
    unary_case("numpy.deg2rad", np.deg2rad, torch.deg2rad, (-200.0, 200.0)),
    unary_case("numpy.radians", np.radians, torch.deg2rad, (-200.0, 200.0)),
    unary_case("numpy.rad2deg", np.rad2deg, torch.rad2deg, (-3.0, 3.0)),
    unary_case("numpy.degrees", np.degrees, torch.rad2deg, (-3.0, 3.0)),
    unary_case("numpy.sinc", np.sinc, torch.sinc, (-2.5, 2.5)),
    # -- maximum and minimum: never tied --------------------------------------------------------------
    Case("numpy.maximum", np.maximum, arity=2, make_args=bands((0.1, 0.4), (0.6, 0.9)), torch_fn=torch.maximum),
    Case("numpy.maximum", lambda x: np.maximum(x, 0.0), make_args=signed(0.1, 2.0), torch_fn=torch.relu,
         note="ReLU"),
    Case("numpy.minimum", np.minimum, arity=2, make_args=bands((0.1, 0.4), (0.6, 0.9)), torch_fn=torch.minimum),
    Case("numpy.fmax", np.fmax, arity=2, make_args=bands((0.6, 0.9), (0.1, 0.4)), torch_fn=torch.fmax),
    Case("numpy.fmin", np.fmin, arity=2, make_args=bands((0.6, 0.9), (0.1, 0.4)), torch_fn=torch.fmin),
    Case("numpy.fmax", lambda x: np.fmax(x, SOME_NANS), shapes=fixed((3,)),
         torch_fn=lambda x: torch.fmax(x, torch.tensor([torch.nan, 0.5, torch.nan], dtype=x.dtype)),
         make_args=lambda rng, s: (rng.uniform(0.7, 2.0, s[0]) * np.array([1, -1, 1]),),
         note="a NaN is ignored: the other argument takes the gradient"),
    # -- clip, where, select ------------------------------------------------------------------------
    Case("numpy.clip", lambda x: np.clip(x, -0.5, 0.7), shapes=unary, make_args=bands((0.2, 0.4)),
         torch_fn=lambda x: torch.clamp(x, -0.5, 0.7)),
    Case("numpy.clip", np.clip, arity=3, make_args=bands((0.4, 0.6), (0.1, 0.2), (0.8, 0.9)),
         torch_fn=lambda *xs: torch.clamp(*torch.broadcast_tensors(*xs)),
         note="traced bounds, which may cross (then the result is the upper one)"),
    Case("numpy.clip", lambda x, low: x.clip(min=low), arity=2, make_args=bands((0.4, 0.6), (0.1, 0.2)),
         torch_fn=lambda x, low: torch.clamp(*torch.broadcast_tensors(x, low))),
    Case("numpy.where", lambda x, y: np.where(x > 0, x * y, np.sin(y)), arity=2, make_args=signed(0.2, 2.0),
         torch_fn=lambda x, y: torch.where(x > 0, x * y, torch.sin(y))),
    Case("numpy.where", lambda x, y: np.where(CONDITION, x, y), arity=2, shapes=fixed((2, 3), (3,)),
         torch_fn=lambda x, y: torch.where(torch.tensor(CONDITION), x, y)),
    Case("numpy.select", lambda x: np.select([x < -0.5, x < 0.5], [x ** 2, np.sin(x)], default=3 * x),
         shapes=unary, make_args=off_the_select_edges,
         torch_fn=lambda x: torch.where(x < -0.5, x ** 2, torch.where(x < 0.5, torch.sin(x), 3 * x))),
    # -- filled arrays, NaN replacement, real and imaginary parts ------------------------------------
    Case("numpy.full_like", lambda x, v: np.full_like(x, v), arity=2, shapes=fills,
         torch_fn=lambda x, v: torch.broadcast_to(v, x.shape).clone(),
         note="the gradient flows to the fill, summed over its copies; x gives only the shape"),
    Case("numpy.nan_to_num", lambda x: np.nan_to_num(x, posinf=5.0, neginf=-5.0), shapes=unary,
         make_args=with_nans_and_infinities, torch_fn=lambda x: torch.nan_to_num(x, posinf=5.0, neginf=-5.0),
         note="slope 1 where finite, 0 where replaced"),
    Case("numpy.nan_to_num", lambda x, v: np.nan_to_num(x, nan=v), arity=2, shapes=fixed((4,), ()),
         make_args=lambda rng, s: (np.array([1.0, np.nan, -0.5, np.nan]), rng.uniform(-1, 1, s[1])),
         note="the NaN fill is traced: ∂/∂nan = 1 where x is NaN"),
    Case("numpy.real", np.real, torch_fn=torch.real, note="real inputs: the identity"),
    Case("numpy.imag", lambda x: np.imag(x) + x, torch_fn=lambda x: x + 0.0,
         note="real inputs: a constant 0 (added to x so that the output depends on x)"),
]
