"""Training: the loop, its history, callbacks (early stopping), gradient monitors and clipping."""

from calcml.train.callbacks import Callback, EarlyStopping, TrainingState
from calcml.train.clipping import NonFiniteGradientError, clip_grad_norm, clip_grad_value, grad_norm
from calcml.train.fit import Evaluation, evaluate, fit
from calcml.train.history import History
from calcml.train.monitors import GradientReport, GradientWarning, GradNormMonitor, layer_grad_norms

__all__ = [
    "Callback", "EarlyStopping", "Evaluation", "GradNormMonitor", "GradientReport", "GradientWarning", "History",
    "NonFiniteGradientError", "TrainingState", "clip_grad_norm", "clip_grad_value", "evaluate", "fit",
    "grad_norm", "layer_grad_norms",
]
