"""Per-operation overhead: a 2-16-16-1 tanh network, batch 32, MSE, one SGD step, float64.
calcml vs hand-written NumPy, PyTorch CPU eager and HIPS autograd.   python benchmarks/bench_tiny_network.py
"""

from __future__ import annotations

import numpy as np
from timing import calcml_sgd_step, median_seconds, report

import calcml as cm

SIZES = (2, 16, 16, 1)
BATCH, LR = 32, 0.05
rng = np.random.default_rng(0)
X = rng.standard_normal((BATCH, 2)).astype(np.float32)
Y = np.sin(X[:, :1] * X[:, 1:]).astype(np.float32)


def initial_parameters():
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params


def loss_numpy_code(W1, b1, W2, b2, W3, b3, x, y):
    h = np.tanh(x @ W1 + b1)
    h = np.tanh(h @ W2 + b2)
    return np.mean((h @ W3 + b3 - y) ** 2)


calcml_params = [cm.Tensor(p, requires_grad=True) for p in initial_parameters()]


def calcml_step():
    calcml_sgd_step(calcml_params, loss_numpy_code, LR, X, Y)


hand_params = initial_parameters()


def numpy_step():
    W1, b1, W2, b2, W3, b3 = hand_params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    d_out = 2 * (h2 @ W3 + b3 - Y) / Y.size
    dW3, db3 = h2.T @ d_out, d_out.sum(0)
    d2 = (d_out @ W3.T) * (1 - h2 * h2)
    dW2, db2 = h1.T @ d2, d2.sum(0)
    d1 = (d2 @ W2.T) * (1 - h1 * h1)
    dW1, db1 = X.T @ d1, d1.sum(0)
    for p, g in zip(hand_params, (dW1, db1, dW2, db2, dW3, db3)):
        p -= LR * g


def torch_step_factory():
    import torch

    torch.set_num_threads(2)
    params = [torch.tensor(p, requires_grad=True) for p in initial_parameters()]
    x, y = torch.tensor(X), torch.tensor(Y)

    def step():
        W1, b1, W2, b2, W3, b3 = params
        h = torch.tanh(x @ W1 + b1)
        h = torch.tanh(h @ W2 + b2)
        loss = ((h @ W3 + b3 - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    return step


def autograd_step_factory():
    import autograd
    import autograd.numpy as anp

    def loss(params):
        W1, b1, W2, b2, W3, b3 = params
        h = anp.tanh(anp.dot(X, W1) + b1)
        h = anp.tanh(anp.dot(h, W2) + b2)
        return anp.mean((anp.dot(h, W3) + b3 - Y) ** 2)

    gradient = autograd.grad(loss)
    params = initial_parameters()

    def step():
        for p, g in zip(params, gradient(params)):
            p -= LR * g

    return step


if __name__ == "__main__":
    timings = {"calcml": median_seconds(calcml_step, repeats=2000, warmup=200),
               "numpy by hand": median_seconds(numpy_step, repeats=2000, warmup=200),
               "pytorch eager": median_seconds(torch_step_factory(), repeats=2000, warmup=200),
               "hips autograd": median_seconds(autograd_step_factory(), repeats=2000, warmup=200)}
    report("tiny 2-16-16-1 tanh network, batch 32, float32: one SGD step", timings)
