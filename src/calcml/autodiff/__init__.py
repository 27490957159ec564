"""calcml's automatic differentiation engine: Tensor, primitives with VJP and JVP rules, transforms."""

from calcml.autodiff import in_place, memory, rules, tensor_methods, tree  # noqa: F401  (rules, Tensor methods)
from calcml.autodiff.batching import BatchingError, vmap
from calcml.autodiff.check import GradCheck, GradCheckWarning, check_grad
from calcml.autodiff.custom import checkpoint, custom_jvp, custom_vjp
from calcml.autodiff.dispatch import supported_functions
from calcml.autodiff.errors import (
    AnomalyError,
    CalcmlError,
    GradientMismatch,
    GradientMismatchError,
    GraphEscapeError,
    InPlaceError,
    NonScalarOutputError,
    NoRuleError,
    OperationError,
    ShapeError,
    StaleGraphError,
    StructureError,
    UnsupportedTransformError,
)
from calcml.autodiff.graph import Graph, trace
from calcml.autodiff.primitive import Primitive, primitive
from calcml.autodiff.rules.reductions import logsumexp, softmax
from calcml.autodiff.state import detect_anomaly, enable_grad, no_grad
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms import grad, hessian, hvp, jacobian, jvp, stop_gradient, value_and_grad, vjp

__all__ = [
    "AnomalyError", "CalcmlError", "GradCheck", "GradCheckWarning", "GradientMismatch", "GradientMismatchError",
    "GraphEscapeError", "InPlaceError",
    "NoRuleError", "StaleGraphError", "StructureError", "stop_gradient", "tree", "checkpoint", "custom_jvp",
    "custom_vjp", "memory", "vmap", "BatchingError",
    "NonScalarOutputError", "OperationError", "Primitive", "ShapeError", "Tensor",
    "UnsupportedTransformError", "check_grad", "detect_anomaly", "enable_grad", "grad", "hessian", "hvp",
    "jacobian", "jvp", "logsumexp", "no_grad", "primitive", "softmax", "supported_functions",
    "value_and_grad", "vjp", "Graph", "trace",
]
