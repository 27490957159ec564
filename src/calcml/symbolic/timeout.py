"""Time limits for symbolic work that stop a runaway computation in any thread.

SymPy is pure Python, so a computation can be interrupted between two bytecodes. ``time_limit``
runs the body in the calling thread (no copy of the expression, no process start-up) and arms a
timer; when it fires, the timer raises an exception *inside* the calling thread with
``PyThreadState_SetAsyncExc``. Unlike ``signal.alarm`` this works in the main thread and in any
worker thread. The injected exception derives from ``BaseException`` so that SymPy's own
``except Exception`` blocks cannot swallow it; on leaving the block it becomes a
:class:`~calcml.symbolic.errors.SymbolicTimeout`.

A single C-level operation (one huge integer power) cannot be interrupted; the parser bounds
exponents and literal sizes so such operations never start.

Nested limits share the outermost deadline: public functions call each other, and the limit a
caller asked for is the one that counts.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from calcml.symbolic.errors import SymbolicTimeout

_default_timeout = 5.0
_active = threading.local()


class _DeadlinePassed(BaseException):
    """Raised asynchronously inside the thread whose time limit expired (never escapes)."""


def set_default_timeout(seconds: float) -> None:
    """Set the time limit, in seconds, used when a call passes ``timeout=None`` (initially 5 s).

    >>> set_default_timeout(10)
    """
    if not seconds > 0:
        raise ValueError(f"a time limit must be a positive number of seconds, got {seconds!r}")
    global _default_timeout
    _default_timeout = float(seconds)


def get_default_timeout() -> float:
    """The time limit, in seconds, used when a call passes ``timeout=None``."""
    return _default_timeout


def _inject(thread_id: int, exc_type: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else ctypes.c_void_p(0)
    )


@contextmanager
def time_limit(seconds: float | None = None, what: str = "the symbolic operation") -> Iterator[None]:
    """Run the ``with`` body for at most ``seconds`` (default: :func:`get_default_timeout`).

    Raises SymbolicTimeout when the body runs longer. Inside another ``time_limit`` the outer
    deadline applies.

    >>> with time_limit(2):
    ...     result = sympy.simplify(expr)
    """
    if getattr(_active, "depth", 0) > 0:
        _active.depth += 1
        try:
            yield
        finally:
            _active.depth -= 1
        return
    limit = _default_timeout if seconds is None else float(seconds)
    if not limit > 0:
        raise ValueError(f"a time limit must be a positive number of seconds, got {seconds!r}")
    thread_id = threading.get_ident()
    lock = threading.Lock()
    stop = threading.Event()
    state = {"armed": True, "fired": False}

    def watchdog() -> None:
        # An injected exception can be swallowed (e.g. when it lands in a garbage-collector callback),
        # so after the deadline it is injected again every 50 ms until the body has stopped (at most
        # 40 times, so that a thread which has moved on is never interrupted for long).
        if stop.wait(limit):
            return
        for _ in range(40):
            with lock:
                if not state["armed"]:
                    return
                state["fired"] = True
                _inject(thread_id, _DeadlinePassed)
            if stop.wait(0.05):
                return

    def disarm() -> None:
        _active.depth = 0
        stop.set()
        with lock:
            state["armed"] = False
            if state["fired"]:
                _inject(thread_id, None)  # drop an exception that was set but not yet delivered

    def disarm_even_if_interrupted() -> None:
        while True:
            try:
                disarm()
                return
            except _DeadlinePassed:  # delivered while disarming: disarm again (no new ones come)
                continue

    watcher = threading.Thread(target=watchdog, daemon=True, name="calcml-time-limit")
    _active.depth = 1
    watcher.start()
    try:
        try:
            yield
        finally:
            disarm_even_if_interrupted()
    except _DeadlinePassed:
        disarm_even_if_interrupted()  # in case the exception arrived before the finally could disarm
        raise SymbolicTimeout(limit, what) from None
    if state["fired"]:
        raise SymbolicTimeout(limit, what)
