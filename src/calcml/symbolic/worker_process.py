"""What runs inside a symbolic worker process: read a call, run it, send back the result or the error.

A request is ``(name, args, kwargs)`` pickled; the reply is ``(status, value, retire)`` pickled, with
status "ok" (value = the result) or "error" (value = the exception, as raised when it pickles,
else a SymbolicError with its type and message). ``retire`` asks the parent to replace this worker:
after a MemoryError, or when a soft time limit interrupted SymPy during the call.

Results are checked before they leave: a number with more than MAX_RESULT_DIGITS digits is refused
(no one reads it, and Python refuses to print integers over 4,300 digits).

>>> # started by calcml.symbolic.workers, never by hand:
>>> # context.Process(target=serve, args=(child_conn, 2 * 1024**3, True), daemon=True).start()
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import sys
import threading
import time
import traceback

from calcml.symbolic.errors import SymbolicError, WorkerError

MAX_RESULT_DIGITS = 4000
_MAX_BITS = int(MAX_RESULT_DIGITS * 3.3219280948873626)


def serve(conn, memory_limit: int, die_with_parent: bool = True) -> None:
    """The worker's main loop: one call at a time, until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business; it kills us if needed
    _tie_to_parent(die_with_parent)
    from calcml.symbolic import registry, warm_start

    warm_start.warm_up()
    registry.set_in_worker(True)
    _limit_memory(memory_limit)
    conn.send("ready")
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        reply, retire = handle(request, memory_limit)
        try:
            conn.send_bytes(reply)
        except (OSError, ValueError):
            return
        if retire:
            return


def handle(request: bytes, memory_limit: int = 0) -> tuple[bytes, bool]:
    """Run one pickled call; (pickled reply, whether this worker should retire)."""
    from calcml.symbolic.registry import registered
    from calcml.symbolic.timeout import interrupted_since_reset, reset_interrupted

    reset_interrupted()
    retire = False
    try:
        name, args, kwargs = pickle.loads(request)
        value = registered(name)(*args, **kwargs)
        refuse_huge_numbers(value)
        status = "ok"
    except MemoryError:
        status, retire = "error", True
        value = WorkerError(
            f"the computation needed more memory than a symbolic worker may use "
            f"({memory_limit / 1024**3:g} GiB) and was stopped; try a smaller problem"
        )
    except RecursionError:
        status, retire = "error", True
        value = SymbolicError("the expression is nested too deeply for SymPy to work on; try a simpler one")
    except Exception as error:  # sent back to the caller, who sees it raised
        status, value = "error", portable(error)
    retire = retire or interrupted_since_reset()
    try:
        return pickle.dumps((status, value, retire), protocol=pickle.HIGHEST_PROTOCOL), retire
    except MemoryError:
        value = WorkerError("the result was too large to send back from the symbolic worker")
        return pickle.dumps(("error", value, True)), True
    except Exception as error:
        value = SymbolicError(f"the result could not be sent back from the symbolic worker: {error}")
        return pickle.dumps(("error", value, retire)), retire


def portable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else a SymbolicError with its type and message. Errors that
    are not calcml's own carry the worker's traceback as a note (shown in tracebacks, not in str())."""
    if not isinstance(error, SymbolicError):
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        error.add_note("raised in a calcml symbolic worker:\n" + "".join(lines[-6:]).rstrip())
    error.__traceback__ = None
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return SymbolicError(f"{type(error).__name__}: {error}")


def refuse_huge_numbers(value, _seen: set | None = None) -> None:
    """Raise SymbolicError when ``value`` (a SymPy object, result dataclass, or containers of them)
    holds a rational number with more than MAX_RESULT_DIGITS digits."""
    import sympy as sp

    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, sp.Basic):
        for number in value.atoms(sp.Rational):
            if max(abs(number.p).bit_length(), number.q.bit_length()) > _MAX_BITS:
                raise SymbolicError(
                    f"the result contains a number with more than {MAX_RESULT_DIGITS} digits; "
                    "calcml does not return numbers that large"
                )
    elif isinstance(value, sp.MatrixBase):
        for entry in value:
            refuse_huge_numbers(entry, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            refuse_huge_numbers(getattr(value, field.name), seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            refuse_huge_numbers(item, seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_huge_numbers(key, seen)
            refuse_huge_numbers(item, seen)
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_BITS:
        raise SymbolicError(f"the result is a number with more than {MAX_RESULT_DIGITS} digits")


def _limit_memory(limit: int) -> None:
    """Cap this process's address space (so a bomb raises MemoryError here instead of hurting the machine)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _tie_to_parent(die_with_parent: bool) -> None:
    """Die when the process that started us dies, even in the middle of a long C call.

    Under the fork server the parent is the fork server (which exits when calcml's process does), so
    Linux's PR_SET_PDEATHSIG delivers SIGKILL then. Elsewhere a thread polls the parent's pid.
    """
    parent = os.getppid()
    if die_with_parent and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="calcml-parent-watch").start()
