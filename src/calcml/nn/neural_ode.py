"""A Neural ODE (Chen et al. 2018): y' = f_θ(y) with f_θ a network, y(ts) = odeint(f_θ, y0, ts).

The network is any ``cm.nn`` module; its parameters are handed to ``odeint`` explicitly, so both the
backpropagation and the adjoint gradients reach them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from calcml.autodiff.tensor import Tensor
from calcml.nn.module import Module
from calcml.ode.odeint import odeint


@contextlib.contextmanager
def parameters_replaced(module: Module, values: Sequence[Any]) -> Iterator[None]:
    """Run ``module`` with ``values`` in place of its parameters (same order as ``parameters()``)."""
    owners = {}
    for sub in module.modules():
        for name, value in vars(sub).items():
            if type(value) is Tensor and value.requires_grad:
                owners[id(value)] = (sub, name)
    params = module.parameters()
    missing = [i for i, p in enumerate(params) if id(p) not in owners]
    if missing:
        raise TypeError(f"NeuralODE: parameter(s) {missing} of {type(module).__name__} are not direct attributes "
                        "of a module (e.g. held in a list), so they cannot be swapped for the solver's copies.")
    slots = [owners[id(p)] for p in params]
    try:
        for (sub, name), value in zip(slots, values):
            setattr(sub, name, value)
        yield
    finally:
        for (sub, name), p in zip(slots, params):
            setattr(sub, name, p)


class NeuralODE(Module):
    """y(ts) = odeint(lambda t, y: field(y), y0, ts): a continuous-depth model.

    >>> dense = lambda n, m: cm.nn.Linear(n, m, dtype=np.float64)
    >>> field = cm.nn.Sequential(dense(2, 32), cm.nn.Tanh(), dense(32, 2))
    >>> model = cm.nn.NeuralODE(field, method="rk4", step=0.1)
    >>> model(np.array([2.0, 0.0]), np.linspace(0, 1, 11)).shape
    (11, 2)
    """

    def __init__(self, field: Module, method: str = "dopri5", adjoint: bool = False, rtol: float = 1e-6,
                 atol: float = 1e-8, step: float | None = None):
        self.field = field
        self.options = dict(method=method, adjoint=adjoint, rtol=rtol, atol=atol, step=step)

    def vector_field(self, t: float, y: Any, params: tuple) -> Any:
        """dy/dt = field(y) with the field's parameters replaced by ``params`` (what odeint differentiates)."""
        with parameters_replaced(self.field, params):
            return self.field(y)

    def forward(self, y0: Any, ts: Any) -> Any:
        return odeint(self.vector_field, y0, ts, tuple(self.field.parameters()), **self.options)
