"""Time limits of symbolic work: the default, its bounds, and the soft limit used inside a worker.

Every public symbolic call runs in a worker process with a hard deadline (see
:mod:`calcml.symbolic.workers`); this module only says *how long*. A limit is a finite number of
seconds, greater than 0 and at most :data:`MAX_TIMEOUT` (300 s); ``timeout=None`` means the default
(:func:`get_default_timeout`, initially 5 s). ``float("inf")`` is refused: there is no "no limit".

>>> resolve_timeout(2), resolve_timeout(None) == get_default_timeout()   # None: the default (5 s at start)
(2.0, True)
>>> resolve_timeout(float("inf"))
Traceback (most recent call last):
ValueError: a time limit must be a finite number of seconds > 0 and <= 300, got inf

Inside a worker, :func:`time_limit` gives a piece of work a *shorter* budget than the call's deadline
(the exercise checker's optional proof by simplification): a SIGALRM interrupts it between two
bytecodes and it raises SymbolicTimeoutError. Because an interruption can leave SymPy's caches half
updated, the caches are cleared at once and the worker retires after the call (it is replaced), so
nothing of the interrupted work survives. Outside a worker ``time_limit`` cannot stop anything (a
thread cannot be interrupted safely); it is kept for old callers, warns, and only runs the body.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Real

from calcml.symbolic.errors import SymbolicTimeoutError

MAX_TIMEOUT = 300.0
DEFAULT_TIMEOUT = 5.0
_default_timeout = DEFAULT_TIMEOUT


def resolve_timeout(seconds: float | None) -> float:
    """The limit to use for ``seconds`` (None: the default), or ValueError when it is not a finite
    number in (0, MAX_TIMEOUT]."""
    if seconds is None:
        return _default_timeout
    if isinstance(seconds, bool) or not isinstance(seconds, Real):
        raise ValueError(f"a time limit must be a number of seconds, got {seconds!r}")
    value = float(seconds)
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ValueError(
            f"a time limit must be a finite number of seconds > 0 and <= {MAX_TIMEOUT:g}, got {seconds!r}"
        )
    return value


def set_default_timeout(seconds: float) -> None:
    """Set the time limit, in seconds, used when a call passes ``timeout=None`` (initially 5 s).

    >>> set_default_timeout(10); get_default_timeout()
    10.0
    """
    if seconds is None:
        raise ValueError("the default time limit must be a number of seconds, not None")
    global _default_timeout
    _default_timeout = resolve_timeout(seconds)


def get_default_timeout() -> float:
    """The time limit, in seconds, used when a call passes ``timeout=None``."""
    return _default_timeout


# -- the soft limit inside a worker -------------------------------------------------------------

_interrupted = {"any": False}


class _DeadlinePassed(BaseException):
    """Raised by the alarm inside a worker (a BaseException, so SymPy's ``except Exception`` cannot
    swallow it); it never leaves :func:`time_limit`."""


def interrupted_since_reset() -> bool:
    """True when a soft limit fired since the last :func:`reset_interrupted` (the worker then retires)."""
    return _interrupted["any"]


def reset_interrupted() -> None:
    """Forget earlier soft-limit interruptions (called by the worker before each call)."""
    _interrupted["any"] = False


def clear_symbolic_caches() -> None:
    """Empty SymPy's caches, including manualintegrate's table of integrals in progress."""
    import sympy
    from sympy.integrals import manualintegrate

    sympy.core.cache.clear_cache()
    for name in ("_integral_cache", "_parts_u_cache"):
        cache = getattr(manualintegrate, name, None)
        if hasattr(cache, "clear"):
            cache.clear()


def _alarm_usable() -> bool:
    from calcml.symbolic.registry import in_worker

    return in_worker() and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None = None, what: str = "the symbolic operation") -> Iterator[None]:
    """Inside a worker: run the ``with`` body for at most ``seconds`` or raise SymbolicTimeoutError.

    Nested limits keep the earliest deadline. Outside a worker this cannot interrupt anything: it
    warns (DeprecationWarning) and runs the body; use the public functions, which run in workers.

    In code that runs in a worker (``calcml.symbolic.workers.call``):

    ```python
    with time_limit(2, "simplify"):
        proof = sympy.simplify(difference)
    ```
    """
    limit = resolve_timeout(seconds)
    if not _alarm_usable():
        warnings.warn(
            "calcml.symbolic.time_limit cannot stop work outside a symbolic worker; "
            "call the public functions (they run in killable worker processes) or "
            "calcml.symbolic.workers.call",
            DeprecationWarning,
            stacklevel=3,
        )
        yield
        return
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    if 0 < outer_left <= limit:  # an enclosing limit ends first: it applies
        yield
        return

    def fire(signum, frame):
        raise _DeadlinePassed()

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer_left > 0:  # re-arm the enclosing limit with what is left of it
                signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 1e-3))
    except _DeadlinePassed:
        _interrupted["any"] = True
        clear_symbolic_caches()
        raise SymbolicTimeoutError(limit, what) from None
