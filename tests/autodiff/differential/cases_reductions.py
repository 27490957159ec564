"""Differential cases for reductions and order statistics: sum, mean, prod, max/min, var/std (with NumPy 2's
keyword arguments), running sums and products, diff, average, ptp, the nan-reductions, sort, partition,
unique and the quantile family."""

from __future__ import annotations

import numpy as np
import torch

from tests.autodiff.differential.spec import Case, fixed, same_shape

T = torch.float64
some_axes = same_shape(1, min_dims=1)  # at least one axis, so that axis=-1 exists
matrices = same_shape(1, min_dims=2, max_dims=3)


def with_nans(rng, shapes):
    """Values with about a quarter NaN, never a whole last-axis slice of NaNs (their gradient is 0)."""
    x = rng.uniform(-2, 2, size=shapes[0])
    holes = rng.uniform(size=x.shape) < 0.25
    if x.ndim:
        holes[..., 0] = False
    return (np.where(holes, np.nan, x),)


def separated(rng, shapes):
    """Values at least 0.3 apart, so that the small steps of finite differences never reorder them."""
    x = rng.permutation(int(np.prod(shapes[0]))).reshape(shapes[0]) * 0.4 - 1.0
    return (x + rng.uniform(-0.05, 0.05, size=x.shape),)


def positive_with_zeros(rng, shapes):
    """Values in [0.5, 2] with some exact zeros: products must stay exact (no division by x)."""
    x = rng.uniform(0.5, 2, size=shapes[0])
    return (np.where(rng.uniform(size=x.shape) < 0.3, 0.0, x),)


def torch_nan_var(x, correction):
    keep = ~torch.isnan(x)
    clean = torch.where(keep, x, 0.0)
    n = keep.sum(-1)
    mean = clean.sum(-1, keepdim=True) / n[..., None]
    return torch.where(keep, clean - mean, 0.0).pow(2).sum(-1) / (n - correction)


MASK = np.array([[True, False, True, True], [False, True, True, False], [True, True, False, True]])
WEIGHTS = np.array([0.5, 1.5, 2.0, 1.0], dtype=np.float32)  # float32 constants keep float32 inputs float32
Q = np.array([0.125, 0.5, 0.875], dtype=np.float32)  # exact in float32, so NumPy's float32 index is exact

CASES = [
    # -- sums and means ---------------------------------------------------------------------------
    Case("numpy.sum", lambda x: np.sum(x), shapes=same_shape(1), torch_fn=torch.sum),
    Case("numpy.sum", lambda x: np.sum(x, axis=-1, keepdims=True), shapes=some_axes,
         torch_fn=lambda x: x.sum(-1, keepdim=True)),
    Case("numpy.sum", lambda x: np.sum(x, axis=(0, -1)), shapes=matrices, torch_fn=lambda x: x.sum((0, -1))),
    Case("numpy.sum", lambda x: np.sum(x, axis=1, where=MASK, initial=0.5), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch.where(torch.tensor(MASK), x, 0.0).sum(1) + 0.5, note="where= and initial="),
    Case("numpy.mean", lambda x: np.mean(x, axis=0), shapes=some_axes, torch_fn=lambda x: x.mean(0)),
    Case("numpy.mean", lambda x: np.mean(x, axis=1, where=MASK, keepdims=True), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch.where(torch.tensor(MASK), x, 0.0).sum(1, keepdim=True)
         / torch.tensor(MASK.sum(1, keepdims=True), dtype=T)),
    Case("numpy.prod", lambda x: np.prod(x, axis=-1), shapes=some_axes, domain=(0.5, 1.5),
         torch_fn=lambda x: x.prod(-1)),
    Case("numpy.prod", lambda x: np.prod(x, axis=-1), shapes=some_axes, make_args=positive_with_zeros,
         torch_fn=lambda x: x.prod(-1), note="exact zeros: ∏_{j≠i} x_j without division"),
    Case("numpy.prod", lambda x: np.prod(x, axis=None, where=MASK, initial=2.0), shapes=fixed((3, 4)),
         domain=(0.5, 1.5), torch_fn=lambda x: torch.where(torch.tensor(MASK), x, 1.0).prod() * 2.0),
    # -- extrema (distinct drawn values: no ties) -------------------------------------------------
    Case("numpy.max", lambda x: np.max(x, axis=-1), shapes=some_axes, torch_fn=lambda x: x.amax(-1)),
    Case("numpy.max", lambda x: np.max(x, axis=1, where=MASK, initial=-1.0), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch.where(torch.tensor(MASK), x, -1.0).amax(1)),
    Case("numpy.min", lambda x: np.min(x, axis=0, keepdims=True), shapes=some_axes,
         torch_fn=lambda x: x.amin(0, keepdim=True)),
    Case("numpy.amax", lambda x: np.amax(x), shapes=same_shape(1), torch_fn=torch.amax),
    Case("numpy.amin", lambda x: np.amin(x, axis=-1), shapes=some_axes, torch_fn=lambda x: x.amin(-1)),
    Case("numpy.ptp", lambda x: np.ptp(x, axis=-1), shapes=some_axes,
         torch_fn=lambda x: x.amax(-1) - x.amin(-1)),
    # -- spread -----------------------------------------------------------------------------------
    Case("numpy.var", lambda x: np.var(x, axis=-1), shapes=some_axes,
         torch_fn=lambda x: x.var(-1, correction=0)),
    Case("numpy.var", lambda x: np.var(x, axis=0, correction=1, keepdims=True), shapes=fixed((4, 3)),
         torch_fn=lambda x: x.var(0, correction=1, keepdim=True), note="NumPy 2's correction="),
    Case("numpy.var", lambda x, m: np.var(x, axis=-1, mean=m), arity=2, shapes=fixed((3, 4), (3, 1)),
         torch_fn=lambda x, m: (x - m).pow(2).mean(-1), note="mean= given (and differentiated)"),
    Case("numpy.var", lambda x: np.var(x, axis=1, where=MASK), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch.stack([x[i][torch.tensor(MASK[i])].var(correction=0) for i in range(3)])),
    Case("numpy.std", lambda x: np.std(x, axis=-1, ddof=1), shapes=fixed((3, 4)),
         torch_fn=lambda x: x.std(-1, correction=1)),
    Case("numpy.std", lambda x: np.std(x, correction=1, mean=np.mean(x, keepdims=True)), shapes=fixed((2, 3)),
         torch_fn=lambda x: x.std(correction=1)),
    # -- running sums and products, differences ---------------------------------------------------
    Case("numpy.cumsum", lambda x: np.cumsum(x, axis=-1), shapes=some_axes, torch_fn=lambda x: x.cumsum(-1)),
    Case("numpy.cumsum", lambda x: np.cumsum(x), shapes=same_shape(1), torch_fn=lambda x: x.reshape(-1).cumsum(0)),
    Case("numpy.cumprod", lambda x: np.cumprod(x, axis=-1), shapes=some_axes, domain=(0.5, 1.5),
         torch_fn=lambda x: x.cumprod(-1)),
    Case("numpy.cumprod", lambda x: np.cumprod(x, axis=0), shapes=some_axes, make_args=positive_with_zeros,
         torch_fn=lambda x: x.cumprod(0), note="exact zeros, as torch.cumprod"),
    Case("numpy.cumprod", lambda x: np.cumprod(x), shapes=same_shape(1), make_args=positive_with_zeros,
         torch_fn=lambda x: x.reshape(-1).cumprod(0)),
    Case("numpy.cumulative_sum", lambda x: np.cumulative_sum(x, axis=-1, include_initial=True), shapes=some_axes,
         torch_fn=lambda x: torch.cat([torch.zeros_like(x[..., :1]), x.cumsum(-1)], -1)),
    Case("numpy.cumulative_prod", lambda x: np.cumulative_prod(x, axis=0), shapes=some_axes, domain=(0.5, 1.5),
         torch_fn=lambda x: x.cumprod(0)),
    Case("numpy.diff", lambda x: np.diff(x), shapes=some_axes, torch_fn=lambda x: torch.diff(x)),
    Case("numpy.diff", lambda x, e: np.diff(x, n=2, axis=0, prepend=e), arity=2, shapes=fixed((3, 2), (1, 2)),
         torch_fn=lambda x, e: torch.diff(x, n=2, dim=0, prepend=e)),
    Case("numpy.diff", lambda x, e: np.diff(x, axis=-1, append=e), arity=2, shapes=fixed((2, 3), (2, 1)),
         torch_fn=lambda x, e: torch.diff(x, dim=-1, append=e), note="a traced append"),
    # -- weighted average -------------------------------------------------------------------------
    Case("numpy.average", lambda x: np.average(x, axis=-1), shapes=some_axes, torch_fn=lambda x: x.mean(-1)),
    Case("numpy.average", lambda x: np.average(x, axis=1, weights=WEIGHTS), shapes=fixed((3, 4)),
         torch_fn=lambda x: (x * torch.tensor(WEIGHTS, dtype=T)).sum(1) / WEIGHTS.sum()),
    Case("numpy.average", lambda x, w: np.average(x, axis=0, weights=w, returned=True), arity=2,
         shapes=fixed((3, 2), (3, 2)), domain=((-2.0, 2.0), (0.5, 2.0)),
         torch_fn=lambda x, w: ((x * w).sum(0) / w.sum(0), w.sum(0)), note="traced weights, returned=True"),
    # -- nan-reductions: gradient 0 at the NaNs ---------------------------------------------------
    Case("numpy.nansum", lambda x: np.nansum(x, axis=-1), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.nansum(x, -1)),
    Case("numpy.nanmean", lambda x: np.nanmean(x, axis=-1), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.nanmean(x, -1)),
    Case("numpy.nanmax", lambda x: np.nanmax(x, axis=-1), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.where(torch.isnan(x), -torch.inf, x).amax(-1)),
    Case("numpy.nanmin", lambda x: np.nanmin(x, axis=-1, keepdims=True), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.where(torch.isnan(x), torch.inf, x).amin(-1, keepdim=True)),
    Case("numpy.nanprod", lambda x: np.nanprod(x, axis=-1), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.where(torch.isnan(x), 1.0, x).prod(-1)),
    Case("numpy.nanvar", lambda x: np.nanvar(x, axis=-1), shapes=fixed((3, 4)), make_args=with_nans,
         torch_fn=lambda x: torch_nan_var(x, 0)),
    Case("numpy.nanstd", lambda x: np.nanstd(x, axis=-1, ddof=1), shapes=fixed((3, 5)), make_args=with_nans,
         torch_fn=lambda x: torch_nan_var(x, 1).sqrt()),
    Case("numpy.nancumsum", lambda x: np.nancumsum(x, axis=-1), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.where(torch.isnan(x), 0.0, x).cumsum(-1)),
    Case("numpy.nancumprod", lambda x: np.nancumprod(x, axis=-1), shapes=some_axes, make_args=with_nans,
         torch_fn=lambda x: torch.where(torch.isnan(x), 1.0, x).cumprod(-1)),
    # -- order statistics (values drawn well apart: no ties, none reordered by a finite-difference step)
    Case("numpy.sort", lambda x: np.sort(x), shapes=some_axes, make_args=separated,
         torch_fn=lambda x: torch.sort(x).values),
    Case("numpy.sort", lambda x: np.sort(x, axis=0), shapes=some_axes, make_args=separated,
         torch_fn=lambda x: torch.sort(x, 0).values),
    Case("numpy.sort", lambda x: np.sort(x, axis=None), shapes=same_shape(1), make_args=separated,
         torch_fn=lambda x: torch.sort(x.reshape(-1)).values),
    Case("numpy.partition", lambda x: np.partition(x, 2)[..., 2], shapes=fixed((3, 5)), make_args=separated,
         torch_fn=lambda x: torch.sort(x).values[..., 2], note="the k-th entry is the k-th order statistic"),
    Case("numpy.unique", lambda x: np.unique(x), shapes=same_shape(1), make_args=separated,
         torch_fn=lambda x: torch.sort(x.reshape(-1)).values,
         note="distinct values: unique is sort (ties are tested in test_rules_reductions)"),
    Case("numpy.unique", lambda x: np.unique(x, return_index=True, return_counts=True), shapes=fixed((6,)),
         make_args=separated, note="values differentiable, index and counts plain"),
    Case("numpy.unique_all", np.unique_all, shapes=fixed((2, 3)), make_args=separated,
         note="NumPy 2's namedtuple: values differentiable, the rest plain"),
    Case("numpy.unique_counts", np.unique_counts, shapes=fixed((5,)), make_args=separated),
    Case("numpy.unique_inverse", np.unique_inverse, shapes=fixed((3, 2)), make_args=separated),
    Case("numpy.unique_values", np.unique_values, shapes=same_shape(1), make_args=separated,
         torch_fn=lambda x: torch.sort(x.reshape(-1)).values),
    Case("numpy.median", lambda x: np.median(x, axis=-1), shapes=some_axes, make_args=separated,
         torch_fn=lambda x: torch.quantile(x, 0.5, dim=-1), note="torch.median takes the lower middle"),
    Case("numpy.median", lambda x: np.median(x), shapes=same_shape(1), make_args=separated,
         torch_fn=lambda x: torch.quantile(x, 0.5)),
    Case("numpy.quantile", lambda x: np.quantile(x, Q, axis=0, keepdims=True), shapes=fixed((5, 3)),
         make_args=separated, torch_fn=lambda x: torch.quantile(x, torch.tensor(Q, dtype=T), dim=0, keepdim=True)),
    Case("numpy.quantile", lambda x, q: np.quantile(x, q), arity=2, shapes=fixed((4, 3), (2,)),
         domain=((-2.0, 2.0), (0.05, 0.95)), torch_fn=lambda x, q: torch.quantile(x, q),
         note="a traced q: ∂/∂q = (n − 1)(s_hi − s_lo)"),
    Case("numpy.quantile", lambda x: np.quantile(x, 0.3, axis=-1, method="nearest"), shapes=fixed((3, 5)),
         make_args=separated, torch_fn=lambda x: torch.quantile(x, 0.3, dim=-1, interpolation="nearest")),
    Case("numpy.quantile", lambda x: np.quantile(x, Q, axis=-1, method="midpoint"), shapes=fixed((3, 4)),
         make_args=separated,
         torch_fn=lambda x: torch.quantile(x, torch.tensor(Q, dtype=T), dim=-1, interpolation="midpoint")),
    Case("numpy.percentile", lambda x: np.percentile(x, np.float32([25, 75]), axis=(0, 1)), shapes=fixed((3, 4, 2)),
         make_args=separated,
         torch_fn=lambda x: torch.quantile(x.reshape(12, 2), torch.tensor([0.25, 0.75], dtype=T), dim=0)),
    Case("numpy.nanmedian", lambda x: np.nanmedian(x, axis=-1), shapes=fixed((3, 5)), make_args=with_nans,
         torch_fn=lambda x: torch.nanquantile(x, 0.5, dim=-1)),
    Case("numpy.nanquantile", lambda x: np.nanquantile(x, Q, axis=-1), shapes=fixed((4, 6)), make_args=with_nans,
         torch_fn=lambda x: torch.nanquantile(x, torch.tensor(Q, dtype=T), dim=-1)),
    Case("numpy.nanpercentile", lambda x: np.nanpercentile(x, 40, axis=0), shapes=fixed((6, 2)),
         make_args=with_nans, torch_fn=lambda x: torch.nanquantile(x, 0.4, dim=0)),
]
