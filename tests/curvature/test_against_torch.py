"""The top eigenvalue of the small network's loss Hessian, by the same Lanczos written on torch.func HVPs
(forward over reverse: torch.func.jvp of torch.func.grad) with the same weights and data."""

import numpy as np
import pytest

from calcml.curvature import hessian_eigs, lanczos
from tests.curvature.small_network import problem

torch = pytest.importorskip("torch")
from torch.func import grad, jvp  # noqa: E402


def torch_loss(params, X, y):
    hidden = torch.tanh(X @ params["0.weight"] + params["0.bias"])
    logits = hidden @ params["2.weight"] + params["2.bias"]
    return torch.nn.functional.cross_entropy(logits, y)


def test_top_eigenvalue_matches_lanczos_on_torch_func_hvps():
    from tests.curvature.small_network import network

    loss, params, _, exact = problem()
    _, X, y = network()
    names = sorted(params)  # cm.tree's order: dict keys sorted
    tp = {k: torch.tensor(params[k]) for k in names}
    tX, ty = torch.tensor(X), torch.tensor(y)
    assert float(torch_loss(tp, tX, ty)) == pytest.approx(float(loss(params)), rel=1e-12)

    shapes = [params[k].shape for k in names]
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def torch_hvp(v):
        tangent = {k: torch.tensor(v[a:b].reshape(s)) for k, a, b, s in zip(names, offsets, offsets[1:], shapes)}
        _, out = jvp(lambda p: grad(torch_loss)(p, tX, ty), (tp,), (tangent,))
        return np.concatenate([out[k].numpy().ravel() for k in names])

    start = np.random.default_rng(0).standard_normal(offsets[-1])
    theta, _ = lanczos(torch_hvp, start, 60).eigh()
    ours = hessian_eigs(loss, params, k=1, iters=60, seed=0).eigenvalues[0]
    assert ours == pytest.approx(theta[-1], rel=1e-6)
    assert ours == pytest.approx(exact[-1], rel=1e-6)
