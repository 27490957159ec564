"""Give Tensor the operators and methods of an ndarray, each routed to a NumPy call.

Attached here, after the rules exist, so ``tensor.py`` stays about what a Tensor *is*. Every method
calls the NumPy function of the same name, which dispatches back to calcml's primitive: one path.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.dispatch import dispatch_function, dispatch_ufunc
from calcml.autodiff.primitive import apply
from calcml.autodiff.rules import elementwise as ew
from calcml.autodiff.tensor import Tensor


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    return dispatch_ufunc(ufunc, method, inputs, kwargs)


def _array_function(self, func, types, args, kwargs):
    return dispatch_function(func, args, kwargs)


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function


def _binary(prim, reflected=False):
    if reflected:
        return lambda self, other: apply(prim, (other, self), {})
    return lambda self, other: apply(prim, (self, other), {})


for _name, _prim in [("add", ew.add), ("sub", ew.subtract), ("mul", ew.multiply),
                     ("truediv", ew.divide), ("pow", ew.power)]:
    setattr(Tensor, f"__{_name}__", _binary(_prim))
    setattr(Tensor, f"__r{_name}__", _binary(_prim, reflected=True))

Tensor.__neg__ = lambda self: apply(ew.negative, (self,), {})
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: apply(ew.absolute, (self,), {})
Tensor.__matmul__ = lambda self, other: np.matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: np.matmul(other, self)
Tensor.__lt__ = lambda self, other: np.less(self, other)
Tensor.__le__ = lambda self, other: np.less_equal(self, other)
Tensor.__gt__ = lambda self, other: np.greater(self, other)
Tensor.__ge__ = lambda self, other: np.greater_equal(self, other)
Tensor.__eq__ = lambda self, other: np.equal(self, other)
Tensor.__ne__ = lambda self, other: np.not_equal(self, other)

# Methods that share their name with a NumPy function taking the array first.
for _name in ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "argmax", "argmin",
              "transpose", "swapaxes", "squeeze", "ravel", "dot", "clip", "repeat", "trace"]:
    setattr(Tensor, _name, (lambda f: lambda self, *args, **kwargs: f(self, *args, **kwargs))(getattr(np, _name)))

# Elementwise methods people reach for (t.exp() as in PyTorch).
for _name in ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "abs", "square",
              "log1p", "expm1", "sign"]:
    setattr(Tensor, _name, (lambda f: lambda self: f(self))(getattr(np, _name)))


def _reshape(self, *shape, order="C"):
    """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``, like ndarray.reshape."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return np.reshape(self, shape, order=order)


Tensor.reshape = _reshape
Tensor.flatten = lambda self: np.ravel(self)
Tensor.T = property(lambda self: np.transpose(self))
Tensor.mT = property(lambda self: np.swapaxes(self, -1, -2))
Tensor.astype = lambda self, dtype, copy=True: np.astype(self, dtype)
Tensor.copy = lambda self: np.copy(self)
