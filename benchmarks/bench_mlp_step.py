"""One training step (forward, backward, SGD update) of a 784-256-256-10 ReLU MLP with softmax
cross-entropy, batch 128, float32: calcml vs the same network written by hand in NumPy (the limit for
a NumPy engine), PyTorch CPU eager and HIPS autograd.   python benchmarks/bench_mlp_step.py
"""

from __future__ import annotations

import numpy as np
from timing import calcml_sgd_step, interleaved_rounds, report_rounds

import calcml as cm

SIZES = (784, 256, 256, 10)
BATCH, LR = 128, 0.01
rng = np.random.default_rng(0)
X = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
labels = rng.integers(0, SIZES[-1], BATCH)
Y = np.eye(SIZES[-1], dtype=np.float32)[labels]


def initial_parameters():
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params


def loss_numpy_code(W1, b1, W2, b2, W3, b3, x, y):
    """The model as plain NumPy code: calcml and autograd trace exactly this function."""
    h1 = np.maximum(0, x @ W1 + b1)
    h2 = np.maximum(0, h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * log_probs) / x.shape[0]


# ---- calcml: Tensor.backward, update in place on the values --------------------------------------
calcml_params = [cm.Tensor(p, requires_grad=True) for p in initial_parameters()]


def calcml_step():
    calcml_sgd_step(calcml_params, loss_numpy_code, LR, X, Y)


# ---- calcml: cm.value_and_grad on plain arrays, update on the arrays ------------------------------
functional_params = initial_parameters()
value_and_grad = cm.value_and_grad(loss_numpy_code, argnums=(0, 1, 2, 3, 4, 5))


def calcml_functional_step():
    _, grads = value_and_grad(*functional_params, X, Y)
    for p, g in zip(functional_params, grads):
        p -= LR * g


# ---- by hand: the forward pass and the chain rule written out --------------------------------------
hand_params = initial_parameters()


def numpy_step():
    W1, b1, W2, b2, W3, b3 = hand_params
    z1 = X @ W1 + b1
    h1 = np.maximum(0, z1)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(0, z2)
    logits = h2 @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    d_logits = (probs - Y) / BATCH
    dW3, db3 = h2.T @ d_logits, d_logits.sum(0)
    d_z2 = (d_logits @ W3.T) * (z2 > 0)
    dW2, db2 = h1.T @ d_z2, d_z2.sum(0)
    d_z1 = (d_z2 @ W2.T) * (z1 > 0)
    dW1, db1 = X.T @ d_z1, d_z1.sum(0)
    for p, g in zip(hand_params, (dW1, db1, dW2, db2, dW3, db3)):
        p -= LR * g


def torch_step_factory():
    import torch

    torch.set_num_threads(2)
    params = [torch.tensor(p, requires_grad=True) for p in initial_parameters()]
    x, y = torch.tensor(X), torch.tensor(labels)

    def step():
        W1, b1, W2, b2, W3, b3 = params
        h = torch.relu(x @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        loss = torch.nn.functional.cross_entropy(h @ W3 + b3, y)
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
        h1 = anp.maximum(0, anp.dot(X, W1) + b1)
        h2 = anp.maximum(0, anp.dot(h1, W2) + b2)
        logits = anp.dot(h2, W3) + b3
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.sum(Y * log_probs) / BATCH

    gradient = autograd.grad(loss)
    params = initial_parameters()

    def step():
        for p, g in zip(params, gradient(params)):
            p -= LR * g

    return step


def check_same_gradients():
    """The benchmark is only fair if calcml computes the same gradient as the hand-written code."""
    params = initial_parameters()
    grads = cm.grad(lambda *ps: loss_numpy_code(*ps, X, Y), argnums=tuple(range(6)))(*params)
    W1, b1, W2, b2, W3, b3 = params
    z1 = X @ W1 + b1
    h1 = np.maximum(0, z1)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(0, z2)
    logits = h2 @ W3 + b3
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    d = (probs - Y) / BATCH
    dW1 = X.T @ ((((d @ W3.T) * (z2 > 0)) @ W2.T) * (z1 > 0))
    np.testing.assert_allclose(grads[0], dW1, rtol=1e-3, atol=1e-6)
    assert grads[0].dtype == np.float32


if __name__ == "__main__":
    check_same_gradients()
    medians = interleaved_rounds({"calcml Tensor API": calcml_step, "calcml value_and_grad": calcml_functional_step,
                                  "numpy by hand": numpy_step, "pytorch eager": torch_step_factory(),
                                  "hips autograd": autograd_step_factory()}, repeats=40, rounds=7)
    for api in ("calcml Tensor API", "calcml value_and_grad"):
        shown = {api: medians[api], **{k: v for k, v in medians.items() if not k.startswith("calcml")}}
        report_rounds("MLP 784-256-256-10, batch 128, float32, cross-entropy written out: one SGD step", shown,
                      reference=api)
