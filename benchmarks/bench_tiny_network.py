"""Per-operation overhead: a 2-16-16-k tanh network, batch 32, one SGD step, float32, written as plain
NumPy code, with two losses and both of calcml's APIs:

- MSE (k = 1) and softmax cross-entropy written out with a max-shifted log-sum-exp (k = 2 classes, not a
  fused library loss), as users write them;
- the Tensor API (``loss.backward()``, update in ``no_grad``) and the functional API
  (``cm.value_and_grad(loss, argnums=...)`` on plain arrays, update on the arrays).

Baselines in the same process: the forward and backward passes written by hand in NumPy, PyTorch CPU
eager (the same written-out losses) and HIPS autograd.   python benchmarks/bench_tiny_network.py [--rounds N]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import calcml_sgd_step, interleaved_rounds, report_rounds

import calcml as cm

BATCH, LR = 32, 0.05
rng = np.random.default_rng(0)
X = rng.standard_normal((BATCH, 2)).astype(np.float32)
Y = np.sin(X[:, :1] * X[:, 1:]).astype(np.float32)  # regression target for MSE
LABELS = (Y[:, 0] > 0).astype(np.int64)
ONE_HOT = np.eye(2, dtype=np.float32)[LABELS]  # two classes for cross-entropy


def initial_parameters(outputs: int = 1) -> list[np.ndarray]:
    params = []
    sizes = (2, 16, 16, outputs)
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params


# ---- the model and its losses as plain NumPy code: calcml traces exactly these ---------------------
def loss_numpy_code(W1, b1, W2, b2, W3, b3, x, y):
    """Mean squared error of the 2-16-16-1 network."""
    h = np.tanh(x @ W1 + b1)
    h = np.tanh(h @ W2 + b2)
    return np.mean((h @ W3 + b3 - y) ** 2)


def cross_entropy_numpy_code(W1, b1, W2, b2, W3, b3, x, y):
    """Softmax cross-entropy of the 2-16-16-2 network, log-sum-exp shifted by the row maximum."""
    h = np.tanh(x @ W1 + b1)
    h = np.tanh(h @ W2 + b2)
    logits = h @ W3 + b3
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * log_probs) / x.shape[0]


LOSSES = {"mse": (loss_numpy_code, 1, Y), "cross-entropy": (cross_entropy_numpy_code, 2, ONE_HOT)}


# ---- calcml, both APIs ---------------------------------------------------------------------------
def tensor_api_step_factory(loss_name: str):
    loss, outputs, target = LOSSES[loss_name]
    params = [cm.Tensor(p, requires_grad=True) for p in initial_parameters(outputs)]
    return lambda: calcml_sgd_step(params, loss, LR, X, target)


def functional_step_factory(loss_name: str):
    loss, outputs, target = LOSSES[loss_name]
    params = initial_parameters(outputs)
    value_and_grad = cm.value_and_grad(loss, argnums=(0, 1, 2, 3, 4, 5))

    def step():
        _, grads = value_and_grad(*params, X, target)
        for p, g in zip(params, grads):
            p -= LR * g

    return step


# ---- by hand: the forward pass and the chain rule written out ------------------------------------
def numpy_step_factory(loss_name: str):
    params = initial_parameters(LOSSES[loss_name][1])

    def output_gradient(out):
        if loss_name == "mse":
            return 2 * (out - Y) / Y.size
        probs = np.exp(out - out.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return (probs - ONE_HOT) / BATCH

    def step():
        W1, b1, W2, b2, W3, b3 = params
        h1 = np.tanh(X @ W1 + b1)
        h2 = np.tanh(h1 @ W2 + b2)
        d_out = output_gradient(h2 @ W3 + b3)
        dW3, db3 = h2.T @ d_out, d_out.sum(0)
        d2 = (d_out @ W3.T) * (1 - h2 * h2)
        dW2, db2 = h1.T @ d2, d2.sum(0)
        d1 = (d2 @ W2.T) * (1 - h1 * h1)
        dW1, db1 = X.T @ d1, d1.sum(0)
        for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3)):
            p -= LR * g

    return step


def torch_step_factory(loss_name: str = "mse"):
    import torch

    torch.set_num_threads(2)
    _, outputs, target = LOSSES[loss_name]
    params = [torch.tensor(p, requires_grad=True) for p in initial_parameters(outputs)]
    x, y = torch.tensor(X), torch.tensor(target)

    def loss_of(W1, b1, W2, b2, W3, b3):
        h = torch.tanh(x @ W1 + b1)
        h = torch.tanh(h @ W2 + b2)
        out = h @ W3 + b3
        if loss_name == "mse":
            return ((out - y) ** 2).mean()
        shifted = out - out.max(dim=1, keepdim=True).values
        log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
        return -(y * log_probs).sum() / x.shape[0]

    def step():
        loss_of(*params).backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    return step


def autograd_step_factory(loss_name: str = "mse"):
    import autograd
    import autograd.numpy as anp

    _, outputs, target = LOSSES[loss_name]

    def loss(params):
        W1, b1, W2, b2, W3, b3 = params
        h = anp.tanh(anp.dot(X, W1) + b1)
        h = anp.tanh(anp.dot(h, W2) + b2)
        out = anp.dot(h, W3) + b3
        if loss_name == "mse":
            return anp.mean((out - target) ** 2)
        shifted = out - anp.max(out, axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.sum(target * log_probs) / BATCH

    gradient = autograd.grad(loss)
    params = initial_parameters(outputs)

    def step():
        for p, g in zip(params, gradient(params)):
            p -= LR * g

    return step


def check_same_gradients() -> None:
    """The comparison is only fair if calcml computes the hand-written gradient (cross-entropy case)."""
    params = initial_parameters(2)
    grads = cm.grad(lambda *ps: cross_entropy_numpy_code(*ps, X, ONE_HOT), argnums=tuple(range(6)))(*params)
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    probs = np.exp(out - out.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    d2 = (((probs - ONE_HOT) / BATCH) @ W3.T) * (1 - h2 * h2)
    dW1 = X.T @ ((d2 @ W2.T) * (1 - h1 * h1))
    np.testing.assert_allclose(grads[0], dW1, rtol=1e-4, atol=1e-6)


def measure(loss_name: str, rounds: int) -> dict[str, list[float]]:
    """Per-round median step times of every variant for one loss, interleaved so that host drift hits all alike."""
    work = {"calcml Tensor API": tensor_api_step_factory(loss_name),
            "calcml value_and_grad": functional_step_factory(loss_name),
            "numpy by hand": numpy_step_factory(loss_name),
            "pytorch eager": torch_step_factory(loss_name),
            "hips autograd": autograd_step_factory(loss_name)}
    return interleaved_rounds(work, repeats=400, rounds=rounds, warmup=200)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per loss")
    rounds = parser.parse_args().rounds
    check_same_gradients()
    for loss_name in LOSSES:
        medians = measure(loss_name, rounds)
        for api in ("calcml Tensor API", "calcml value_and_grad"):
            shown = {api: medians[api], **{k: v for k, v in medians.items() if not k.startswith("calcml")}}
            report_rounds(f"tiny 2-16-16-{LOSSES[loss_name][1]} tanh network, batch 32, float32, {loss_name}: "
                          "one SGD step", shown, reference=api)
