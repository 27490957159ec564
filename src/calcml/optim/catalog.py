"""The optimizers by name: one table for every place that lets a person pick one by a word (the race,
``calcml optimize``, ``calcml train``, the lab).

Names say what the update is: "gd" is plain gradient descent, "momentum" is heavy-ball momentum 0.9,
"nesterov" Nesterov momentum 0.9. "sgd" is an alias of "gd" (``cm.optim.SGD`` without momentum, as in
PyTorch); a learning rate is chosen by the caller (each race surface and each training recipe has its own).

>>> make_optimizer("momentum", [cm.Tensor(np.zeros(2), requires_grad=True)], lr=0.1).momentum
0.9
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from calcml.autodiff.tensor import Tensor
from calcml.optim.adagrad import Adagrad
from calcml.optim.adam import Adam, AdamW
from calcml.optim.newton import Newton
from calcml.optim.optimizer import Optimizer
from calcml.optim.rmsprop import RMSprop
from calcml.optim.sgd import SGD


class NamedOptimizer(NamedTuple):
    """An optimizer class with the settings its name stands for; ``adaptive``: scales its own steps per
    coordinate (Adagrad, RMSprop, Adam), so it wants a different learning rate than gradient descent."""

    label: str
    cls: type[Optimizer]
    settings: dict[str, Any]
    adaptive: bool


OPTIMIZERS: dict[str, NamedOptimizer] = {
    "gd": NamedOptimizer("GD", SGD, {}, False),
    "momentum": NamedOptimizer("momentum 0.9", SGD, {"momentum": 0.9}, False),
    "nesterov": NamedOptimizer("Nesterov 0.9", SGD, {"momentum": 0.9, "nesterov": True}, False),
    "adagrad": NamedOptimizer("AdaGrad", Adagrad, {}, True),
    "rmsprop": NamedOptimizer("RMSProp", RMSprop, {}, True),
    "adam": NamedOptimizer("Adam", Adam, {}, True),
    "adamw": NamedOptimizer("AdamW", AdamW, {"weight_decay": 1e-2}, True),
    "newton": NamedOptimizer("Newton", Newton, {}, False),
}
ALIASES = {"sgd": "gd", "gradient-descent": "gd", "heavy-ball": "momentum", "nag": "nesterov"}


def canonical_name(name: str) -> str | None:
    """The table's name for ``name`` (case and aliases resolved), or None when there is no such optimizer."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in OPTIMIZERS else None


def make_optimizer(name: str, params: Iterable[Tensor], lr: float) -> Optimizer:
    """The optimizer called ``name`` (a key of OPTIMIZERS or an alias) on ``params`` with learning rate ``lr``."""
    key = canonical_name(name)
    if key is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}.")
    entry = OPTIMIZERS[key]
    return entry.cls(list(params), lr=lr, **entry.settings)
