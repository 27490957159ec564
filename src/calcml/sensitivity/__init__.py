"""Sensitivity of a model's output to its inputs: saliency (input gradients), gradient × input, SmoothGrad
and integrated gradients with the completeness check. ``f(x)`` returns a scalar (pick one output:
``lambda x: model(x)[..., k].sum()``); attributions are shaped like ``x``."""

from calcml.sensitivity.gradients import gradient_x_input, saliency, smoothgrad
from calcml.sensitivity.integrated import IntegratedGradients, integrated_gradients

__all__ = ["IntegratedGradients", "gradient_x_input", "integrated_gradients", "saliency", "smoothgrad"]
