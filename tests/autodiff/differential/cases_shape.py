"""Differential cases for the functions that move, pick, join and contract entries: reshape and its
relatives, axis permutations, broadcasting, flips, tiling, diagonals and triangles, indexing, joining and
splitting, padding, contractions (matmul, einsum, dot, kron, cross, ...), and grids (linspace, meshgrid,
trapezoid, interp)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from tests.autodiff.differential.spec import Case, fixed, same_shape

T = torch.float64
some_axes = same_shape(1, min_dims=1)
matrices = same_shape(1, min_dims=2, max_dims=3)
any_shape = same_shape(1)
sides = st.integers(1, 4)


def matmul_shapes():
    """(…, n, k) and (k, m) with a batch axis sometimes, or vectors on either side."""
    n, k, m, batch = sides, sides, sides, st.lists(sides, max_size=1).map(tuple)
    return st.tuples(batch, n, k, m, st.sampled_from(["mm", "vm", "mv"])).map(
        lambda p: {"mm": (p[0] + (p[1], p[2]), (p[2], p[3])), "vm": ((p[2],), p[0] + (p[2], p[3])),
                   "mv": (p[0] + (p[1], p[2]), (p[2],))}[p[4]])


def rows_of(width):
    """Two arrays with ``width`` entries on their last axis and broadcastable leading axes."""
    return st.tuples(st.lists(sides, max_size=2).map(tuple)).map(lambda p: (p[0] + (width,), p[0] + (width,)))


def increasing(rng, shapes):
    """Strictly increasing sample points (for trapezoid's x and interp's xp), then the samples."""
    points = np.cumsum(rng.uniform(0.3, 1.0, size=shapes[0]))
    return (points,) + tuple(rng.uniform(-2, 2, size=s) for s in shapes[1:])


def interp_args(rng, shapes):
    """Query points away from the knots (interp has a kink at each), knots, values."""
    xp = np.cumsum(rng.uniform(0.5, 1.0, size=shapes[1])) - 2.0
    x = rng.uniform(-2.5, xp[-1] + 0.5, size=shapes[0])
    gaps = np.min(np.abs(x[..., None] - xp), axis=-1, initial=1.0)
    x = np.where(gaps < 0.05, x + 0.1, x)
    return x, xp, rng.uniform(-2, 2, size=shapes[2])


def torch_pad(x, widths, mode):
    """F.pad takes (last axis before, after, second-to-last ...) and, for non-constant modes, a batch axis."""
    flat = tuple(n for pair in reversed(widths) for n in pair)
    return F.pad(x[None], flat, mode=mode)[0]


def torch_linspace(start, stop, num):
    steps = torch.arange(num, dtype=T) / (num - 1)
    return torch.cat([start + (stop - start) * steps[:-1], stop.reshape(1)])


CASES = [
    # -- the reshape family ------------------------------------------------------------------------
    Case("numpy.reshape", lambda x: np.reshape(x, (-1,)), shapes=any_shape, torch_fn=lambda x: x.reshape(-1)),
    Case("numpy.reshape", lambda x: np.reshape(x, (2, -1), order="F"), shapes=fixed((2, 3, 2)),
         torch_fn=lambda x: x.permute(2, 1, 0).reshape(-1).reshape(6, 2).T),
    Case("numpy.ravel", lambda x: np.ravel(x), shapes=any_shape, torch_fn=lambda x: x.reshape(-1)),
    Case("numpy.expand_dims", lambda x: np.expand_dims(x, 0), shapes=any_shape, torch_fn=lambda x: x.unsqueeze(0)),
    Case("numpy.squeeze", lambda x: np.squeeze(x), shapes=fixed((2, 1, 3)), torch_fn=torch.squeeze),
    Case("numpy.atleast_1d", np.atleast_1d, shapes=any_shape, torch_fn=torch.atleast_1d),
    Case("numpy.atleast_2d", np.atleast_2d, shapes=any_shape, torch_fn=torch.atleast_2d),
    Case("numpy.atleast_3d", np.atleast_3d, shapes=same_shape(1, max_dims=2), torch_fn=torch.atleast_3d),
    Case("numpy.shape", lambda x: np.reshape(x, np.shape(x)[::-1]), shapes=any_shape,
         torch_fn=lambda x: x.reshape(tuple(reversed(x.shape)))),
    Case("numpy.ndim", lambda x: x * np.ndim(x), shapes=any_shape, torch_fn=lambda x: x * x.ndim),
    Case("numpy.size", lambda x: x / np.size(x), shapes=any_shape, torch_fn=lambda x: x / x.numel()),
    Case("numpy.astype", lambda x: np.astype(np.astype(x, np.float32), x.dtype), shapes=any_shape,
         torch_fn=lambda x: x.float().double(), rtol=1e-6, note="through float32 and back"),
    Case("numpy.copy", np.copy, shapes=any_shape, torch_fn=torch.clone),
    # -- axis permutations -------------------------------------------------------------------------
    Case("numpy.transpose", np.transpose, shapes=any_shape,
         torch_fn=lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    Case("numpy.transpose", lambda x: np.transpose(x, (1, 2, 0)), shapes=fixed((2, 3, 4)),
         torch_fn=lambda x: x.permute(1, 2, 0)),
    Case("numpy.swapaxes", lambda x: np.swapaxes(x, 0, -1), shapes=some_axes,
         torch_fn=lambda x: torch.swapaxes(x, 0, -1)),
    Case("numpy.moveaxis", lambda x: np.moveaxis(x, 0, -1), shapes=some_axes,
         torch_fn=lambda x: torch.movedim(x, 0, -1)),
    Case("numpy.matrix_transpose", np.matrix_transpose, shapes=matrices, torch_fn=lambda x: x.mT),
    # -- broadcasting, flips, tiles ----------------------------------------------------------------
    Case("numpy.broadcast_to", lambda x: np.broadcast_to(x, (2,) + np.shape(x)), shapes=any_shape,
         torch_fn=lambda x: x.expand((2,) + tuple(x.shape))),
    Case("numpy.broadcast_arrays", lambda x, y: np.broadcast_arrays(x, y), arity=2,
         torch_fn=lambda x, y: torch.broadcast_tensors(x, y)),
    Case("numpy.flip", lambda x: np.flip(x, -1), shapes=some_axes, torch_fn=lambda x: torch.flip(x, (-1,))),
    Case("numpy.flip", np.flip, shapes=any_shape, torch_fn=lambda x: torch.flip(x, tuple(range(x.ndim)))),
    Case("numpy.fliplr", np.fliplr, shapes=matrices, torch_fn=torch.fliplr),
    Case("numpy.flipud", np.flipud, shapes=some_axes, torch_fn=torch.flipud),
    Case("numpy.rot90", np.rot90, shapes=matrices, torch_fn=torch.rot90),
    Case("numpy.rot90", lambda x: np.rot90(x, -1, axes=(1, 0)), shapes=matrices,
         torch_fn=lambda x: torch.rot90(x, -1, (1, 0))),
    Case("numpy.roll", lambda x: np.roll(x, 2), shapes=any_shape,
         torch_fn=lambda x: torch.roll(x.reshape(-1), 2).reshape(x.shape)),
    Case("numpy.roll", lambda x: np.roll(x, (1, -3), axis=(0, -1)), shapes=matrices,
         torch_fn=lambda x: torch.roll(x, (1, -3), (0, -1))),
    Case("numpy.tile", lambda x: np.tile(x, (2, 1)), shapes=any_shape, torch_fn=lambda x: torch.tile(x, (2, 1))),
    # -- diagonals and triangles -------------------------------------------------------------------
    Case("numpy.diagonal", np.diagonal, shapes=matrices, torch_fn=lambda x: torch.diagonal(x, 0, 0, 1)),
    Case("numpy.diagonal", lambda x: np.diagonal(x, 1, -1, -2), shapes=matrices,
         torch_fn=lambda x: torch.diagonal(x, 1, -1, -2)),
    Case("numpy.diag", np.diag, shapes=st.sampled_from([((3,),), ((2, 4),), ((4, 2),)]), torch_fn=torch.diag),
    Case("numpy.diag", lambda x: np.diag(x, -1), shapes=fixed((3,)), torch_fn=lambda x: torch.diag(x, -1)),
    Case("numpy.trace", np.trace, shapes=matrices, torch_fn=lambda x: torch.diagonal(x, 0, 0, 1).sum(-1),
         note="non-square matrices too"),
    Case("numpy.trace", lambda x: np.trace(x, 1, axis1=-1, axis2=-2), shapes=matrices,
         torch_fn=lambda x: torch.diagonal(x, 1, -1, -2).sum(-1)),
    Case("numpy.tril", np.tril, shapes=matrices, torch_fn=torch.tril),
    Case("numpy.tril", lambda x: np.tril(x, 1), shapes=fixed((3, 4)), torch_fn=lambda x: torch.tril(x, 1)),
    Case("numpy.triu", lambda x: np.triu(x, -1), shapes=matrices, torch_fn=lambda x: torch.triu(x, -1)),
    # -- indexing ----------------------------------------------------------------------------------
    Case("numpy.take", lambda x: np.take(x, [0, -1, 0]), shapes=some_axes,
         torch_fn=lambda x: x.reshape(-1)[[0, -1, 0]]),
    Case("numpy.take", lambda x: np.take(x, [1, 0, 1], axis=-1), shapes=fixed((3, 2)),
         torch_fn=lambda x: torch.index_select(x, -1, torch.tensor([1, 0, 1]))),
    Case("numpy.take_along_axis", lambda x: np.take_along_axis(x, np.array([[2, 0], [1, 1]]), axis=1),
         shapes=fixed((2, 3)), torch_fn=lambda x: torch.take_along_dim(x, torch.tensor([[2, 0], [1, 1]]), 1)),
    Case("numpy.repeat", lambda x: np.repeat(x, 2, axis=-1), shapes=some_axes,
         torch_fn=lambda x: torch.repeat_interleave(x, 2, -1)),
    Case("numpy.repeat", lambda x: np.repeat(x, [1, 3]), shapes=fixed((2,)),
         torch_fn=lambda x: torch.repeat_interleave(x, torch.tensor([1, 3]))),
    # -- joining and splitting ---------------------------------------------------------------------
    Case("numpy.concatenate", lambda x, y: np.concatenate([x, y, x], axis=-1), arity=2, shapes=rows_of(3),
         torch_fn=lambda x, y: torch.cat([x, y, x], -1)),
    Case("numpy.concatenate", lambda x, y: np.concatenate([x, y], axis=None), arity=2, shapes=fixed((2, 2), (3,)),
         torch_fn=lambda x, y: torch.cat([x.reshape(-1), y])),
    Case("numpy.stack", lambda x, y: np.stack([x, y], axis=-1), arity=2, shapes=same_shape(2),
         torch_fn=lambda x, y: torch.stack([x, y], -1)),
    Case("numpy.hstack", lambda x, y: np.hstack([x, y]), arity=2, shapes=rows_of(2),
         torch_fn=lambda x, y: torch.hstack([x, y])),
    Case("numpy.vstack", lambda x, y: np.vstack([x, y]), arity=2, shapes=rows_of(2),
         torch_fn=lambda x, y: torch.vstack([x, y])),
    Case("numpy.dstack", lambda x, y: np.dstack([x, y]), arity=2, shapes=fixed((2, 3), (2, 3)),
         torch_fn=lambda x, y: torch.dstack([x, y])),
    Case("numpy.column_stack", lambda x, y: np.column_stack([x, y]), arity=2, shapes=fixed((3,), (3, 2)),
         torch_fn=lambda x, y: torch.column_stack([x, y])),
    Case("numpy.append", lambda x, y: np.append(x, y), arity=2, shapes=fixed((2, 2), (3,)),
         torch_fn=lambda x, y: torch.cat([x.reshape(-1), y])),
    Case("numpy.split", lambda x: np.split(x, [1, 3], axis=-1), shapes=fixed((2, 4)),
         torch_fn=lambda x: torch.split(x, [1, 2, 1], -1)),
    Case("numpy.array_split", lambda x: np.array_split(x, 3), shapes=fixed((5, 2)),
         torch_fn=lambda x: torch.tensor_split(x, 3)),
    Case("numpy.hsplit", lambda x: np.hsplit(x, 2), shapes=fixed((3, 4)), torch_fn=lambda x: torch.hsplit(x, 2)),
    Case("numpy.vsplit", lambda x: np.vsplit(x, 2), shapes=fixed((4, 3)), torch_fn=lambda x: torch.vsplit(x, 2)),
    Case("numpy.dsplit", lambda x: np.dsplit(x, [1]), shapes=fixed((2, 2, 3)), torch_fn=lambda x: torch.dsplit(x, [1])),
    Case("numpy.unstack", lambda x: np.unstack(x, axis=-1), shapes=fixed((2, 3)),
         torch_fn=lambda x: torch.unbind(x, -1)),
    # -- padding -----------------------------------------------------------------------------------
    Case("numpy.pad", lambda x: np.pad(x, ((1, 0), (2, 1))), shapes=fixed((2, 3)),
         torch_fn=lambda x: F.pad(x, (2, 1, 1, 0))),
    Case("numpy.pad", lambda x, c: np.pad(x, 1, constant_values=c), arity=2, shapes=fixed((2, 3), ()),
         torch_fn=lambda x, c: F.pad(x, (1, 1, 1, 1)) + c * F.pad(torch.zeros_like(x), (1, 1, 1, 1), value=1.0),
         note="a traced fill value"),
    Case("numpy.pad", lambda x: np.pad(x, ((1, 2), (2, 1)), mode="edge"), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch_pad(x, ((1, 2), (2, 1)), "replicate")),
    Case("numpy.pad", lambda x: np.pad(x, ((2, 1), (1, 3)), mode="reflect"), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch_pad(x, ((2, 1), (1, 3)), "reflect")),
    Case("numpy.pad", lambda x: np.pad(x, ((2, 1), (1, 3)), mode="wrap"), shapes=fixed((3, 4)),
         torch_fn=lambda x: torch_pad(x[None], ((2, 1), (1, 3)), "circular")[0]),
    Case("numpy.pad", lambda x: np.pad(x, 3, mode="symmetric"), shapes=same_shape(1, min_dims=1, max_dims=2),
         note="reflections repeat the edge; wider than the array, so entries are copied many times"),
    Case("numpy.pad", lambda x: np.pad(x, 4, mode="reflect"), shapes=fixed((3,))),
    # -- contractions ------------------------------------------------------------------------------
    Case("numpy.matmul", np.matmul, arity=2, shapes=matmul_shapes(), torch_fn=torch.matmul),
    Case("numpy.linalg.matmul", np.linalg.matmul, arity=2, shapes=fixed((2, 3), (3, 2)), torch_fn=torch.matmul),
    Case("numpy.dot", np.dot, arity=2, shapes=matmul_shapes(), torch_fn=torch.matmul),
    Case("numpy.dot", np.dot, arity=2, shapes=fixed((2, 2, 3), (3, 2)), torch_fn=lambda a, b: torch.tensordot(a, b, 1)),
    Case("numpy.dot", np.dot, arity=2, shapes=fixed((), (2, 3)), torch_fn=torch.mul),
    Case("numpy.vdot", np.vdot, arity=2, shapes=same_shape(2, min_dims=1), torch_fn=lambda a, b: (a * b).sum()),
    Case("numpy.inner", np.inner, arity=2, shapes=fixed((2, 3), (4, 3)), torch_fn=torch.inner),
    Case("numpy.outer", np.outer, arity=2, shapes=fixed((3,), (2, 2)),
         torch_fn=lambda a, b: torch.outer(a, b.reshape(-1))),
    Case("numpy.linalg.outer", np.linalg.outer, arity=2, shapes=fixed((3,), (2,)), torch_fn=torch.outer),
    Case("numpy.tensordot", lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), arity=2,
         shapes=fixed((2, 3, 4), (4, 2)), torch_fn=lambda a, b: torch.tensordot(a, b, ([0, 2], [1, 0]))),
    Case("numpy.linalg.tensordot", lambda a, b: np.linalg.tensordot(a, b, axes=1), arity=2,
         shapes=fixed((2, 3), (3, 2)), torch_fn=lambda a, b: torch.tensordot(a, b, 1)),
    Case("numpy.einsum", lambda a, b: np.einsum("...ij,jk->...ik", a, b), arity=2, shapes=fixed((2, 2, 3), (3, 2)),
         torch_fn=lambda a, b: torch.einsum("...ij,jk->...ik", a, b)),
    Case("numpy.einsum", lambda a: np.einsum("ii->i", a), shapes=fixed((3, 3)),
         torch_fn=lambda a: torch.einsum("ii->i", a)),
    Case("numpy.kron", np.kron, arity=2, shapes=fixed((2, 3), (2, 2)), torch_fn=torch.kron),
    Case("numpy.kron", np.kron, arity=2, shapes=fixed((3,), (2, 2)), torch_fn=torch.kron),
    Case("numpy.cross", np.cross, arity=2, shapes=rows_of(3), torch_fn=lambda a, b: torch.linalg.cross(a, b)),
    Case("numpy.cross", lambda a, b: np.cross(a, b, axisa=0, axisb=0, axisc=0), arity=2, shapes=fixed((3, 2), (3, 2)),
         torch_fn=lambda a, b: torch.linalg.cross(a.T, b.T).T),
    Case("numpy.cross", lambda a, b: np.cross(a, b), arity=2, shapes=fixed((4, 2), (4, 3)),
         torch_fn=lambda a, b: torch.linalg.cross(F.pad(a, (0, 1)), b), note="a 2-vector has z = 0"),
    # -- grids -------------------------------------------------------------------------------------
    Case("numpy.linspace", lambda a, b: np.linspace(a, b, 5), arity=2, shapes=fixed((), ()),
         torch_fn=lambda a, b: torch_linspace(a, b, 5)),
    Case("numpy.linspace", lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=-1), arity=2,
         shapes=fixed((2,), (2,)), torch_fn=lambda a, b: a[:, None] + (b - a)[:, None] * torch.arange(4, dtype=T) / 4),
    Case("numpy.logspace", lambda a, b: np.logspace(a, b, 4, base=2.0), arity=2, shapes=fixed((), ()),
         domain=(-1.0, 1.0), torch_fn=lambda a, b: 2.0 ** torch_linspace(a, b, 4)),
    Case("numpy.meshgrid", lambda x, y: np.meshgrid(x, y), arity=2, shapes=fixed((3,), (2,)),
         torch_fn=lambda x, y: torch.meshgrid(x, y, indexing="xy")),
    Case("numpy.meshgrid", lambda x, y, z: np.meshgrid(x, y, z, indexing="ij", sparse=True), arity=3,
         shapes=fixed((2,), (3,), (2,)), torch_fn=lambda x, y, z: (x[:, None, None], y[None, :, None], z[None, None])),
    Case("numpy.trapezoid", lambda y: np.trapezoid(y), shapes=some_axes, torch_fn=lambda y: torch.trapezoid(y)),
    Case("numpy.trapezoid", lambda y: np.trapezoid(y, dx=0.5, axis=0), shapes=some_axes,
         torch_fn=lambda y: torch.trapezoid(y, dx=0.5, dim=0)),
    Case("numpy.trapezoid", lambda x, y: np.trapezoid(y, x), arity=2, shapes=fixed((4,), (2, 4)),
         make_args=increasing, torch_fn=lambda x, y: torch.trapezoid(y, x), note="traced sample points"),
    Case("numpy.interp", lambda x, xp, fp: np.interp(x, xp, fp), arity=3, shapes=fixed((5,), (4,), (4,)),
         make_args=interp_args, note="derivatives in x, xp and fp (no PyTorch twin)"),
    Case("numpy.interp", lambda x, fp: np.interp(x, np.float32([-1, 0, 2]), fp, left=0.5, right=fp[0]), arity=2,
         shapes=fixed((6,), (3,)), domain=((-2.5, 2.5), (-2.0, 2.0)), note="left/right values"),
]
