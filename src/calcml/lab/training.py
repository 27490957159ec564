"""Training on the digits in the background, watched live: loss per step, per-layer gradient norms, accuracy.

``TrainingJobs.start`` runs a runner (``digits_run`` here, ``calcml.lab.curvature.curvature_run`` for the
curvature panel) that calls ``cm.train.fit`` on a daemon thread (at most MAX_RUNNING at once, each with a
bounded number of epochs and seconds); the page polls ``snapshot`` for what has been recorded so far and
can stop a run at any step. The engine's switches are per thread, so a run and the other panels' requests
compute side by side. Run ids are unguessable (``secrets.token_urlsafe``): a page cannot name another's run.
"""

from __future__ import annotations

import copy
import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from calcml import nn
from calcml.data import Dataset, digits
from calcml.lab.errors import LabInputError
from calcml.lab.functions import finite_list, finite_number
from calcml.train import Callback, GradNormMonitor, History, TrainingState, evaluate, fit
from calcml.train.history import METRICS
from calcml.train.recipes import TUNED_LEARNING_RATES, digits_mlp, make_optimizer

MAX_RUNNING = 2
MAX_KEPT = 16
MAX_SECONDS = 120.0
log = logging.getLogger("calcml.lab")


def new_run_id() -> str:
    """An unguessable run id: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


class _Stop(Exception):
    """Raised inside fit by the recorder when the run is asked to stop (or runs out of time)."""


@dataclass
class TrainingJob:
    """What one run has recorded so far, as a ``cm.train.History`` (the test set is its validation set) and,
    for a panel that measures more, ``records`` (JSON-ready, written under ``lock``); ``status``: running,
    finished, stopped or failed."""

    id: str
    settings: dict
    status: str = "running"
    history: History = field(default_factory=History)  # fit's record, copied step by step under ``lock``
    records: dict = field(default_factory=dict)
    message: str = ""
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    stop_requested: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _LiveRecorder(Callback):
    """Copies each step's loss and layer gradient norms into the job; stops the run when asked or out of time."""

    def __init__(self, job: TrainingJob):
        self.job = job

    def on_step_end(self, state: TrainingState) -> None:
        job = self.job
        with job.lock:
            job.history.step_loss.append(state.batch_loss)
            for layer, values in state.history.grad_norms.items():
                job.history.grad_norms.setdefault(layer, []).append(values[-1])
        if job.stop_requested.is_set():
            raise _Stop("stopped on request")
        if time.perf_counter() - job.started > MAX_SECONDS:
            raise _Stop(f"stopped after the {MAX_SECONDS:g} s limit of a lab run")

    def on_epoch_end(self, state: TrainingState) -> None:
        history, job = state.history, self.job
        with job.lock:
            for metric in METRICS:  # loss, accuracy, val_loss, val_accuracy: each epoch's new values
                getattr(job.history, metric).extend(getattr(history, metric)[len(getattr(job.history, metric)):])


Runner = Callable[[TrainingJob, list[Callback]], tuple[str, list[str]]]
"""A run's work: train with the given callbacks (the live recorder), return (final message, notes)."""


@functools.lru_cache(maxsize=1)
def digits_data() -> Dataset:
    """The embedded digits, read once for every run."""
    return digits()


def digits_run(job: TrainingJob, callbacks: list[Callback]) -> tuple[str, list[str]]:
    """The training panel's run: the digits MLP (64 → hidden ReLU → 10) with the chosen optimizer."""
    settings, data = job.settings, digits_data()
    model = digits_mlp(data, hidden=settings["hidden"], seed=settings["seed"])
    opt = make_optimizer(settings["optimizer"], model.parameters(), lr=settings["lr"])
    monitor = GradNormMonitor(warn=False)
    fit(model, nn.losses.cross_entropy, opt, data, epochs=settings["epochs"], batch_size=settings["batch_size"],
        validation=data, seed=settings["seed"], progress=False, callbacks=[monitor, *callbacks])
    test = evaluate(model, nn.losses.cross_entropy, data.X_test, data.y_test)
    return f"test accuracy {test.accuracy:.2%} on {test.n} digits", [r.message for r in monitor.reports[-1:]]


class TrainingJobs:
    """The lab's training runs, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()

    def start_digits(self, epochs: int, hidden: int, optimizer: str, lr: float | None, batch_size: int,
                     seed: int) -> str:
        """Start a run of the digits MLP (64 → hidden ReLU → 10) and return its id."""
        if optimizer not in TUNED_LEARNING_RATES:
            raise LabInputError(f"unknown optimizer {optimizer!r}; choose one of: "
                                f"{', '.join(TUNED_LEARNING_RATES)}.", "domain")
        return self.start({"epochs": epochs, "hidden": hidden, "optimizer": optimizer, "lr": lr,
                           "batch_size": batch_size, "seed": seed}, digits_run)

    def start(self, settings: dict, runner: Runner) -> str:
        """Start ``runner`` on a thread of its own (if fewer than MAX_RUNNING runs are going) and return its id."""
        with self._lock:
            running = sum(job.status == "running" for job in self._jobs.values())
            if running >= MAX_RUNNING:
                raise LabInputError(f"{running} training runs are going already; stop one first.", "busy")
            finished = [key for key, job in self._jobs.items() if job.status != "running"]
            for key in finished[: max(0, len(self._jobs) - MAX_KEPT + 1)]:
                del self._jobs[key]
            job = TrainingJob(new_run_id(), settings)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, runner), daemon=True, name=f"calcml-lab-{job.id}").start()
        return job.id

    def _run(self, job: TrainingJob, runner: Runner) -> None:
        try:
            message, notes = runner(job, [_LiveRecorder(job)])
            status = "finished"
        except _Stop as reason:
            status, message, notes = "stopped", str(reason), []
        except Exception as error:  # a run that fails must say why on the page, never kill the server
            log.exception("lab training run %s failed", job.id)
            status, message, notes = "failed", f"{type(error).__name__}: {error}", []
        with job.lock:
            job.status, job.message, job.history.notes = status, message, notes
            job.seconds = time.perf_counter() - job.started

    def stop(self, job_id: str) -> dict:
        """Ask a run to stop after its current step."""
        job = self.get(job_id)
        job.stop_requested.set()
        return self.snapshot(job_id)

    def get(self, job_id: str) -> TrainingJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            shown = job_id if len(job_id) <= 40 else job_id[:37] + "..."
            raise LabInputError(f"no training run {shown!r} (runs are kept while the server runs).", "not_found")
        return job

    def snapshot(self, job_id: str, since: int = 0) -> dict:
        """The run's record as JSON: step losses and gradient norms from step ``since`` on."""
        job = self.get(job_id)
        with job.lock:
            seconds = job.seconds if job.status != "running" else time.perf_counter() - job.started
            history = job.history  # the page's names: epoch_loss is history.loss, test_accuracy val_accuracy
            return {
                "id": job.id, "status": job.status, "settings": job.settings, "epoch": history.epochs,
                "epochs": job.settings["epochs"], "steps": len(history.step_loss), "since": since,
                "step_loss": finite_list(np.array(history.step_loss[since:])),
                "grad_norms": {layer: finite_list(np.array(v[since:])) for layer, v in history.grad_norms.items()},
                "epoch_loss": finite_list(np.array(history.loss)), "accuracy": list(history.accuracy),
                "test_accuracy": list(history.val_accuracy), "layers": _layer_titles(list(history.grad_norms)),
                "notes": list(history.notes), "message": job.message,
                "seconds": finite_number(seconds), "records": copy.deepcopy(job.records),
            }

    def stop_all(self) -> None:
        """Ask every run to stop (when the server shuts down)."""
        with self._lock:
            for job in self._jobs.values():
                job.stop_requested.set()


def _layer_titles(layers: list[str]) -> dict[str, str]:
    """How the page names the MLP's layers: the first dense layer is hidden, the last one the output."""
    titles = {}
    for i, layer in enumerate(layers):
        role = "output" if i == len(layers) - 1 else "hidden"
        titles[layer] = f"{role} layer (module {layer})"
    return titles
