"""The engine against an earlier version of itself, in ONE process: the same workloads run alternately
(A, B, A, B ...) and the best round of each is compared, so the host's drifting speed cancels out.

   python benchmarks/bench_engine_versions.py 9a4a4ae      # any git revision of this repository
   python benchmarks/bench_engine_versions.py 9a4a4ae --cpu   # CPU time of this process, not wall time

With ``--cpu`` each round is timed by ``time.process_time``: the time other jobs take from a busy
host is not counted, so the ratio holds on a loaded machine (BLAS threads add up the same on both sides).

The earlier version is taken with `git archive` into a temporary folder and imported as `calcml_base`
(its imports renamed), beside the working tree's `calcml`. Prints new/base per workload.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def import_revision(revision: str):
    """``calcml`` as of ``revision``, importable as ``calcml_base``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src/calcml"], check=True,
                             capture_output=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="calcml_base_"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "src" / "calcml"
    target = folder / "calcml_base"
    package.rename(target)
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\bcalcml\.", "calcml_base.", text)
        text = re.sub(r"\bimport calcml\b", "import calcml_base", text)
        text = re.sub(r"\bfrom calcml import\b", "from calcml_base import", text)
        path.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder))
    import calcml_base

    return calcml_base


sys.path.insert(0, str(ROOT / "src"))
REVISION = next((a for a in sys.argv[1:] if not a.startswith("--")), "HEAD~1")
CLOCK = time.process_time if "--cpu" in sys.argv else time.perf_counter
B = import_revision(REVISION)
from bench_tiny_network import cross_entropy_numpy_code as tiny_cross_entropy  # noqa: E402  (plain NumPy)
from bench_tiny_network import loss_numpy_code as tiny_loss  # noqa: E402

import calcml as N  # noqa: E402

rng = np.random.default_rng(0)


def tiny_parameters() -> list[np.ndarray]:
    """The 2-16-16-1 network of bench_tiny_network.py."""
    params = []
    for n_in, n_out in zip((2, 16, 16), (16, 16, 1)):
        params.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32))
        params.append(np.zeros(n_out, np.float32))
    return params


X = rng.standard_normal((32, 2)).astype(np.float32)
Y = np.sin(X[:, :1] * X[:, 1:]).astype(np.float32)


def mlp_loss(W1, b1, W2, b2, W3, b3, x, y):
    """784-256-256-10 ReLU MLP, cross-entropy written with a max-shifted log-sum-exp."""
    h = np.maximum(x @ W1 + b1, 0)
    h = np.maximum(h @ W2 + b2, 0)
    z = h @ W3 + b3
    m = np.max(z, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return np.mean(np.sum(y * (lse - z), axis=1))


def tensor_api_step(engine, params, loss, lr, *batch):
    """forward, backward, update: in place through the sanctioned path where the engine has one."""
    loss(*params, *batch).backward()
    if hasattr(engine.Tensor, "writable"):
        with engine.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    else:
        for p in params:
            p.value -= lr * p.grad
            p.grad = None


TINY = tiny_parameters()
TINY_CE = TINY[:4] + [(rng.standard_normal((16, 2)) / 4).astype(np.float32), np.zeros(2, np.float32)]
ONE_HOT = np.eye(2, dtype=np.float32)[(Y[:, 0] > 0).astype(int)]
MLP = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in [(784, 256), (256,), (256, 256), (256,),
                                                                     (256, 10), (10,)]]
XM = rng.standard_normal((128, 784)).astype(np.float32)
YM = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
A = rng.standard_normal((100, 100)).astype(np.float32) / 10
X0 = rng.standard_normal(100).astype(np.float32)
V0 = rng.standard_normal(100).astype(np.float32)


def f(x):
    z = A @ x
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) + 0.25 * np.sum(x ** 4) + np.sum(np.sin(x))


PE = {"W1": rng.standard_normal((64, 128)) * 0.1, "b1": np.zeros(128), "W2": rng.standard_normal((128, 10)) * 0.1,
      "b2": np.zeros(10)}
XP = rng.standard_normal((128, 64))
YP = rng.integers(0, 10, 128)


def example_loss(engine):
    """The cross-entropy of one example of bench_per_example.py's digits MLP."""
    def loss(p, x, y):
        h = np.maximum(0.0, x @ p["W1"] + p["b1"])
        z = h @ p["W2"] + p["b2"]
        return engine.logsumexp(z) - z[y]
    return loss


def workloads(engine):
    tiny = [engine.Tensor(p.copy(), requires_grad=True) for p in TINY]
    mlp = [engine.Tensor(w.copy(), requires_grad=True) for w in MLP]
    tiny_ce = [engine.Tensor(p.copy(), requires_grad=True) for p in TINY_CE]
    value_and_grad = engine.value_and_grad(tiny_loss, argnums=(0, 1, 2, 3, 4, 5))
    value_and_grad_ce = engine.value_and_grad(tiny_cross_entropy, argnums=(0, 1, 2, 3, 4, 5))
    per_example = engine.vmap(engine.grad(example_loss(engine)), in_axes=(None, 0, 0))
    return {
        "per-example grads (vmap)": (lambda: per_example(PE, XP, YP), 10),
        "tiny step (Tensor API)": (lambda: tensor_api_step(engine, tiny, tiny_loss, 0.05, X, Y), 200),
        "tiny step (value_and_grad)": (lambda: value_and_grad(*TINY, X, Y), 200),
        "tiny CE step (Tensor API)": (lambda: tensor_api_step(engine, tiny_ce, tiny_cross_entropy, 0.05, X,
                                                              ONE_HOT), 200),
        "tiny CE (value_and_grad)": (lambda: value_and_grad_ce(*TINY_CE, X, ONE_HOT), 200),
        "MLP 784-256-256-10 step": (lambda: tensor_api_step(engine, mlp, mlp_loss, 0.01, XM, YM), 10),
        "Hessian 100x100": (lambda: engine.hessian(f)(X0), 40),
        "hvp": (lambda: engine.hvp(f, X0, V0), 100),
        "gradient": (lambda: engine.grad(f)(X0), 100),
    }


def interleaved(a, b, n: int, rounds: int = 15) -> tuple[float, float, float]:
    """Best time per call of a and of b, alternating rounds; and the median of the paired ratios."""
    for _ in range(n):
        a()
        b()
    ta, tb = [], []
    for _ in range(rounds):
        start = CLOCK()
        for _ in range(n):
            a()
        ta.append(CLOCK() - start)
        start = CLOCK()
        for _ in range(n):
            b()
        tb.append(CLOCK() - start)
    paired = float(np.median(np.array(tb) / np.array(ta)))
    return min(ta) / n, min(tb) / n, paired


if __name__ == "__main__":
    base, new = workloads(B), workloads(N)
    print(f"new = this working tree; base = {REVISION}; clock = {CLOCK.__name__}")
    for name, (work, n) in base.items():
        ta, tb, paired = interleaved(work, new[name][0], n)
        print(f"{name:<28} base {ta * 1e6:9.1f} µs   new {tb * 1e6:9.1f} µs   new/base {tb / ta:.3f} "
              f"(median of paired rounds {paired:.3f})")
