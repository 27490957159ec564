"""One training epoch on the embedded digits (1,438 samples, batch 32: 45 Adam steps) of the digits MLP
recipe (standardize → 64 → 512 ReLU → 10, softmax cross-entropy, float32): calcml's ``fit`` against the same
model and loop in PyTorch CPU eager (2 threads, and 1 thread).

calcml runs as ``calcml train digits`` does (BLAS capped at 1 thread while training) and also with NumPy's
BLAS threads left alone, to show what the cap is worth. The contenders take turns: in each of ``--rounds``
rounds each runs ``--repeats`` epochs (median kept), and the ranges over the rounds are printed.
    python benchmarks/bench_digits_epoch.py [--rounds 5 --repeats 8]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import interleaved_rounds, report_rounds

import calcml as cm
from calcml import data, nn
from calcml.train import fit, recipes

BATCH, LR = 32, 1e-3
ds = data.digits()


def calcml_epoch_factory(blas_threads):
    model = recipes.digits_mlp(ds, seed=0)
    opt = recipes.make_optimizer("adam", model.parameters(), lr=LR)
    seeds = iter(range(10**9))

    def epoch():
        fit(model, nn.losses.cross_entropy, opt, ds, epochs=1, batch_size=BATCH, seed=next(seeds), progress=False,
            blas_threads=blas_threads)

    return epoch, model


def torch_epoch_factory(calcml_model, threads: int = 2):
    import torch

    standardize, first, _, last = calcml_model
    mean, scale = torch.tensor(standardize.mean), torch.tensor(standardize.scale)
    net = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    with torch.no_grad():  # same starting point: torch stores Linear weights transposed
        for layer, ours in ((net[0], first), (net[2], last)):
            layer.weight.copy_(torch.tensor(ours.weight.value.T))
            layer.bias.copy_(torch.tensor(ours.bias.value))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    X, y = torch.tensor(ds.X_train), torch.tensor(ds.y_train)
    generator = torch.Generator().manual_seed(0)

    def epoch():
        torch.set_num_threads(threads)
        net.train()
        for idx in torch.randperm(len(X), generator=generator).split(BATCH):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net((X[idx] - mean) * scale), y[idx])
            loss.backward()
            opt.step()
            loss.item()  # fit reads every step's loss, so the torch loop does too

    return epoch


def check_same_first_step():
    """The comparison is fair only if both frameworks compute the same loss and gradients."""
    import torch

    _, model = calcml_epoch_factory(None)
    Xb, yb = ds.X_train[:BATCH], ds.y_train[:BATCH]
    loss = nn.losses.cross_entropy(model(Xb), yb)
    loss.backward()
    standardize, first, _, last = model
    net = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    with torch.no_grad():
        for layer, ours in ((net[0], first), (net[2], last)):
            layer.weight.copy_(torch.tensor(ours.weight.value.T))
            layer.bias.copy_(torch.tensor(ours.bias.value))
    x = (torch.tensor(Xb) - torch.tensor(standardize.mean)) * torch.tensor(standardize.scale)
    reference = torch.nn.functional.cross_entropy(net(x), torch.tensor(yb))
    reference.backward()
    assert abs(float(loss.value) - reference.item()) < 1e-5
    np.testing.assert_allclose(first.weight.grad, net[0].weight.grad.numpy().T, rtol=1e-4, atol=1e-6)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=8)
    options = parser.parse_args()
    check_same_first_step()
    capped, model = calcml_epoch_factory(1)
    medians = interleaved_rounds({"calcml": capped, "calcml, BLAS default": calcml_epoch_factory(None)[0],
                                  "pytorch eager": torch_epoch_factory(model),
                                  "pytorch eager, 1 thread": torch_epoch_factory(model, threads=1)},
                                 repeats=options.repeats, rounds=options.rounds, warmup=3)
    report_rounds(f"digits MLP 64-512-10, Adam, batch {BATCH}: one epoch ({len(ds.X_train)} samples)", medians)
    fastest = min(medians["calcml"])
    print(f"  calcml: up to {len(ds.X_train) / fastest:,.0f} samples/s "
          f"(numpy {np.__version__}, calcml {cm.__version__})")
