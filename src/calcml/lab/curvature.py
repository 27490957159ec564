"""The curvature panel: λ_max of the loss's Hessian over training, and its spectrum at the end.

A small network (64 → hidden tanh → 10, float64) learns the first ``examples`` training digits (MSE on one-hot
labels) by full-batch gradient descent with step η. Gradient descent on a quadratic is stable only while
λ_max < 2/η; on a network, λ_max tends to rise until it reaches 2/η and then hovers there, the edge of
stability (Cohen et al. 2021). ``cm.curvature.SharpnessMonitor`` measures λ_max every ``every`` steps by
Lanczos on Hessian-vector products; at the end ``cm.curvature.hessian_eigs`` gives the top k eigenvalues and
``cm.curvature.spectral_density`` the eigenvalue density. The run is a training job of ``calcml.lab.training``
(bounded, live, stoppable), polled at /api/train/{id}; its ``records`` hold what this panel draws.
"""

from __future__ import annotations

import numpy as np

from calcml import nn
from calcml.curvature import SharpnessMonitor, hessian_eigs, model_loss, spectral_density
from calcml.lab.functions import finite_list, finite_number
from calcml.lab.training import TrainingJob, digits_data
from calcml.optim import SGD
from calcml.train import Callback, fit

LANCZOS_STEPS = 20  # per λ_max measurement (SharpnessMonitor's default)
DENSITY_PROBES, DENSITY_STEPS, DENSITY_POINTS = 2, 30, 300


def curvature_network(examples: int, hidden: int, seed: int) -> tuple[nn.Sequential, np.ndarray, np.ndarray]:
    """(model, X, Y): 64 → hidden tanh → 10 in float64 (Xavier-uniform, from ``seed``), on the first
    ``examples`` training digits with one-hot targets."""
    data = digits_data()
    X = np.asarray(data.X_train[:examples], dtype=np.float64)
    Y = np.eye(10)[data.y_train[:examples]]
    model = nn.Sequential(nn.Linear(64, hidden, rng=seed, dtype=np.float64, init="xavier_uniform"), nn.Tanh(),
                          nn.Linear(hidden, 10, rng=seed + 1, dtype=np.float64, init="xavier_uniform"))
    return model, X, Y


class _LiveSharpness(SharpnessMonitor):
    """A SharpnessMonitor that also copies each measurement into the job's records as it is made."""

    def __init__(self, job: TrainingJob, X: np.ndarray, Y: np.ndarray, every: int):
        super().__init__(X, Y, nn.losses.mse, every=every, iters=LANCZOS_STEPS)
        self.job = job

    def record(self, model, step: int) -> float:
        value = super().record(model, step)
        with self.job.lock:
            self.job.records["lambda_steps"].append(step)
            self.job.records["lambda_max"].append(finite_number(value))
        return value


def curvature_run(job: TrainingJob, callbacks: list[Callback]) -> tuple[str, list[str]]:
    """Train with λ_max measured along the way; then the top eigenvalues and the spectral density."""
    s = job.settings
    with job.lock:
        job.records.update({"edge": 2.0 / s["lr"], "lambda_steps": [], "lambda_max": [], "eigenvalues": None,
                            "density": None})
    model, X, Y = curvature_network(s["examples"], s["hidden"], s["seed"])
    monitor = _LiveSharpness(job, X, Y, s["every"])
    fit(model, nn.losses.mse, SGD(model.parameters(), lr=s["lr"]), (X, Y), epochs=s["steps"], batch_size=None,
        seed=s["seed"], progress=False, callbacks=[monitor, *callbacks])
    model.eval()
    loss, params = model_loss(model, nn.losses.mse, X, Y)
    top = hessian_eigs(loss, params, k=s["k"], seed=s["seed"])
    density = spectral_density(loss, params, num_probes=DENSITY_PROBES, lanczos_steps=DENSITY_STEPS,
                               grid=DENSITY_POINTS, seed=s["seed"])
    with job.lock:
        job.records["eigenvalues"] = finite_list(top.eigenvalues)
        job.records["density"] = {"grid": finite_list(density.grid), "density": finite_list(density.density),
                                  "sigma": density.sigma}
    hvps = monitor.hvps + top.hvps + density.hvps
    edge = 2.0 / s["lr"]
    return (f"λ_max {top.eigenvalues[0]:.4g} after {s['steps']} steps (2/η = {edge:.4g}); "
            f"{hvps} Hessian-vector products"), []
