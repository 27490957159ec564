"""Identical symbolic requests that arrive together share one computation.

Twenty people (or one page, twenty times) asking for ∫ x cos x at once would queue twenty calls for the
few symbolic worker processes, and the last ones would run out of time waiting. With ``shared_calls``
the first caller computes and the others wait for its answer (or its error); the lab's caches then
answer later requests.

    @shared_calls
    @lru_cache(maxsize=256)
    def exact_integral(expr, var, a, b): ...
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future


def shared_calls(fn: Callable) -> Callable:
    """``fn`` (positional, hashable arguments) where concurrent calls with equal arguments run it once."""
    lock = threading.Lock()
    running: dict[tuple, Future] = {}

    @functools.wraps(fn)
    def shared(*args):
        with lock:
            future = running.get(args)
            first = future is None
            if first:
                future = running[args] = Future()
        if not first:
            return future.result()
        try:
            result = fn(*args)
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            with lock:
                del running[args]

    return shared
