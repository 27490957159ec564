"""Refusals and piecewise-constant values that cm.vmap records per example.

A rule refuses where a derivative does not exist (a repeated eigenvalue, a singular matrix): a check on
values. Under ``cm.vmap`` those values are recorded per example, and reading one with a Python ``if`` makes
vmap run f example by example (right, but B times the work). So ``refused_where`` checks a plain mask at once,
and a recorded one through the ``refusal`` operation, which the replay runs on the whole batch: the refusal
happens when any example is bad, with the same error. Likewise ``piecewise_constant`` records a value such as
the sign of a determinant or a rank per example, instead of reading it.

>>> refused_where(np.arange(2.0), np.array([False, False]), "never raised")
array([0., 1.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.dispatch import plain, unwrapped
from calcml.autodiff.errors import OperationError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor


@primitive(formula=Formula("∂ refusal(x) = ∂x where it does not refuse"))
def refusal(value: Any, bad: Any, error: str = "") -> Any:
    """``value`` (a copy), or OperationError(error) when any entry of ``bad`` is True.  ∂ refusal(x) = ∂x."""
    if np.any(bad):
        raise OperationError(error)
    return np.array(value, copy=True)


refusal.defvjp(lambda g, ans, value, bad, error="": g)
refusal.defjvp(lambda t, ans, value, bad, error="": t)


def refused_where(value: Any, bad: Any, error: str) -> Any:
    """``value``, once no entry of ``bad`` is True (else OperationError(error)): checked now on a plain mask,
    through the recorded ``refusal`` on a mask cm.vmap records per example (then on the whole batch)."""
    if type(bad) is not Tensor:
        if np.any(bad):
            raise OperationError(error)
        return value
    return refusal(value, bad, error=error)


def piecewise_constant(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` for a piecewise-constant ``func`` (derivative 0): a plain value, or under
    cm.vmap a value recorded per example (the sign of a determinant, a rank), so the record stays replayable."""
    if STATE.vmap_tracers:
        return STATE.vmap_tracers[-1].piecewise(func, args, kwargs, unwrapped)
    return func(*plain(args), **plain(kwargs))
