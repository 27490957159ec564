"""Functions of one variable for pictures: a Python callable or a formula read by calcml's safe parser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.transforms import grad
from calcml.viz.math_text import math_text


def as_function(f: str | Callable, name: str = "f") -> tuple[Callable[[Any], Any], str]:
    """(a NumPy function of x, its label). Strings are parsed (never eval'd) and lambdified; their label is
    mathtext (``math_text``)."""
    if isinstance(f, str):
        from calcml.symbolic.numeric import read_formula

        expr, g = read_formula(f)
        names = sorted(s.name for s in expr.free_symbols)
        if len(names) > 1:
            raise ValueError(f"{f!r} has several variables ({', '.join(names)}); this picture needs one.")
        return (lambda x: g(x) + 0.0 * x), f"{name}(x) = {math_text(expr)}"
    if not callable(f):
        raise TypeError(f"expected a function of x or a formula such as 'sin(x**2)', got {type(f).__name__}.")
    label = getattr(f, "__name__", name)
    return f, f"{name}(x)" if label == "<lambda>" else f"{label}(x)"


def elementwise_derivative(f: Callable, x: np.ndarray) -> np.ndarray:
    """f'(x) at every entry of ``x`` in one reverse pass: ∂/∂xᵢ Σⱼ f(xⱼ) = f'(xᵢ) for elementwise f."""
    return np.asarray(grad(lambda t: np.sum(f(t)))(np.asarray(x, dtype=np.float64)))
