"""Errors a person can act on: each says what went wrong, where, and what to do."""

from __future__ import annotations

from calcml.errors import CalcmlError  # the root, below every layer; re-exported here for the engine


class NoRuleError(CalcmlError, TypeError):
    """A NumPy function was called on a Tensor but calcml has no derivative rule for it."""


class NoForwardRuleError(NoRuleError):
    """A primitive has a reverse-mode (VJP) rule but no forward-mode (JVP) rule for an argument."""


class InPlaceError(CalcmlError, TypeError):
    """Something tried to write into a traced Tensor; the graph would silently lose that write."""


class GraphEscapeError(CalcmlError, TypeError):
    """A traced Tensor was turned into a plain value (np.asarray, float, math.exp, assignment into an
    ndarray) while it was being differentiated: its derivative would silently have been zero."""


class StaleGraphError(CalcmlError, RuntimeError):
    """``backward()`` reached a leaf whose values were changed in place after the graph used them."""


class NonScalarOutputError(CalcmlError, ValueError):
    """``grad`` was asked for the gradient of a function whose output is not a scalar."""


class ShapeError(CalcmlError, ValueError):
    """An operation received arrays whose shapes do not fit together."""


class OperationError(CalcmlError, ValueError):
    """A primitive's forward computation failed; the message names the op and the arguments."""


class IndexOutOfRangeError(OperationError, IndexError):
    """An index points outside the array; it is an IndexError too, so ``except IndexError`` still works."""


class StructureError(CalcmlError, ValueError):
    """Two pytrees that must share a structure (say a primal and its tangent) do not."""


class GradientMismatchError(CalcmlError, AssertionError):
    """``check_grad`` found autodiff and finite differences disagreeing (also importable as ``GradientMismatch``)."""


GradientMismatch = GradientMismatchError  # the name DESIGN.md and earlier releases use; kept as an alias


class AnomalyError(CalcmlError, FloatingPointError):
    """Under ``detect_anomaly()``, a primitive produced a NaN or infinite value or gradient."""


class UnsupportedTransformError(CalcmlError, NotImplementedError):
    """A composition of transforms that calcml does not support (it refuses rather than answer wrongly)."""


def describe(value: object) -> str:
    """A short description of an argument for error messages: ``Tensor(shape=(3,), float64)``."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__}(shape={shape}, {getattr(value, 'dtype', '?')})"
    if isinstance(value, (list, tuple)) and len(value) <= 6:
        inner = ", ".join(describe(v) for v in value)
        return f"{type(value).__name__}[{inner}]"
    text = repr(value)
    return text if len(text) <= 40 else type(value).__name__
