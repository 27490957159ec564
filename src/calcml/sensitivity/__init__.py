"""Sensitivity of a model's output to its inputs: saliency (input gradients), gradient × input, SmoothGrad
and integrated gradients with the completeness check, and per-feature sensitivity over a data set. ``f(x)``
returns a scalar (pick one output: ``lambda x: model(x)[..., k].sum()``); attributions are shaped like ``x``."""

from calcml.sensitivity.errors import SensitivityInputError
from calcml.sensitivity.features import FeatureSensitivity, feature_sensitivity
from calcml.sensitivity.gradients import gradient_x_input, saliency, smoothgrad
from calcml.sensitivity.integrated import IntegratedGradients, integrated_gradients

__all__ = [
    "FeatureSensitivity", "IntegratedGradients", "SensitivityInputError", "feature_sensitivity", "gradient_x_input",
    "integrated_gradients", "saliency", "smoothgrad",
]
