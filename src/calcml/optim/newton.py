"""Damped Newton's method for a small parameter vector: the step that minimizes the local quadratic model.

    L(w + d) ≈ L(w) + gᵀd + ½ dᵀH d   is smallest at   d = −H⁻¹ g,   so   w ← w − η (H + λI)⁻¹ g

with g = ∇L(w) and H = ∇²L(w) from ``cm.grad`` and ``cm.hessian`` on the flattened parameters. The
damping λ ≥ 0 shortens the step and makes H + λI positive definite where H alone is not.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import numpy as np

from calcml.autodiff.errors import CalcmlError
from calcml.autodiff.reverse import reverse_topological_order
from calcml.autodiff.state import enable_grad
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms import hessian, value_and_grad
from calcml.optim.optimizer import Optimizer, check_range


class HessianTooLargeError(CalcmlError, ValueError):
    """Newton's method was asked to form a Hessian too large to hold or factor."""


class NotPositiveDefiniteError(CalcmlError, np.linalg.LinAlgError):
    """H + λI is not positive definite, so the Newton step would not point downhill."""


class ClosureError(CalcmlError, TypeError):
    """Newton's closure computes the loss from the optimizer's own parameter Tensors (``model(X)``) instead
    of the arguments it is given, so its derivatives with respect to those arguments miss that part."""


CLOSURE_HINT = ("write the loss with the closure's arguments, e.g. opt.step(lambda W, b: "
                "cm.nn.losses.mse(X @ W + b, y)), not with the model's own Tensors (model(X))")


class Newton(Optimizer):
    """Newton's method with damping:  w ← w − η (H + λI)⁻¹ ∇L(w).

    ``step(closure)`` takes the loss as a function of the parameters: it is called as
    ``closure(*params)`` with one Tensor per parameter (same shapes, in order) and returns a scalar.
    On a quadratic with λ = 0 and η = 1 one step lands on the minimum.

    >>> w = cm.Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    >>> opt = cm.optim.Newton([w])
    >>> rosenbrock = lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
    >>> for _ in range(7): loss = opt.step(rosenbrock)     # w.value ≈ [1, 1]

    The Hessian has n² entries, so Newton refuses more than ``max_parameters`` parameters.
    """

    hyperparameter_names = ("lr", "damping")

    def __init__(self, params: Iterable[Tensor], lr: float = 1.0, damping: float = 0.0,
                 max_parameters: int = 4096):
        super().__init__(params, lr)
        self.damping = check_range("Newton", "damping", damping)
        self.sizes = [p.size for p in self.params]
        n = sum(self.sizes)
        if n > max_parameters:
            raise HessianTooLargeError(
                f"Newton forms the full {n}×{n} Hessian ({n * n * 8 / 1e9:.2g} GB in float64) and solves "
                f"with it, O(n³); this model has n = {n} parameters, more than max_parameters="
                f"{max_parameters}.\n  use a first-order optimizer (cm.optim.Adam, SGD), or raise "
                "max_parameters if you really mean it."
            )

    def _unflatten(self, flat: Tensor) -> list[Tensor]:
        """The flat vector cut back into pieces shaped like the parameters (traced, so differentiable)."""
        pieces, start = [], 0
        for p, size in zip(self.params, self.sizes, strict=True):
            pieces.append(np.reshape(flat[start:start + size], p.shape))
            start += size
        return pieces

    def step(self, closure: Callable[..., Tensor]) -> float:
        """One Newton step; returns the loss before the step."""
        try:
            inspect.signature(closure).bind(*self.params)
        except TypeError:
            raise TypeError(
                f"Newton.step(closure) calls closure(*params) with the {len(self.params)} parameter(s), "
                "so that it can differentiate the loss twice;\n  write the loss as a function of them, "
                "e.g. opt.step(lambda w, b: np.mean((X @ w + b - y) ** 2))."
            ) from None
        except ValueError:  # builtins without a signature: let the call itself decide
            pass

        def loss_of_flat(flat):
            return closure(*self._unflatten(flat))

        w = np.concatenate([p.value.ravel() for p in self.params])
        with enable_grad():
            loss, g = value_and_grad(loss_of_flat)(w)               # L(w), g = ∇L(w)
            H = hessian(loss_of_flat)(w)                            # H = ∇²L(w)
        uses_own = self._reaches_own_parameters(loss)
        loss, g, H = (a.value if type(a) is Tensor else a for a in (loss, g, H))  # other leaves: values only
        H = (H + H.T) / 2                                           # symmetric up to rounding
        A = H + self.damping * np.eye(len(w), dtype=H.dtype)        # H + λI
        try:
            np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            raise self._not_positive_definite(H, uses_own) from None
        if uses_own:
            raise ClosureError("Newton.step(closure): the loss uses the optimizer's own parameter Tensors, so its "
                               "gradient and Hessian with respect to the closure's arguments miss those uses "
                               f"(the step would be wrong).\n  {CLOSURE_HINT}.")
        d = np.linalg.solve(A, g)                                   # d = (H + λI)⁻¹ g
        start = 0
        for p, size in zip(self.params, self.sizes, strict=True):
            with p.writable() as w:
                w -= self.lr * d[start:start + size].reshape(p.shape).astype(p.dtype, copy=False)
            start += size                                           # w ← w − η d
        return float(loss)

    def _reaches_own_parameters(self, loss) -> bool:
        """True when the loss was computed from the optimizer's own parameter Tensors (it then comes back
        from ``value_and_grad`` still linked to them)."""
        if type(loss) is not Tensor:
            return False
        own = {id(p) for p in self.params}
        return any(id(t) in own for t in reverse_topological_order(loss))

    def _not_positive_definite(self, H: np.ndarray, uses_own: bool = False) -> NotPositiveDefiniteError:
        smallest = float(np.linalg.eigvalsh(H.astype(np.float64))[0])
        hint = (f"does the closure use the parameters it is given? It uses the optimizer's own Tensors: "
                f"{CLOSURE_HINT}." if uses_own else
                "the Hessian is all zeros: does the closure use the parameters it is given (not the "
                "optimizer's own Tensors)?" if not np.any(H) else
                f"the loss curves downward here; pass damping > {-smallest:.3g} (e.g. "
                f"Newton(params, damping={max(2 * -smallest, 1e-8):.3g})), or start nearer a minimum.")
        return NotPositiveDefiniteError(
            f"Newton: H + λI is not positive definite (smallest eigenvalue of H = {smallest:.3g}, "
            f"damping λ = {self.damping:g}), so the Newton step would not go downhill.\n  {hint}"
        )
