"""The engine's switches: recording on or off, anomaly detection, forward mode, graph recorder.

They live in one thread-local object, so the hot path reads them with a single attribute lookup and
threads do not see each other's switches.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class EngineState(threading.local):
    """Switches read on every traced operation, one set per thread: ``no_grad`` in one thread (say a
    training loop) never changes what another thread (say a web request) records."""

    def __init__(self) -> None:
        self.recording = True  # build graph nodes for Tensors that require grad
        self.tangents_stopped = False  # inside cm.no_grad(): forward-mode tangents stop too
        self.detect_anomaly = False  # check every value and gradient for NaN/inf
        self.forward_depth = 0  # > 0 while a forward-mode transform (jvp, jacobian fwd) runs f
        self.reverse_depth = 0  # > 0 while a reverse-mode transform (grad, vjp, jacobian rev) runs f
        self.recorder: list | None = None  # cm.trace collects every new Tensor here
        self.in_place_updates = 0  # computed Tensors updated in place so far (then graphs may hold snapshots)
        self.vmap_tracers: list = []  # cm.vmap records the operations on its example inputs here
        self.watching = False  # detect_anomaly, a recorder or a vmap trace: one switch for the hot path

    def set_detect_anomaly(self, on: bool) -> None:
        self.detect_anomaly = on
        self._update_watching()

    def set_recorder(self, recorder: list | None) -> None:
        self.recorder = recorder
        self._update_watching()

    def push_vmap_tracer(self, tracer) -> None:
        self.vmap_tracers.append(tracer)
        self._update_watching()

    def pop_vmap_tracer(self) -> None:
        self.vmap_tracers.pop()
        self._update_watching()

    def _update_watching(self) -> None:
        self.watching = self.detect_anomaly or self.recorder is not None or bool(self.vmap_tracers)


STATE = EngineState()


class recording:  # noqa: N801  (used like a function: `with recording(False):`)
    """Within the block, derivatives flow (``on``) or do not, in both modes: no graph is recorded and
    no tangent is pushed. The previous setting comes back after. (A small class rather than a
    generator: it is entered at every optimizer step.)"""

    __slots__ = ("on", "previous")

    def __init__(self, on: bool):
        self.on = on

    def __enter__(self) -> None:
        state = STATE
        self.previous = state.recording, state.tangents_stopped
        state.recording, state.tangents_stopped = self.on, not self.on

    def __exit__(self, *exc: object) -> None:
        STATE.recording, STATE.tangents_stopped = self.previous


@contextlib.contextmanager
def top_level() -> Iterator[None]:
    """Run a transform as if no other were active: for rules that call transforms on plain arrays
    (a custom rule's own jvp or grad) while an enclosing transform is running."""
    saved = STATE.recording, STATE.tangents_stopped, STATE.forward_depth, STATE.reverse_depth
    STATE.recording, STATE.tangents_stopped, STATE.forward_depth, STATE.reverse_depth = True, False, 0, 0
    try:
        yield
    finally:
        STATE.recording, STATE.tangents_stopped, STATE.forward_depth, STATE.reverse_depth = saved


def no_grad() -> recording:
    """Run operations as constants (like ``torch.no_grad`` and JAX's ``stop_gradient``): results do not
    require grad and carry no tangent, so every transform (reverse, forward, nested) sees the same
    constant and ``cm.hessian(f)`` equals ``cm.jacobian(cm.grad(f))`` when f uses it.

    >>> w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> (w * w).sum().backward()
    >>> with cm.no_grad():
    ...     w = w - 0.1 * w.grad        # an optimizer update that is not itself differentiated
    >>> w, w.requires_grad
    (Tensor([0.8, 1.6]), False)
    """
    return recording(False)


def enable_grad() -> recording:
    """Turn derivatives back on inside a ``no_grad`` block."""
    return recording(True)


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``AnomalyError`` at the first primitive whose output or gradient is NaN or infinite.

    The error names the primitive, its input shapes and whether it happened in the forward or the
    backward pass. Checking every value costs time, so use it to debug, not to train.
    """
    previous = STATE.detect_anomaly
    STATE.set_detect_anomaly(True)
    try:
        yield
    finally:
        STATE.set_detect_anomaly(previous)
