"""The top Hessian eigenvalue of the digits MLP's loss (64 → 512 ReLU → 10, 38,410 parameters, softmax cross-entropy
on 1,000 digits, float64): 20 Lanczos steps with full reorthogonalization, calcml's HVPs (cm.hvp, forward over
reverse) against the same Lanczos on torch.func HVPs (jvp of grad), in one process.
   python benchmarks/bench_curvature.py
"""

from __future__ import annotations

import numpy as np
from timing import median_seconds

import calcml as cm
from calcml.curvature import HessianOperator, lanczos, model_loss

STEPS = 20


def problem():
    data = cm.data.digits()
    X, y = data.X_train[:1000].astype(np.float64), data.y_train[:1000]
    model = cm.nn.Sequential(cm.nn.Linear(64, 512, rng=0, dtype=np.float64), cm.nn.ReLU(),
                             cm.nn.Linear(512, 10, rng=1, dtype=np.float64))
    loss, params = model_loss(model, cm.nn.losses.cross_entropy, X, y)
    return loss, params, X, y


def torch_hvp_factory(params, X, y):
    import torch
    from torch.func import grad, jvp

    torch.set_num_threads(2)
    names = sorted(params)  # cm.tree's order
    tp = {k: torch.tensor(params[k]) for k in names}
    tX, ty = torch.tensor(X), torch.tensor(y)
    shapes = [params[k].shape for k in names]
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def loss(p):
        hidden = torch.relu(tX @ p["0.weight"] + p["0.bias"])
        return torch.nn.functional.cross_entropy(hidden @ p["2.weight"] + p["2.bias"], ty)

    gradient = grad(loss)

    def hvp(v):
        tangent = {k: torch.from_numpy(v[a:b].reshape(s)) for k, a, b, s in zip(names, offsets, offsets[1:], shapes)}
        _, out = jvp(gradient, (tp,), (tangent,))
        return np.concatenate([out[k].numpy().ravel() for k in names])

    return hvp


if __name__ == "__main__":
    loss, params, X, y = problem()
    H = HessianOperator(loss, params)
    torch_hvp = torch_hvp_factory(params, X, y)
    start = np.random.default_rng(0).standard_normal(H.size)
    ours = lanczos(H, start, STEPS).eigh()[0][-1]
    theirs = lanczos(torch_hvp, start, STEPS).eigh()[0][-1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    calcml_seconds = median_seconds(lambda: lanczos(H, start, STEPS), repeats=3, warmup=1)
    torch_seconds = median_seconds(lambda: lanczos(torch_hvp, start, STEPS), repeats=3, warmup=1)
    print(f"\nTop Hessian eigenvalue, {STEPS} Lanczos steps, {H.size:,} parameters, {len(X):,} samples: "
          f"λ_max = {ours:.6g}")
    print(f"  calcml HVPs             {calcml_seconds * 1e3:8.1f} ms")
    print(f"  torch.func HVPs         {torch_seconds * 1e3:8.1f} ms   "
          f"calcml / torch = {calcml_seconds / torch_seconds:.2f}  (target ≤ 1.5)")
