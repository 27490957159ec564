"""Per-example gradients of the digits MLP (64-128-10, batch 128, float64):
cm.vmap(cm.grad(loss)) against a Python loop of cm.grad and against torch.func.vmap(torch.func.grad).
   python benchmarks/bench_per_example.py [--threads N]
``--threads`` caps NumPy's BLAS and torch's threads alike (default 2, the machine's cores): on a machine shared
with other work, threads that wait for a busy core cost milliseconds, so ``--threads 1`` is the steadier view.
"""

from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits
from timing import interleaved_rounds, report_rounds

import calcml as cm

BATCH = 128
data = cm.data.digits()
X = data.X_train[:BATCH].astype(np.float64)
Y = data.y_train[:BATCH]
rng = np.random.default_rng(0)
PARAMS = {"W1": rng.normal(size=(64, 128)) * 0.1, "b1": np.zeros(128),
          "W2": rng.normal(size=(128, 10)) * 0.1, "b2": np.zeros(10)}


def loss(p, x, y):
    """Cross-entropy of one example: log Σ exp z − z_y, with z = W2ᵀ relu(W1ᵀ x + b1) + b2."""
    h = np.maximum(0.0, x @ p["W1"] + p["b1"])
    z = h @ p["W2"] + p["b2"]
    return cm.logsumexp(z) - z[y]


per_example = cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))
single = cm.grad(loss)


def looped():
    return [single(PARAMS, X[i], Y[i]) for i in range(BATCH)]


def torch_factory(threads: int):
    import torch
    from torch.func import grad, vmap

    torch.set_num_threads(threads)
    tp = {k: torch.tensor(v) for k, v in PARAMS.items()}
    tx, ty = torch.tensor(X), torch.tensor(Y)

    def tloss(p, x, y):
        h = torch.relu(x @ p["W1"] + p["b1"])
        z = h @ p["W2"] + p["b2"]
        return torch.logsumexp(z, 0) - z.gather(0, y.unsqueeze(0))[0]  # z[y]; vmap needs gather

    batched = vmap(grad(tloss), in_dims=(None, 0, 0))
    return lambda: batched(tp, tx, ty)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    threads = parser.parse_args().threads
    reference = looped()
    ours = per_example(PARAMS, X, Y)
    for k in PARAMS:
        assert np.allclose(ours[k], np.stack([r[k] for r in reference]), rtol=1e-10, atol=1e-14)
    works = {"calcml": lambda: per_example(PARAMS, X, Y)}
    try:  # timed right after calcml in each round: the load of a shared machine changes less in between
        works["torch.func vmap(grad)"] = torch_factory(threads)
    except ImportError:
        pass
    works["calcml loop of grad"] = looped
    with threadpool_limits(limits=threads, user_api="blas"):
        medians = interleaved_rounds(works, repeats=15, rounds=7)
    report_rounds(f"Per-example gradients, digits MLP 64-128-10, batch {BATCH}, {threads} thread(s)", medians)


if __name__ == "__main__":
    main()
