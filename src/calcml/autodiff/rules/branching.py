"""Shortcuts a rule takes on plain values only.

Some rules have a cheap path for the usual values and an exact general one: ∏_{j≠i} x_j = (∏ x)/x_i when no
x_j is 0; nothing to mask when no entry is NaN; the max VJP without the 1/k of ties. Choosing reads a value, and
under ``cm.vmap`` that value is recorded per example: a Python ``if`` on it makes vmap run f example by example
(right, but B times the work). So a rule branches only on a plain value and takes the general path on a recorded
one — correct for every example, and batched.

>>> decided(np.any(np.array([1.0, 0.0]) == 0))
True
"""

from __future__ import annotations

from typing import Any

from calcml.autodiff.tensor import Tensor


def decided(test: Any) -> bool:
    """True when a rule may branch on ``test``: a plain value, not one cm.vmap records per example."""
    return type(test) is not Tensor
