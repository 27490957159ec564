"""The Hessian of a loss as a linear operator on one flat vector, applied by Hessian-vector products.

``loss(params)`` returns a scalar and ``params`` is an array or a pytree of arrays. The operator flattens
the pytree's leaves (``cm.tree``) into one float64 vector θ of length n, and computes H v = ∇²L(θ) v with
``cm.hvp`` (forward over reverse): a small multiple of one gradient's cost, never the n × n matrix. It counts
the products it computed, so every method can say what it cost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff import hvp, no_grad, tree, value_and_grad
from calcml.autodiff.tensor import Tensor
from calcml.curvature.errors import CurvatureInputError


def _plain(leaf: Any) -> np.ndarray:
    return np.asarray(leaf.value if type(leaf) is Tensor else leaf, dtype=np.float64)


class HessianOperator:
    """v ↦ ∇²loss(params) v on flat vectors, counting the products (``hvps``).

    >>> H = HessianOperator(lambda p: np.sum(p["a"] ** 2) + 3 * p["b"] ** 2, {"a": np.ones(2), "b": 1.0})
    >>> H(np.array([1.0, 0.0, 1.0])), H.hvps        # leaves in cm.tree order: a (2 values), then b
    (array([2., 0., 6.]), 1)
    """

    def __init__(self, loss: Callable[[Any], Any], params: Any):
        leaves, self.treedef = tree.flatten(params)
        if not leaves:
            raise CurvatureInputError("curvature: params has no arrays to differentiate.")
        arrays = [_plain(leaf) for leaf in leaves]
        self.shapes = [a.shape for a in arrays]
        self.sizes = [a.size for a in arrays]
        self.offsets = np.cumsum([0, *self.sizes])
        self.size = int(self.offsets[-1])
        self.loss = loss
        self.params = tree.unflatten(self.treedef, arrays)
        self.hvps = 0

    def unflatten(self, vector: np.ndarray) -> Any:
        """A flat vector of length n as a pytree shaped like ``params``."""
        pieces = [vector[a:b].reshape(shape) for a, b, shape in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]
        return tree.unflatten(self.treedef, pieces)

    def flatten(self, value: Any) -> np.ndarray:
        """A pytree shaped like ``params`` as one flat float64 vector."""
        return np.concatenate([_plain(leaf).ravel() for leaf in tree.leaves(value)])

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        with no_grad():  # plain arrays out, whatever the loss closes over
            product = hvp(self.loss, self.params, self.unflatten(np.asarray(vector, dtype=np.float64)))
        self.hvps += 1
        return self.flatten(product)

    def value(self, vector: np.ndarray | None = None) -> float:
        """loss(params) as a number — or the loss at another point, given as a flat vector."""
        point = self.params if vector is None else self.unflatten(np.asarray(vector, dtype=np.float64))
        with no_grad():
            return float(_plain(self.loss(point)))

    def value_and_gradient(self) -> tuple[float, np.ndarray]:
        """loss(params) and ∇loss(params) as a flat vector, in one forward and one backward pass."""
        with no_grad():
            value, gradient = value_and_grad(self.loss)(self.params)
        return float(_plain(value)), self.flatten(gradient)

    def at(self, vector: np.ndarray) -> HessianOperator:
        """The same loss's operator at another point, given as a flat vector (a fresh product count)."""
        return HessianOperator(self.loss, self.unflatten(np.asarray(vector, dtype=np.float64)))


def model_loss(model: Any, loss_fn: Callable, X: Any, y: Any) -> tuple[Callable[[Any], Any], dict[str, np.ndarray]]:
    """(loss_of_params, params) for an ``nn`` model on data: ``loss_of_params(p) = loss_fn(model(X), y)`` with
    the model's parameters replaced by the arrays of ``p`` (a dict keyed by the parameter names), and ``params``
    a float64 copy of the model's current weights. The model itself is left untouched.

    >>> model = cm.nn.Sequential(cm.nn.Linear(4, 3, rng=0), cm.nn.Tanh(), cm.nn.Linear(3, 2, rng=1))
    >>> loss, params = cm.curvature.model_loss(model, cm.nn.losses.cross_entropy, np.ones((5, 4)), np.zeros(5, int))
    >>> sorted(params), float(loss(params)) > 0
    (['0.bias', '0.weight', '2.bias', '2.weight'], True)

    The weights are swapped rather than differentiated in place: ``cm.hvp`` of a loss that closes over the model's
    own leaves does not reach them.
    """
    from calcml.nn.neural_ode import parameters_replaced

    names = [name for name, _ in model.named_parameters()]
    params = {name: np.array(p.value, dtype=np.float64) for name, p in model.named_parameters()}

    def loss_of_params(p: dict[str, Any]) -> Any:
        with parameters_replaced(model, [p[name] for name in names]):
            return loss_fn(model(X), y)

    return loss_of_params, params
