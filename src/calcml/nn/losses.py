"""Loss functions: ``loss(prediction, target, reduction="mean")`` -> a scalar Tensor.

``reduction`` is "mean" (average over every element; over samples for cross-entropy and the hinge
losses, as PyTorch), "sum", or "none" (the per-element or per-sample losses). Targets are arrays or
Tensors; a float target is differentiated like the prediction (soft targets, distillation), class indices
are not. The penalties take parameters instead.
Each formula is PyTorch's, so the values and gradients match torch.nn.functional.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from calcml.autodiff.batching.rules import elementwise, every_example
from calcml.autodiff.errors import CalcmlError, ShapeError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.reductions import logsumexp, softmax
from calcml.autodiff.rules.refusals import refused_where
from calcml.autodiff.tensor import Tensor
from calcml.nn.activations import softplus
from calcml.nn.fused import Residual, call
from calcml.nn.module import Module

REDUCTIONS = ("mean", "sum", "none")


def _target(target, like):
    """The target in the prediction's float type: a Tensor stays one, so that a derivative with respect to it
    is taken (as in PyTorch) and under cm.vmap each example keeps its own."""
    value = target if type(target) is Tensor else np.asarray(target)
    if np.issubdtype(value.dtype, np.floating):
        value = np.astype(value, np.result_type(like), copy=False)
    return value


def _same_shape(prediction, target, loss: str) -> None:
    if np.shape(prediction) != target.shape:
        raise ShapeError(
            f"{loss}: prediction has shape {np.shape(prediction)} but target has shape {target.shape}; "
            "they must match (reshape the target, e.g. y[:, None] for a single output column)."
        )


def reduce(losses, reduction: str):
    """Apply ``reduction`` ("mean", "sum" or "none") to a Tensor of losses."""
    if reduction == "mean":
        return np.mean(losses)
    if reduction == "sum":
        return np.sum(losses)
    if reduction == "none":
        return losses
    raise CalcmlError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")


# ---- regression ---------------------------------------------------------------------------------
def mse(prediction, target, reduction: str = "mean"):
    """(ŷ − y)².  ∂/∂ŷ = 2(ŷ − y) (divided by the count for "mean")."""
    target = _target(target, prediction)
    _same_shape(prediction, target, "mse")
    diff = prediction - target
    return reduce(diff * diff, reduction)


def mae(prediction, target, reduction: str = "mean"):
    """|ŷ − y|.  ∂/∂ŷ = sign(ŷ − y), 0 where ŷ = y."""
    target = _target(target, prediction)
    _same_shape(prediction, target, "mae")
    return reduce(np.abs(prediction - target), reduction)


def huber(prediction, target, delta: float = 1.0, reduction: str = "mean"):
    """½d² for |d| < δ, else δ(|d| − ½δ), with d = ŷ − y.  ∂/∂ŷ = clip(d, −δ, δ)."""
    target = _target(target, prediction)
    _same_shape(prediction, target, "huber")
    diff = prediction - target
    size = np.abs(diff)
    return reduce(np.where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta)), reduction)


# ---- classification -----------------------------------------------------------------------------
def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean"):
    """−[y ln σ(z) + (1 − y) ln(1 − σ(z))] = softplus(z) − y·z, stable for any z.  ∂/∂z = σ(z) − y."""
    target = _target(target, logits)
    _same_shape(logits, target, "binary_cross_entropy_with_logits")
    return reduce(softplus(logits) - target * logits, reduction)


@primitive(formula=Formula("∂/∂z = (Σ_j y_j)·softmax(z) − y"))
def softmax_cross_entropy(logits, probabilities):
    """Per-sample −Σ_j y_j log softmax(z)_j = (Σ_j y_j)·logsumexp(z) − ⟨y, z⟩, never overflowing.

    ∂/∂z = (Σ_j y_j)·softmax(z) − y  (= softmax(z) − onehot for a one-hot y).
    """
    return np.sum(probabilities, axis=-1) * logsumexp.forward(logits, axis=-1) - np.sum(probabilities * logits,
                                                                                       axis=-1)


def _cross_entropy_slope(logits, probabilities):
    return np.sum(probabilities, axis=-1, keepdims=True) * call(softmax, logits, axis=-1) - probabilities


softmax_cross_entropy.defvjp(
    lambda g, ans, z, y: np.expand_dims(g, -1) * _cross_entropy_slope(z, y),
    lambda g, ans, z, y: np.expand_dims(g, -1) * (call(logsumexp, z, axis=-1, keepdims=True) - z),
)
softmax_cross_entropy.defjvp(
    lambda t, ans, z, y: np.sum(t * _cross_entropy_slope(z, y), axis=-1),
    lambda t, ans, z, y: np.sum(t * (logsumexp.forward(z, axis=-1, keepdims=True) - z), axis=-1),
)


def _checked_labels(labels, classes: int):
    """The class indices, once each lies in [0, C − 1] (checked on every example's under cm.vmap)."""
    if type(labels) is Tensor:
        return refused_where(labels, (labels < 0) | (labels >= classes),
                             f"class indices must lie in [0, {classes - 1}]; an example's labels do not.")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise CalcmlError(f"class indices must lie in [0, {classes - 1}]; got values from {labels.min()} "
                          f"to {labels.max()}.")
    return labels


def _one_hot(labels, classes: int, dtype):
    return np.astype(_checked_labels(labels, classes)[..., None] == np.arange(classes), dtype)


def _reduce_samples(losses, reduction: str):
    """The reduction of per-sample values along their last axis (a forward-mode batch stays in front)."""
    if reduction == "mean":
        return losses.mean(axis=-1)
    return losses.sum(axis=-1) if reduction == "sum" else losses


def _per_sample_weight(g, reduction: str, samples: int):
    """∂(reduction)/∂ℓ_n times g, shaped to scale each row of an (N, C) slope: g/N, g, or g[:, None]."""
    if reduction == "mean":
        return g / samples
    return g if reduction == "sum" else np.expand_dims(g, -1)


@primitive(formula=Formula("∂ℓ_n/∂z_n = softmax(z_n) − onehot(y_n) (÷ N for the mean)"))
def class_cross_entropy(logits, labels, reduction="mean", residual=None):
    """Softmax cross-entropy of logits z (N, C) with integer class labels y (N,), then ``reduction``:

        ℓ_n = −log softmax(z_n)_{y_n} = logsumexp(z_n) − z_{n, y_n},   shifted by max z_n (never overflows)
        ∂ℓ_n/∂z_n = softmax(z_n) − onehot(y_n)   (÷ N for "mean")

    No one-hot matrix in the forward pass; the softmax it computes is kept in ``residual`` (a Residual) for
    the backward pass. Labels are data: no gradient.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)  # a row of −inf gives NaN, as in PyTorch
    exps = np.exp(shifted)
    total = exps.sum(axis=-1, keepdims=True)
    losses = np.log(total[:, 0]) - shifted[np.arange(len(labels)), labels]
    if residual is not None:
        residual.keep(logits, np.divide(exps, total, out=exps))
    return _reduce_samples(losses, reduction)


def _class_cross_entropy_slope(logits, labels, residual):
    """softmax(z) − onehot(y): from the forward pass's softmax when it was kept for these logits, else
    computed (traced when the logits are a Tensor, so that the gradient can be differentiated again)."""
    probabilities = None if residual is None else residual.take(logits)
    if probabilities is None:
        return call(softmax, logits, axis=-1) - _one_hot(labels, np.shape(logits)[-1], np.result_type(logits))
    probabilities[np.arange(len(labels)), labels] -= 1  # the kept softmax is ours now: changed in place
    return probabilities


class_cross_entropy.defvjp(
    lambda g, ans, z, y, reduction="mean", residual=None:
        _per_sample_weight(g, reduction, np.shape(z)[-2]) * _class_cross_entropy_slope(z, y, residual),
)
class_cross_entropy.defjvp(
    lambda t, ans, z, y, reduction="mean", residual=None:
        _reduce_samples(np.sum(t * _class_cross_entropy_slope(z, y, None), axis=-1), reduction),
)



# ---- cm.vmap: each example's samples are more samples ------------------------------------------------------
def _class_cross_entropy_batched(fn, args: tuple, kwargs: dict, size: int):
    """Logits (B, N, C) and labels (B, N): the B·N samples' losses, then each example's own reduction."""
    logits, labels = (every_example(a, size) for a in args[:2])
    reduction = args[2] if len(args) > 2 else kwargs.get("reduction", "mean")
    losses = np.reshape(fn(np.reshape(logits, (-1, np.shape(logits)[-1])), np.reshape(labels, (-1,)),
                           reduction="none"), np.shape(labels))
    return _reduce_samples(losses, reduction)


class_cross_entropy.defvmap(_class_cross_entropy_batched)
softmax_cross_entropy.defvmap(elementwise)  # per sample along the last axis: leading axes pass through

def _class_targets(logits, target, loss: str) -> np.ndarray:
    """Targets as class probabilities, shape of ``logits``: from class indices (N,) or one-hot (N, C)."""
    value = _target(target, logits)
    shape = np.shape(logits)
    if len(shape) != 2:
        raise ShapeError(f"{loss} expects logits of shape (N, C); got {shape}.")
    if value.shape == shape[:1] and not np.issubdtype(value.dtype, np.floating):
        return _one_hot(value, shape[1], np.result_type(logits))
    if value.shape == shape:
        return value
    raise ShapeError(f"{loss}: targets must be class indices of shape {shape[:1]} (integers) or one-hot / "
                     f"probabilities of shape {shape}; got {value.shape} ({value.dtype}).")


def cross_entropy(logits, target, reduction: str = "mean"):
    """Softmax cross-entropy from logits (N, C); target: class indices (N,) or one-hot/probabilities (N, C).

    −log softmax(z)_y = logsumexp(z) − z_y;  for "mean" the fused gradient is (softmax(z) − onehot)/N.
    """
    labels = _target(target, logits)
    shape = np.shape(logits)
    if len(shape) == 2 and labels.shape == shape[:1] and np.issubdtype(labels.dtype, np.integer):
        if reduction not in REDUCTIONS:
            raise CalcmlError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
        labels = _checked_labels(labels, shape[1])
        return class_cross_entropy(logits, labels, reduction=reduction, residual=Residual())
    return reduce(softmax_cross_entropy(logits, _class_targets(logits, target, "cross_entropy")), reduction)


def hinge(prediction, target, reduction: str = "mean"):
    """max(0, 1 − y·ŷ) for labels y ∈ {−1, +1}.  ∂/∂ŷ = −y where y·ŷ < 1, else 0."""
    target = _target(target, prediction)
    _same_shape(prediction, target, "hinge")
    target = refused_where(target, np.abs(target) != 1, "hinge: labels must be −1 or +1 (map {0, 1} labels with "
                           "2·y − 1).")
    return reduce(np.maximum(1 - target * prediction, 0), reduction)


def multiclass_hinge(logits, target, margin: float = 1.0, reduction: str = "mean"):
    """Crammer–Singer style, as torch.nn.functional.multi_margin_loss:
    ℓ = Σ_{j≠y} max(0, margin − z_y + z_j) / C.  ∂ℓ/∂z_j = 1/C for each violating j, −(count)/C for z_y."""
    onehot = _class_targets(logits, target, "multiclass_hinge")
    classes = np.shape(logits)[1]
    correct = np.sum(logits * onehot, axis=1, keepdims=True)
    violations = np.maximum(margin - correct + logits, 0)
    return reduce(np.sum(np.where(onehot == 0, violations, 0.0), axis=1) / classes, reduction)


# ---- penalties ----------------------------------------------------------------------------------
def _tensors(params) -> list:
    if isinstance(params, Module):
        return params.parameters()
    if type(params) is Tensor or isinstance(params, np.ndarray):
        return [params]
    return list(params)


def l1_penalty(params: Module | Tensor | Iterable, strength: float = 1.0):
    """λ Σ|w| (lasso): pushes weights to exactly 0.  ∂/∂w = λ·sign(w)."""
    return strength * sum(np.sum(np.abs(p)) for p in _tensors(params))


def l2_penalty(params: Module | Tensor | Iterable, strength: float = 1.0):
    """(λ/2) Σ w² (ridge, weight decay).  ∂/∂w = λ·w — exactly SGD's weight_decay=λ."""
    return 0.5 * strength * sum(np.sum(p * p) for p in _tensors(params))


# ---- module forms -------------------------------------------------------------------------------
class _Loss(Module):
    function = staticmethod(mse)

    def __init__(self, reduction: str = "mean", **options):
        self.reduction, self.options = reduction, options

    def forward(self, prediction, target):
        return type(self).function(prediction, target, reduction=self.reduction, **self.options)


class MSELoss(_Loss):
    """Module form of ``mse``."""

    function = staticmethod(mse)


class L1Loss(_Loss):
    """Module form of ``mae`` (PyTorch's name; ``MAELoss`` is an alias of this class)."""

    function = staticmethod(mae)


class HuberLoss(_Loss):
    """Module form of ``huber`` (``HuberLoss(delta=1.0)``)."""

    function = staticmethod(huber)


class BCEWithLogitsLoss(_Loss):
    """Module form of ``binary_cross_entropy_with_logits``."""

    function = staticmethod(binary_cross_entropy_with_logits)


class CrossEntropyLoss(_Loss):
    """Module form of ``cross_entropy``."""

    function = staticmethod(cross_entropy)


class HingeLoss(_Loss):
    """Module form of ``hinge``."""

    function = staticmethod(hinge)


class MultiMarginLoss(_Loss):
    """Module form of ``multiclass_hinge`` (``MultiMarginLoss(margin=1.0)``)."""

    function = staticmethod(multiclass_hinge)


MAELoss = L1Loss  # an alias, named after the function ``mae``: the same class, not a second loss
