"""Probability, computed: densities by quadrature, Bayesian posteriors, gradients of expectations."""

from calcml.prob.density import (
    Normalized,
    cdf,
    expectation,
    normalize,
    softmax,
    variance,
)
from calcml.prob.density_checks import DensityError, DensityWarning
from calcml.prob.estimators import (
    Bernoulli,
    EstimatorWarning,
    Exponential,
    GradientEstimate,
    Normal,
    grad_expectation,
)
from calcml.prob.information import entropy, kl_divergence
from calcml.prob.posterior import Conjugate, Posterior, beta_binomial, normal_gamma, normal_normal, posterior

__all__ = [
    "Bernoulli", "Conjugate", "DensityError", "DensityWarning", "EstimatorWarning", "Exponential",
    "GradientEstimate", "Normal", "Normalized", "Posterior", "beta_binomial", "cdf", "entropy", "expectation",
    "grad_expectation", "kl_divergence", "normal_gamma", "normal_normal", "normalize", "posterior", "softmax",
    "variance",
]
