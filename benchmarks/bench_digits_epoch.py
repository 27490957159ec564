"""One training epoch on the embedded digits (1,438 samples, batch 32: 45 Adam steps) of the digits MLP
recipe (standardize → 64 → 512 ReLU → 10, softmax cross-entropy, float32): calcml's ``fit`` against the same
model and loop in PyTorch CPU eager (2 threads).   python benchmarks/bench_digits_epoch.py

calcml runs as ``calcml train digits`` does (BLAS capped at 1 thread while training) and also with NumPy's
BLAS threads left alone, to show what the cap is worth.
"""

from __future__ import annotations

import numpy as np
from timing import median_seconds, report

import calcml as cm
from calcml import data, nn
from calcml.train import fit, recipes

BATCH, LR, REPEATS, WARMUP = 32, 1e-3, 40, 3
ds = data.digits()


def calcml_epoch_factory(blas_threads):
    model = recipes.digits_mlp(ds, seed=0)
    opt = recipes.make_optimizer("adam", model.parameters(), lr=LR)
    seeds = iter(range(10**9))

    def epoch():
        fit(model, nn.losses.cross_entropy, opt, ds, epochs=1, batch_size=BATCH, seed=next(seeds), progress=False,
            blas_threads=blas_threads)

    return epoch, model


def torch_epoch_factory(calcml_model):
    import torch

    torch.set_num_threads(2)
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
    check_same_first_step()
    capped, model = calcml_epoch_factory(1)
    timings = {"calcml": median_seconds(capped, repeats=REPEATS, warmup=WARMUP)}
    timings["calcml, BLAS default"] = median_seconds(calcml_epoch_factory(None)[0], repeats=REPEATS, warmup=WARMUP)
    timings["pytorch eager"] = median_seconds(torch_epoch_factory(model), repeats=REPEATS, warmup=WARMUP)
    report(f"digits MLP 64-512-10, Adam, batch {BATCH}: one epoch ({len(ds.X_train)} samples)", timings)
    print(f"  calcml: {len(ds.X_train) / timings['calcml']:,.0f} samples/s (numpy {np.__version__}, "
          f"calcml {cm.__version__})")
