"""What every optimizer shares: the parameter list, the learning rate, per-parameter state.

An optimizer holds leaf Tensors (the parameters) and, at each ``step()``, moves every parameter
that has a gradient:  w ← w − η · direction(g, state).  The direction is the only thing that
differs between SGD, Adagrad, RMSprop and Adam; each subclass writes its rule out in ``step``.
Parameters whose ``.grad`` is None are skipped, as in ``torch.optim``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from calcml.autodiff.errors import CalcmlError, ShapeError, describe
from calcml.autodiff.tensor import Tensor


class HyperparameterError(CalcmlError, ValueError):
    """An optimizer or a learning-rate schedule was given a hyperparameter outside its valid range."""


class ParameterListError(CalcmlError, ValueError):
    """An optimizer was given something other than a non-empty list of distinct leaf Tensors."""


def check_range(owner: str, name: str, value: Any, low: float = 0.0, high: float = math.inf,
                high_open: bool = False, hint: str = "") -> float:
    """``value`` as a Python float, or a HyperparameterError saying which range it must lie in.

    Python floats keep float32 parameters float32 (NumPy treats them as weak scalars).
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise HyperparameterError(f"{owner}: {name} must be a number, got {describe(value)}.") from None
    above_high = number >= high if high_open else number > high
    if math.isnan(number) or number < low or above_high:
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}" if high != math.inf else f">= {low:g}"
        message = f"{owner}: {name} must be {'in ' if high != math.inf else ''}{interval}, got {value!r}."
        raise HyperparameterError(message + (f"\n  {hint}" if hint else ""))
    return number


def parameter_list(params: Iterable[Tensor], owner: str) -> list[Tensor]:
    """The parameters as a list, checked: leaf Tensors that require grad, each appearing once."""
    if isinstance(params, Tensor):
        raise ParameterListError(f"{owner} takes a list of parameters, not one Tensor: "
                                 f"{owner}([w], ...) or {owner}(model.parameters(), ...).")
    params = list(params)
    if not params:
        raise ParameterListError(f"{owner} got an empty parameter list: nothing to optimize.\n"
                                 "  parameters are cm.Tensor(..., requires_grad=True).")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise ParameterListError(f"{owner}: parameter {i} is {describe(p)}, not a cm.Tensor.\n"
                                     "  wrap it: cm.Tensor(array, requires_grad=True).")
        if not p.requires_grad:
            raise ParameterListError(f"{owner}: parameter {i} ({describe(p)}) does not require grad, so it "
                                     "would never get a gradient.\n  create it with requires_grad=True.")
        if p.node is not None:
            raise ParameterListError(f"{owner}: parameter {i} ({describe(p)}) was computed from other "
                                     f"Tensors (op {p.node.prim.name}); only leaf Tensors can be optimized.")
        if id(p) in seen:
            raise ParameterListError(f"{owner}: parameter {i} appears more than once in the list; "
                                     "it would be updated twice per step.")
        seen.add(id(p))
    return params


class Optimizer:
    """Base class: holds ``params`` (list of leaf Tensors), ``lr`` and ``state`` (one dict per parameter).

    Subclasses set their hyperparameters as attributes, list their names in ``hyperparameter_names``
    and implement ``step()`` by looping over ``self.gradients()``.
    """

    hyperparameter_names: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params = parameter_list(params, type(self).__name__)
        self.lr = lr
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The learning rate η; schedules change it between steps."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_range(type(self).__name__, "lr", value)

    def gradients(self) -> Iterator[tuple[np.ndarray, np.ndarray, dict[str, Any]]]:
        """(w, g, state) for each parameter that has a gradient.

        ``w`` is the parameter's own array, writable for the duration of the step (update it in place:
        ``w -= ...``; graphs that used the old values then refuse to backpropagate); ``g`` may be the
        parameter's ``.grad`` itself, so never modify it in place. ``g`` has w's dtype.
        """
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            g = p.grad.value if isinstance(p.grad, Tensor) else np.asarray(p.grad)
            if g.shape != p.value.shape:
                raise ShapeError(f"{type(self).__name__}: a parameter of shape {p.value.shape} has a "
                                 f"gradient of shape {g.shape}; they must match.")
            with p.writable() as w:
                yield w, g.astype(w.dtype, copy=False), state

    def step(self) -> Any:
        """Update every parameter that has a gradient."""
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``p.grad = None``) before the next backward pass."""
        for p in self.params:
            p.grad = None

    def hyperparameters(self) -> dict[str, Any]:
        """The optimizer's hyperparameters by name (lr, betas, ...)."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def state_dict(self) -> dict[str, Any]:
        """A copy of everything needed to resume: the hyperparameters and each parameter's state."""
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "state": {i: {key: np.copy(value) if isinstance(value, np.ndarray) else value
                          for key, value in state.items()}
                      for i, state in enumerate(self.state) if state},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from the ``state_dict()`` of the same kind of optimizer over same-shaped parameters."""
        name = type(self).__name__
        if state_dict.get("optimizer") != name:
            raise ValueError(f"{name}.load_state_dict got the state of {state_dict.get('optimizer')!r}.")
        for i, state in state_dict["state"].items():
            if not 0 <= int(i) < len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but this optimizer "
                                 f"has {len(self.params)} parameters.")
            for key, value in state.items():
                if isinstance(value, np.ndarray) and value.shape != self.params[int(i)].shape:
                    raise ShapeError(f"{name}.load_state_dict: state {key!r} of parameter {i} has shape "
                                     f"{value.shape}, the parameter has shape {self.params[int(i)].shape}.")
        for key, value in state_dict["hyperparameters"].items():
            setattr(self, key, value)
        self.state = [{} for _ in self.params]
        for i, state in state_dict["state"].items():
            self.state[int(i)] = {key: np.copy(value) if isinstance(value, np.ndarray) else value
                                  for key, value in state.items()}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"
