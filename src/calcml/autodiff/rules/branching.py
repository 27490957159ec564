"""Shortcuts a rule takes on plain values only.

Some rules have a cheap path for the usual values and an exact general one: ∏_{j≠i} x_j = (∏ x)/x_i when no
x_j is 0; nothing to mask when no entry is NaN; the max VJP without the 1/k of ties. Choosing reads a value, and
under ``cm.vmap`` that value is recorded per example: a Python ``if`` on it makes vmap run f example by example
(right, but B times the work). So a rule branches only on a plain value and takes the general path on a recorded
one — correct for every example, and batched.

>>> plainly_none(np.array([1.0, 2.0]) == 0)      # no zero: the shortcut ∏ x / x_i is safe
True
"""

from __future__ import annotations

from typing import Any

import numpy as np


def plainly_none(mask: Any) -> bool:
    """True when ``mask`` is a plain array with no True entry: the rule may take its shortcut. False when some
    entry is True, and for a mask cm.vmap records per example (a Tensor, or in forward mode an array of the
    example's values): the general path is right for every example."""
    return (type(mask) is np.ndarray or type(mask) is np.bool_) and not mask.any()
