"""Optimizers and learning-rate schedules, with ``torch.optim``'s update equations.

``cm.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW`` (first order: they read ``p.grad``),
``Newton`` (second order, via ``cm.hessian``), and the schedules ``StepLR``, ``ExponentialLR``,
``CosineAnnealingLR``.
"""

from calcml.optim.adagrad import Adagrad
from calcml.optim.adam import Adam, AdamW
from calcml.optim.newton import ClosureError, HessianTooLargeError, Newton, NotPositiveDefiniteError
from calcml.optim.optimizer import HyperparameterError, Optimizer, ParameterListError
from calcml.optim.rmsprop import RMSprop
from calcml.optim.schedules import CosineAnnealingLR, ExponentialLR, LRSchedule, StepLR
from calcml.optim.sgd import SGD

__all__ = [
    "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Newton", "Optimizer",
    "StepLR", "ExponentialLR", "CosineAnnealingLR", "LRSchedule",
    "HyperparameterError", "ParameterListError", "HessianTooLargeError", "NotPositiveDefiniteError", "ClosureError",
]
