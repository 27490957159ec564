"""The generalized Gauss–Newton (GGN) matrix as an operator: G v = Jᵀ (∇²_z ℓ) J v, never formed.

For a loss L(θ) = ℓ(z(θ)) of a model's outputs z (logits), the chain rule twice gives

    ∇²L = Jᵀ (∇²_z ℓ) J + Σ_k (∂ℓ/∂z_k) ∇²z_k,        J = ∂z/∂θ.

The GGN keeps the first term: positive semi-definite whenever ℓ is convex in z (softmax cross-entropy, squared
error), so a Newton step with it always points downhill. It equals the Hessian when the second term vanishes —
in particular for a model linear in its parameters, such as multinomial logistic regression z = XW + b, where
every ∇²z_k = 0. (For softmax cross-entropy it is also the Fisher information matrix, for any model.) One
product costs a forward-mode J v (``cm.jvp``), a Hessian-vector product of ℓ in the outputs (``cm.hvp``) and a
pullback Jᵀ u (``cm.vjp``, recorded once per operator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff import hvp, jvp, no_grad, tree, vjp
from calcml.curvature.operator import HessianOperator


class GaussNewtonOperator(HessianOperator):
    """v ↦ Jᵀ ∇²ℓ(z) J v at params, on flat vectors, for the loss ``output_loss(outputs(params))``.

    ``outputs(params)`` returns the model's outputs (an array or a pytree of arrays) and ``output_loss(z)`` a
    scalar. ``hvps`` counts the GGN-vector products; ``flatten``/``unflatten``/``value`` are the Hessian
    operator's.

    >>> X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])
    >>> outputs = lambda w: np.tanh(X @ w)                  # a nonlinear model: the GGN is not the Hessian
    >>> G = cm.curvature.GaussNewtonOperator(outputs, lambda z: np.sum(z ** 2) / 2, np.zeros(2))
    >>> G(np.array([1.0, 0.0]))                              # Jᵀ J e₁ with J = X at w = 0 (tanh′(0) = 1)
    array([5.25, 1.5 ])
    """

    def __init__(self, outputs: Callable[[Any], Any], output_loss: Callable[[Any], Any], params: Any):
        super().__init__(lambda p: output_loss(outputs(p)), params)
        self.outputs, self.output_loss = outputs, output_loss
        with no_grad():
            z, self._pullback = vjp(outputs, self.params)
        self.z = tree.map(lambda leaf: np.asarray(getattr(leaf, "value", leaf), dtype=np.float64), z)

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        with no_grad():
            _, Jv = jvp(self.outputs, (self.params,), (self.unflatten(np.asarray(vector, dtype=np.float64)),))
            (product,) = self._pullback(hvp(self.output_loss, self.z, Jv))
        self.hvps += 1
        return self.flatten(product)

    def at(self, vector: np.ndarray) -> GaussNewtonOperator:
        """The GGN of the same model and loss at another point, given as a flat vector."""
        return GaussNewtonOperator(self.outputs, self.output_loss,
                                   self.unflatten(np.asarray(vector, dtype=np.float64)))
