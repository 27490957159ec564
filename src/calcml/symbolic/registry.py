"""The symbolic functions that run in worker processes, by name, and whether this process is a worker.

Kept apart from :mod:`calcml.symbolic.workers` (the pool, on the caller's side) so that the worker's side
(``worker_process``, ``warm_start``, ``timeout``) reads the registry and the flag without importing the pool:
the parent imports the worker's modules, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable

REGISTRY: dict[str, Callable] = {}
_IN_WORKER = False


def in_worker() -> bool:
    """True inside a symbolic worker process (calls there run inline)."""
    return _IN_WORKER


def set_in_worker(inside: bool) -> bool:
    """Say whether this process now acts as a worker; returns what it was, to restore it."""
    global _IN_WORKER
    previous, _IN_WORKER = _IN_WORKER, inside
    return previous


def registered(name: str) -> Callable:
    """The implementation registered as ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"no symbolic function is registered as {name!r}; known: {known}") from None
