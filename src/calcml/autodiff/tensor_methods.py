"""Give Tensor the operators and methods of an ndarray, each routed to a NumPy call.

Attached here, after the rules exist, so ``tensor.py`` stays about what a Tensor *is*. Every method
calls the NumPy function of the same name, which dispatches back to calcml's primitive: one path.
Methods take ndarray's signatures (``t.transpose(1, 0)``, ``t.flatten('F')``, ``t.std(ddof=1)``);
the ndarray methods that work in place (``sort``, ``fill``, ``resize``, ...) are refused.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.dispatch import FUNCTIONS, UFUNCS, dispatch_function, dispatch_ufunc
from calcml.autodiff.errors import InPlaceError
from calcml.autodiff.primitive import NO_OPTIONS, Primitive, apply
from calcml.autodiff.rules import contraction
from calcml.autodiff.rules import elementwise as ew
from calcml.autodiff.tensor import Tensor


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if not kwargs and method == "__call__":  # np.tanh(t), a @ t: straight to the primitive
        handler = UFUNCS.get(ufunc)
        if type(handler) is Primitive:
            return apply(handler, inputs, kwargs)
    return dispatch_ufunc(ufunc, method, inputs, kwargs)


def _array_function(self, func, types, args, kwargs):
    handler = FUNCTIONS.get(func)
    if type(handler) is Primitive and kwargs.get("out") is None:  # np.sum(t, axis=1): straight to it
        return apply(handler, args, kwargs)
    return dispatch_function(func, args, kwargs)


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function


def _binary(prim, reflected=False):
    if reflected:
        return lambda self, other: apply(prim, (other, self), NO_OPTIONS)
    return lambda self, other: apply(prim, (self, other), NO_OPTIONS)


# The arithmetic of every training step goes straight to its primitive (no dispatch on the way).
for _name, _prim in [("add", ew.add), ("sub", ew.subtract), ("mul", ew.multiply),
                     ("truediv", ew.divide), ("pow", ew.power), ("matmul", contraction.matmul)]:
    setattr(Tensor, f"__{_name}__", _binary(_prim))
    setattr(Tensor, f"__r{_name}__", _binary(_prim, reflected=True))


def _operator(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


# (and, or, xor: logical operators on boolean Tensors, masks from comparisons: (x > 0) & (y < 1))
for _name, _ufunc in [("mod", np.remainder), ("floordiv", np.floor_divide), ("divmod", np.divmod),
                      ("and", np.bitwise_and), ("or", np.bitwise_or),
                      ("xor", np.bitwise_xor)]:
    setattr(Tensor, f"__{_name}__", _operator(_ufunc))
    setattr(Tensor, f"__r{_name}__", _operator(_ufunc, reflected=True))

Tensor.__neg__ = lambda self: apply(ew.negative, (self,), NO_OPTIONS)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: apply(ew.absolute, (self,), NO_OPTIONS)
Tensor.__invert__ = lambda self: np.invert(self)  # ~mask
Tensor.__round__ = lambda self, ndigits=None: np.round(self, ndigits or 0)
Tensor.__contains__ = lambda self, value: bool(np.any(self == value))
Tensor.__lt__ = lambda self, other: np.less(self, other)
Tensor.__le__ = lambda self, other: np.less_equal(self, other)
Tensor.__gt__ = lambda self, other: np.greater(self, other)
Tensor.__ge__ = lambda self, other: np.greater_equal(self, other)
Tensor.__eq__ = lambda self, other: np.equal(self, other)
Tensor.__ne__ = lambda self, other: np.not_equal(self, other)


# Methods that share their name and signature with a NumPy function taking the array first.
def _method(numpy_function):
    return lambda self, *args, **kwargs: numpy_function(self, *args, **kwargs)


for _name in ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod", "all", "any",
              "argmax", "argmin", "argsort", "argpartition", "nonzero", "searchsorted", "swapaxes",
              "squeeze", "ravel", "dot", "clip", "repeat", "take", "trace", "diagonal", "round", "conj",
              "conjugate"]:
    setattr(Tensor, _name, _method(getattr(np, _name)))

# Elementwise methods people reach for (t.exp() as in PyTorch).
for _name in ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "abs", "square",
              "log1p", "expm1", "sign"]:
    setattr(Tensor, _name, _method(getattr(np, _name)))


def _shape_arguments(args: tuple) -> tuple | None:
    """``t.reshape(2, 3)`` and ``t.reshape((2, 3))`` (likewise transpose) mean the same."""
    if len(args) == 1 and (args[0] is None or not isinstance(args[0], (int, np.integer))):
        return args[0]
    return args or None


Tensor.reshape = lambda self, *shape, order="C": np.reshape(self, _shape_arguments(shape), order=order)
Tensor.transpose = lambda self, *axes: np.transpose(self, _shape_arguments(axes))
Tensor.flatten = lambda self, order="C": np.ravel(self, order=order)
Tensor.T = property(lambda self: np.transpose(self))
Tensor.mT = property(lambda self: np.swapaxes(self, -1, -2))
Tensor.real = property(lambda self: np.real(self))
Tensor.imag = property(lambda self: np.imag(self))
Tensor.itemsize = property(lambda self: self.value.itemsize)
Tensor.nbytes = property(lambda self: self.value.nbytes)
Tensor.astype = lambda self, dtype, copy=True: np.astype(self, dtype)
Tensor.copy = lambda self, order="C": np.copy(self, order=order)


def _refused_in_place(name: str, instead: str):
    def method(self, *args, **kwargs):
        raise InPlaceError(
            f"t.{name}(...) changes the array in place, which would bypass the graph and give wrong "
            f"gradients.\n  Tensor: shape={self.shape}, {self.dtype}\n  instead: {instead}"
        )

    method.__name__ = name
    return method


for _name, _instead in [
    ("sort", "t = np.sort(t, axis=-1) (a new, sorted Tensor)"),
    ("partition", "t = np.partition(t, k) (a new Tensor)"),
    ("fill", "t = np.full_like(t, value)"),
    ("resize", "t = np.reshape(t, shape) (same size), or np.tile / np.concatenate to grow it"),
    ("put", "t = np.where(mask, values, t), or build the array then np.stack it"),
    ("itemset", "t = np.where(mask, value, t)"),
]:
    setattr(Tensor, _name, _refused_in_place(_name, _instead))

