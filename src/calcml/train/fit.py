"""``fit``: the training loop (forward, loss, backward, clip, step) over epochs of batches; ``evaluate``.

    for each epoch:                              one pass over the training set, reshuffled
        for (X_b, y_b) in batches:               cm.data.batches(X, y, batch_size, rng)
            optimizer.zero_grad()
            L = loss(model(X_b), y_b);  L.backward()     ∂L/∂θ into every parameter's .grad
            clip;  optimizer.step()                      θ ← θ − η · direction(∂L/∂θ)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.state import no_grad
from calcml.data.batching import batches
from calcml.train.callbacks import Callback, TrainingState
from calcml.train.clipping import clip_grad_norm, clip_grad_value
from calcml.train.history import History
from calcml.train.progress import TrainingProgress


@dataclass(frozen=True)
class Evaluation:
    """The loss (sample-weighted mean over batches) and, for class labels, the accuracy on ``n`` samples."""

    loss: float
    accuracy: float | None
    n: int

    def __str__(self) -> str:
        acc = "" if self.accuracy is None else f", accuracy {self.accuracy:.2%}"
        return f"loss {self.loss:.4g}{acc} on {self.n} samples"


def is_classification(y: np.ndarray) -> bool:
    """Targets are class labels when they are integers (or booleans); float targets are regression."""
    return np.issubdtype(np.asarray(y).dtype, np.integer) or np.asarray(y).dtype == bool


def count_correct(prediction: np.ndarray, y: np.ndarray) -> int:
    """How many predictions name the right class: the arg-max of the scores for several classes, the
    sign of the logit for one output (class 1 when the logit is > 0)."""
    if prediction.ndim == 2 and prediction.shape[1] > 1:
        labels = y.argmax(axis=1) if y.ndim == 2 else y
        return int(np.count_nonzero(prediction.argmax(axis=1) == labels))
    return int(np.count_nonzero((prediction.reshape(len(y)) > 0) == (y.reshape(len(y)) > 0)))


def training_arrays(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from a Dataset (its training part), a Sample or an (X, y) pair."""
    if hasattr(data, "X_train"):
        return data.X_train, data.y_train
    try:
        X, y = data
    except (TypeError, ValueError):
        raise TypeError("fit: data must be a Dataset (cm.data.digits()), a Sample or an (X, y) pair, "
                        f"not {type(data).__name__}.") from None
    return X, y


def blas_thread_limit(threads: int | None) -> contextlib.AbstractContextManager:
    """A context capping the BLAS thread pool at ``threads`` (no change for None)."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # a runtime dependency; imported here to keep import fast

    return threadpool_limits(limits=threads, user_api="blas")


def _set_mode(model: Any, training: bool) -> bool | None:
    """Switch a Module to training or evaluation mode; return the mode it had (None for plain callables)."""
    previous = getattr(model, "training", None)
    switch = getattr(model, "train" if training else "eval", None)
    if callable(switch):
        switch()
    return previous


def evaluate(model: Callable, loss: Callable, X: np.ndarray, y: np.ndarray,
             batch_size: int | None = 1024) -> Evaluation:
    """The model's loss and accuracy on (X, y), in evaluation mode and without building a graph.

    The loss is the mean of ``loss`` over batches weighted by their sizes, which equals the loss on the
    whole set for losses with reduction="mean". The model's training mode is restored afterwards.

    >>> data = cm.data.digits()
    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0), cm.nn.ReLU(), cm.nn.Linear(32, 10, rng=1))
    >>> _ = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2), data,
    ...                  epochs=3, progress=False)
    >>> print(cm.train.evaluate(model, cm.nn.losses.cross_entropy, data.X_test, data.y_test))
    loss 0.2214, accuracy 94.15% on 359 samples
    """
    if len(X) != len(y):
        raise ValueError(f"evaluate: X has {len(X)} samples but y has {len(y)}.")
    classify = is_classification(y)
    previous = _set_mode(model, training=False)
    total_loss, correct = 0.0, 0
    try:
        with no_grad():
            for Xb, yb in batches(X, y, batch_size, shuffle=False):
                prediction = model(Xb)
                total_loss += float(np.asarray(loss(prediction, yb))) * len(Xb)
                if classify:
                    correct += count_correct(np.asarray(prediction), yb)
    finally:
        if previous is not None:
            _set_mode(model, training=previous)
    n = len(X)
    return Evaluation(total_loss / n, correct / n if classify else None, n)


def fit(model: Any, loss: Callable, optimizer: Any, data: Any, epochs: int = 10, batch_size: int | None = 32,
        callbacks: Sequence[Callback] = (), validation: Any = None, seed: int | None = 0, progress: bool = True,
        *, clip_norm: float | None = None, clip_value: float | None = None, scheduler: Any = None,
        shuffle: bool = True, blas_threads: int | None = None, console: Any = None) -> History:
    """Train ``model`` by minimizing ``loss(model(X_b), y_b)`` with ``optimizer``, one batch at a time.

    ``data``: a Dataset (its training part is used), a Sample or an (X, y) pair. ``batch_size=None``
    is batch gradient descent, 1 stochastic, otherwise mini-batches (the last one may be smaller); each
    epoch reshuffles with a Generator seeded by ``seed``, so a run is reproducible when the model was
    initialized from a seed too. ``validation``: an (X, y) pair, or a Dataset (its test part), evaluated
    after each epoch. ``clip_norm`` / ``clip_value`` clip the gradients before every step; a learning-rate
    ``scheduler`` (cm.optim.CosineAnnealingLR, ...) steps after every epoch. Targets of an
    integer dtype are class labels and get accuracies; float targets are regression.

    The progress bar (epoch, loss, accuracy, samples/s) shows on a terminal unless ``progress=False``.
    ``blas_threads`` caps NumPy's BLAS threads while training (via threadpoolctl): small
    networks train fastest on 1, as threads cost more than they save on small matrices.

    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0), cm.nn.ReLU(), cm.nn.Linear(32, 10, rng=1))
    >>> history = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2),
    ...                        cm.data.digits(), epochs=3, progress=False, callbacks=[cm.train.GradNormMonitor()])
    >>> history.summary()                  # the speed depends on the machine
    '3 epochs, loss 0.1671, accuracy 96.24%, ... samples/s'
    """
    X, y = training_arrays(data)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} samples but y has {len(y)}; they must match.")
    if epochs < 0:
        raise ValueError(f"fit: epochs must be >= 0, not {epochs}.")
    if validation is not None:
        validation = (validation.X_test, validation.y_test) if hasattr(validation, "X_test") else tuple(validation)
    classify = is_classification(y)
    rng = np.random.default_rng(seed)
    n = len(X)
    steps_per_epoch = 1 if batch_size is None else -(-n // batch_size)
    history = History()
    state = TrainingState(model=model, optimizer=optimizer, history=history, epochs=epochs)
    callbacks = list(callbacks)
    for callback in callbacks:
        callback.on_train_begin(state)
    with blas_thread_limit(blas_threads), TrainingProgress(epochs, steps_per_epoch, progress, console) as bar:
        for epoch in range(1, epochs + 1):
            state.epoch = epoch
            bar.epoch(epoch)
            _set_mode(model, training=True)
            for callback in callbacks:
                callback.on_epoch_begin(state)
            started = time.perf_counter()
            seen, total_loss, correct = 0, 0.0, 0
            for Xb, yb in batches(X, y, batch_size, shuffle=shuffle, rng=rng):
                optimizer.zero_grad()
                prediction = model(Xb)
                batch_loss = loss(prediction, yb)
                batch_loss.backward()
                state.batch_loss = value = float(batch_loss.value)
                for callback in callbacks:
                    callback.on_after_backward(state)
                if clip_norm is not None:
                    clip_grad_norm(model.parameters(), clip_norm)
                if clip_value is not None:
                    clip_grad_value(model.parameters(), clip_value)
                optimizer.step()
                state.step += 1
                history.step_loss.append(value)
                seen += len(Xb)
                total_loss += value * len(Xb)
                if classify:
                    correct += count_correct(prediction.value, yb)
                for callback in callbacks:
                    callback.on_step_end(state)
                if bar.enabled:
                    elapsed = time.perf_counter() - started
                    bar.advance(total_loss / seen, correct / seen if classify else None, seen / max(elapsed, 1e-9))
            seconds = time.perf_counter() - started
            history.seconds.append(seconds)
            history.samples_per_second.append(seen / max(seconds, 1e-12))
            history.loss.append(total_loss / seen)
            if classify:
                history.accuracy.append(correct / seen)
            if scheduler is not None:
                scheduler.step()
            if validation is not None:
                result = evaluate(model, loss, *validation)
                history.val_loss.append(result.loss)
                if result.accuracy is not None:
                    history.val_accuracy.append(result.accuracy)
            for callback in callbacks:
                callback.on_epoch_end(state)
            if state.stop_training:
                break
    for callback in callbacks:
        callback.on_train_end(state)
    return history
