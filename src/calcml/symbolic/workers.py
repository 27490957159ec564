"""The pool of symbolic worker processes: every public symbolic call runs here, under a hard deadline.

SymPy can spend minutes in C code that no thread can interrupt, and an interrupted SymPy leaves its
caches half updated. So symbolic work runs in a few long-lived, warm worker processes (SymPy and
calcml.symbolic already imported: a small call answers in milliseconds). Each call has a deadline;
past it the worker is killed (SIGKILL) and replaced, and the caller gets SymbolicTimeoutError naming the
call and the limit. Nothing of a killed call survives: its caches die with its process.

The API, for the library, the CLI and the lab (callable from any number of threads at once):

    call(name, *args, timeout=None, what=None, **kwargs)
        Run the registered function ``name`` in a worker and return its result. Arguments must be
        picklable (strings as the user typed them: they are parsed inside the worker; numbers;
        SymPy objects); results come back pickled (SymPy objects, the result dataclasses).
        ``timeout`` is a number of seconds in (0, MAX_TIMEOUT] (None: the default, 5 s); the time a
        call waits for a busy pool counts, starting a fresh worker does not. Raises SymbolicTimeoutError
        past it, WorkerError when a worker runs out of memory or dies, and whatever the function
        raised otherwise (ParseError, SymbolicError, ValueError, ...).
    runs_in_worker(name)
        Decorator of a public function: calling it ships the call to the pool (the signature and
        docstring stay the function's own); inside a worker it runs inline (no pool inside the pool).
    in_worker()          True inside a worker process.
    configure(size=2, memory_limit=2 GiB)   before or after first use (a running pool is restarted).
    shutdown()           kill the workers (also done at exit); the next call starts a new pool.
    stats()              PoolStats: size, calls, timeouts, workers started/killed, peak RSS seen.

>>> from calcml.symbolic import workers
>>> workers.call("derive", "sin(x^2)", "x", timeout=2).result
2*x*cos(x**2)

Design: workers are forked by a zygote (:mod:`calcml.symbolic.zygote`): a fresh interpreter, started
once with ``python -m``, that imports calcml.symbolic and warms SymPy up, then forks one worker per
request, so a worker starts warm in milliseconds, nothing is forked from a parent that runs threads,
and the user's ``__main__`` is never re-imported. The zygote exits when this process does (however it
dies) and workers die with the zygote (PR_SET_PDEATHSIG on Linux), even inside a long C call; SIGINT
is ignored by both. Each worker's address space is capped (RLIMIT_AS, 2 GiB by default): a memory
bomb becomes MemoryError → WorkerError, and the worker is replaced. Killed workers are replaced in
the background. Pool size: ``CALCML_SYMBOLIC_WORKERS`` or :func:`configure` (2 by default); the pool
starts on first use (1-3 s for the zygote's imports and warm-up) and then fills up to its size.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import multiprocessing
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from calcml.symbolic.errors import SymbolicTimeoutError, WorkerError
from calcml.symbolic.registry import REGISTRY as _REGISTRY
from calcml.symbolic.registry import in_worker, registered
from calcml.symbolic.timeout import MAX_TIMEOUT, resolve_timeout

__all__ = [
    "MAX_TIMEOUT",
    "PoolStats",
    "call",
    "configure",
    "in_worker",
    "probe",
    "runs_in_worker",
    "shutdown",
    "stats",
]

DEFAULT_SIZE = 2
DEFAULT_MEMORY_LIMIT = 2 * 1024**3
STARTUP_SECONDS = 120.0  # a fresh worker must say "ready" within this (cold imports on a busy machine)

def runs_in_worker(name: str) -> Callable[[Callable], Callable]:
    """Register ``fn`` under ``name`` and return its public form, which runs it in the pool within the
    caller's ``timeout=`` (else ``fn``'s own default for ``timeout``, else the global default).

    >>> @runs_in_worker("derive")
    ... def derive(expr, var=None, order=1, *, timeout=None): ...
    """

    def decorate(fn: Callable) -> Callable:
        _REGISTRY[name] = fn
        parameter = inspect.signature(fn).parameters.get("timeout")
        own_default = None if parameter is None else parameter.default  # None: the global default

        @functools.wraps(fn)
        def public(*args, **kwargs):
            timeout = kwargs.pop("timeout", own_default)
            if in_worker():  # nested: the outer call's deadline applies
                return fn(*args, **kwargs)
            return call(name, *args, timeout=timeout, **kwargs)

        public.implementation = fn
        return public

    return decorate


def describe(name: str, args: tuple) -> str:
    """What a call is doing, for messages: ``derive('sin(x^2)')``."""
    first = args[0] if args else None
    if first is None or isinstance(first, (list, tuple, dict)) or hasattr(first, "solution"):
        return name
    try:
        shown = first if isinstance(first, str) else str(first)
    except ValueError:  # an integer too long to print
        return name
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{name}({shown!r})" if shown else name


def call(name: str, *args, timeout: float | None = None, what: str | None = None, **kwargs):
    """Run the function registered as ``name`` in a worker, within ``timeout`` seconds (see the module)."""
    if in_worker():
        return registered(name)(*args, **kwargs)
    registered(name)
    limit = resolve_timeout(timeout)
    return _pool().run(name, args, kwargs, limit, what or describe(name, args))


@runs_in_worker("workers.probe")
def probe(allocate: int = 0, seconds: float = 0.0, *, timeout: float | None = None) -> dict:
    """A health check that runs in a worker: its pid and peak RSS (bytes); for tests it can first
    allocate ``allocate`` bytes and sleep ``seconds``.

    >>> call("workers.probe", timeout=1)["pid"] != os.getpid()
    True
    """
    if allocate:
        block = bytearray(allocate)
        block[:: 4096] = b"x" * len(block[:: 4096])
    if seconds:
        time.sleep(seconds)
    return {"pid": os.getpid(), "peak_rss": _peak_rss(os.getpid()), "in_worker": in_worker()}


@dataclass(frozen=True)
class PoolStats:
    """Counters of the pool since it started; ``peak_rss`` is the largest peak resident set size (bytes)
    of any worker, including killed ones (Linux; 0 elsewhere)."""

    size: int
    alive: int
    idle: int
    calls: int
    timeouts: int
    started: int
    killed: int
    peak_rss: int


def _peak_rss(pid: int) -> int:
    """VmHWM of a live process in bytes (0 when unknown)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Worker:
    """One worker process (forked by the zygote) and the parent's end of its pipe."""

    def __init__(self, zygote, memory_limit: int) -> None:
        if zygote is None:  # no fork on this platform: a spawned process (slower to start)
            self.handle = _spawn(memory_limit)
        else:
            self.handle = zygote.fork(memory_limit)
        self.conn = self.handle.conn
        self.pid = self.handle.pid
        self.peak_rss = 0
        if not self.conn.poll(STARTUP_SECONDS):
            self.stop()
            raise WorkerError(f"a symbolic worker did not start within {STARTUP_SECONDS:g} s")
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            self.stop()
            raise WorkerError("a symbolic worker failed to start") from None
        if message != "ready":
            self.stop()
            raise WorkerError(f"a symbolic worker failed to start: {message}")

    def stop(self) -> None:
        """Kill the process (it holds nothing worth keeping) and remember its peak memory."""
        self.peak_rss = max(self.peak_rss, _peak_rss(self.pid))
        self.handle.kill()
        self.handle.close()


def _spawn(memory_limit: int):
    """A worker from multiprocessing's spawn (platforms without fork), with the zygote's handle interface."""
    from calcml.symbolic.worker_process import serve

    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe(duplex=True)
    process = context.Process(target=serve, args=(child, memory_limit, False), daemon=True)
    process.start()
    child.close()

    class Handle:
        pid = process.pid

        def kill(self) -> None:
            process.kill()
            process.join(5)

        def close(self) -> None:
            conn.close()

    handle = Handle()
    handle.conn = conn
    return handle


class WorkerPool:
    """A fixed number of worker slots shared by all threads; see the module docstring."""

    def __init__(self, size: int, memory_limit: int) -> None:
        self.size = size
        self.memory_limit = memory_limit
        self._zygote = None
        self._zygote_lock = threading.Lock()
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._live = 0
        self._closed = False
        self._counts = {"calls": 0, "timeouts": 0, "started": 0, "killed": 0, "peak_rss": 0}

    # -- one call ------------------------------------------------------------------------
    def run(self, name: str, args: tuple, kwargs: dict, limit: float, what: str):
        try:
            request = pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise TypeError(
                f"the arguments of {what} cannot be sent to a symbolic worker ({error}); "
                "give strings, numbers or SymPy objects"
            ) from None
        deadline = time.monotonic() + limit
        worker, startup = self._acquire(deadline, limit, what)
        deadline += startup
        keep = False
        try:
            worker.conn.send_bytes(request)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                with self._lock:
                    self._counts["timeouts"] += 1
                raise SymbolicTimeoutError(limit, what)
            status, value, retire = pickle.loads(worker.conn.recv_bytes())
            keep = not retire
        except (EOFError, OSError) as error:
            raise WorkerError(
                f"the symbolic worker stopped unexpectedly while doing {what}; it has been replaced"
            ) from error
        finally:
            self._release(worker, keep)
        if status == "ok":
            return value
        raise value

    # -- slots ---------------------------------------------------------------------------
    def _acquire(self, deadline: float, limit: float, what: str) -> tuple[_Worker, float]:
        """An idle worker, or a new one when a slot is free; waits (until the deadline) otherwise.
        Returns (worker, seconds spent starting it)."""
        with self._lock:
            while True:
                if self._closed:
                    raise WorkerError("the symbolic worker pool has been shut down")
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    self._counts["calls"] += 1
                    return worker, 0.0
                if self._live < self.size:
                    self._live += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._counts["timeouts"] += 1
                    raise SymbolicTimeoutError(limit, f"{what} (waiting: all {self.size} symbolic workers were busy)")
                self._lock.wait(remaining)
        started = time.monotonic()
        worker = self._start()
        with self._lock:
            self._busy.add(worker)
            self._counts["calls"] += 1
            short = self.size - self._live
        for _ in range(short):  # fill the pool up in the background: the next caller finds a warm worker
            threading.Thread(target=self._refill, daemon=True, name="calcml-symbolic-refill").start()
        return worker, time.monotonic() - started

    def _start(self) -> _Worker:
        """A new worker for a slot already counted in ``_live`` (the slot is given back on failure)."""
        try:
            worker = _Worker(self._zygote_now(), self.memory_limit)
        except BaseException:
            with self._lock:
                self._live -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._counts["started"] += 1
        return worker

    def _zygote_now(self):
        """The running zygote, started (or restarted) when needed; None where there is no fork."""
        if not (hasattr(os, "fork") and hasattr(socket, "send_fds")):
            return None
        from calcml.symbolic.zygote import Zygote

        with self._zygote_lock:
            if self._closed:
                raise WorkerError("the symbolic worker pool has been shut down")
            if self._zygote is None or not self._zygote.alive():
                self._zygote = Zygote.start(STARTUP_SECONDS)
            return self._zygote

    def _release(self, worker: _Worker, keep: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            if keep and not self._closed:
                self._idle.append(worker)
                self._lock.notify()
                return
        worker.stop()
        with self._lock:
            self._live -= 1
            self._counts["killed"] += 1
            self._counts["peak_rss"] = max(self._counts["peak_rss"], worker.peak_rss)
            self._lock.notify()
            closed = self._closed
        if not closed:  # a warm replacement, so that the next call does not wait for it
            threading.Thread(target=self._refill, daemon=True, name="calcml-symbolic-refill").start()

    def _refill(self) -> None:
        with self._lock:
            if self._closed or self._live >= self.size:
                return
            self._live += 1
        try:
            worker = self._start()
        except (WorkerError, OSError):
            return
        with self._lock:
            if self._closed:
                self._live -= 1
            else:
                self._idle.append(worker)
                self._lock.notify()
                return
        worker.stop()

    # -- whole pool ----------------------------------------------------------------------
    def stats(self) -> PoolStats:
        with self._lock:
            workers = list(self._idle) + list(self._busy)
            peak = max([self._counts["peak_rss"]] + [_peak_rss(w.pid) for w in workers])
            return PoolStats(
                self.size, self._live, len(self._idle), self._counts["calls"], self._counts["timeouts"],
                self._counts["started"], self._counts["killed"], peak,
            )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._idle) + list(self._busy)
            self._idle.clear()
            self._lock.notify_all()
        for worker in workers:
            worker.stop()
        with self._zygote_lock:
            zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.stop()


_settings = {
    "size": int(os.environ.get("CALCML_SYMBOLIC_WORKERS", DEFAULT_SIZE)),
    "memory_limit": DEFAULT_MEMORY_LIMIT,
}
_current: WorkerPool | None = None
_pool_lock = threading.Lock()


def _pool() -> WorkerPool:
    global _current
    pool = _current
    if pool is not None:
        return pool
    with _pool_lock:
        if _current is None:
            _current = WorkerPool(_settings["size"], _settings["memory_limit"])
        return _current


def configure(size: int | None = None, memory_limit: int | None = None) -> None:
    """Set the number of workers (1-32) and each worker's memory cap in bytes (>= 256 MiB).

    A running pool is shut down; the next call starts one with the new settings.

    >>> configure(size=4)
    """
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 32:
            raise ValueError(f"the pool size must be a whole number from 1 to 32, got {size!r}")
        _settings["size"] = size
    if memory_limit is not None:
        if isinstance(memory_limit, bool) or not isinstance(memory_limit, int) or memory_limit < 256 * 1024**2:
            raise ValueError(f"the memory limit must be a whole number of bytes >= 256 MiB, got {memory_limit!r}")
        _settings["memory_limit"] = memory_limit
    shutdown()


def shutdown() -> None:
    """Kill all workers now; a later call starts a new pool."""
    global _current
    with _pool_lock:
        pool, _current = _current, None
    if pool is not None:
        pool.close()


def stats() -> PoolStats:
    """The pool's counters (starts the pool if it is not running)."""
    return _pool().stats()


def _forget_inherited_pool() -> None:
    """In a child forked from this process, the parent's pool (its pipes, its zygote) is not ours to use."""
    global _current, _pool_lock
    _current = None
    _pool_lock = threading.Lock()


atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_pool)
