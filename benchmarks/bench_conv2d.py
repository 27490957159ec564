"""Conv2d forward + backward (batch 64, 1 -> 8 channels, 28×28, 3×3 kernel, padding 1, float32):
calcml's Conv2d vs PyTorch CPU (2 threads, and 1 thread) vs a hand-written NumPy im2col, in one process,
interleaved: in each round every contender runs ``--repeats`` times (median kept), taking turns, and the
ranges over ``--rounds`` rounds are printed.   python benchmarks/bench_conv2d.py [--rounds 7 --repeats 60]

Two settings: the input is data (the first layer of a CNN: gradients for weight and bias only), and the
input needs a gradient too (a hidden layer: also the transposed convolution).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from timing import interleaved_rounds, report_rounds

import calcml as cm
import calcml.nn  # noqa: F401  (cm.nn)

torch.set_num_threads(2)
N, C, O, H, W, K, PAD = 64, 1, 8, 28, 28, 3, 1
rng = np.random.default_rng(0)
X = rng.standard_normal((N, C, H, W)).astype(np.float32)
G = rng.standard_normal((N, O, H, W)).astype(np.float32)  # the gradient arriving from the layers above

layer = cm.nn.Conv2d(C, O, K, padding=PAD, rng=0)
WEIGHT, BIAS = layer.weight.value.copy(), layer.bias.value.copy()


def calcml_step(x):
    out = layer(x)
    out.backward(G)
    layer.zero_grad()


torch_layer = torch.nn.Conv2d(C, O, K, padding=PAD)
with torch.no_grad():
    torch_layer.weight.copy_(torch.from_numpy(WEIGHT))
    torch_layer.bias.copy_(torch.from_numpy(BIAS))
torch_g = torch.from_numpy(G)


def torch_step(x):
    out = torch_layer(x)
    out.backward(torch_g)
    torch_layer.zero_grad(set_to_none=True)


def numpy_step(x, input_grad):
    """im2col by hand: forward, weight/bias gradients and (optionally) col2im for the input gradient."""
    xp = np.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
    cols = sliding_window_view(xp, (K, K), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3).reshape(N, C * K * K, H * W)
    out = (WEIGHT.reshape(O, -1) @ cols).reshape(N, O, H, W) + BIAS[:, None, None]
    g = G.reshape(N, O, H * W)
    grad_w = np.matmul(cols, g.transpose(0, 2, 1)).sum(0).T.reshape(WEIGHT.shape)
    grad_b = G.sum(axis=(0, 2, 3))
    if input_grad:
        grad_cols = (WEIGHT.reshape(O, -1).T @ g).reshape(N, C, K, K, H, W)
        grad_xp = np.zeros_like(xp)
        for a in range(K):
            for b in range(K):
                grad_xp[:, :, a:a + H, b:b + W] += grad_cols[:, :, a, b]
        return out, grad_w, grad_b, grad_xp[:, :, PAD:PAD + H, PAD:PAD + W]
    return out, grad_w, grad_b


def check_agreement() -> None:
    x = cm.Tensor(X, requires_grad=True)
    out = layer(x)
    out.backward(G)
    tx = torch.from_numpy(X).requires_grad_(True)
    torch_layer(tx).backward(torch_g)
    np.testing.assert_allclose(out.value, torch_layer(tx).detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.weight.grad, torch_layer.weight.grad.numpy(), rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert out.dtype == np.float32 and layer.weight.grad.dtype == np.float32
    layer.zero_grad()
    torch_layer.zero_grad(set_to_none=True)


def torch_on(threads: int, work):
    """``work`` run with PyTorch's intra-op pool set to ``threads`` (restored to 2 afterwards)."""
    def run():
        torch.set_num_threads(threads)
        work()
        torch.set_num_threads(2)
    return run


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=60)
    options = parser.parse_args()
    check_agreement()
    for input_grad in (False, True):
        x = cm.Tensor(X, requires_grad=True) if input_grad else X
        tx = torch.from_numpy(X).requires_grad_(input_grad)
        medians = interleaved_rounds({
            "calcml": lambda: calcml_step(x),
            "pytorch (2 threads)": lambda: torch_step(tx),
            "pytorch (1 thread)": torch_on(1, lambda: torch_step(tx)),
            "numpy im2col by hand": lambda: numpy_step(X, input_grad),
        }, repeats=options.repeats, rounds=options.rounds)
        which = "input, weight and bias" if input_grad else "weight and bias (input is data)"
        report_rounds(f"Conv2d forward+backward, {N}×{C}×{H}×{W} -> {O} channels, {K}×{K}, float32; "
                      f"gradients for {which}", medians)
