"""The zygote: one warm process that forks symbolic workers on request, so each starts warm in milliseconds.

Why not ``multiprocessing``: its ``spawn`` and ``forkserver`` children re-import the user's ``__main__``
script (a script that calls ``cm.derive`` at top level would run again inside every worker), and a
busy worker outlives its parent's death. The zygote avoids both:

- it is started with ``python -m calcml.symbolic.zygote`` (a fresh interpreter: nothing is forked from
  a parent that runs threads, and the user's script is never imported), imports calcml.symbolic and
  warms SymPy up once (:mod:`calcml.symbolic.warm_start`), then waits on a control socket;
- for each worker the parent sends one end of a new socket pair (SCM_RIGHTS); the zygote forks, the
  child serves calls on that socket (:func:`calcml.symbolic.worker_process.serve`), and the zygote
  answers with the child's pid;
- the zygote exits when the parent's end of the control socket closes (the parent exited, however it
  died), and every worker has PR_SET_PDEATHSIG = SIGKILL (Linux): it dies with the zygote even in the
  middle of a long C call. Children are reaped automatically (SIGCHLD ignored).

>>> zygote = Zygote.start()            # ~1-2 s once: imports and warm-up
>>> worker = zygote.fork(2 * 1024**3)  # ~10 ms: pid, Connection, and a handle to kill it
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from calcml.symbolic.errors import WorkerError


@dataclass
class ForkedWorker:
    """A worker forked by the zygote: its pid, the parent's end of its pipe, and a pidfd (Linux) to kill
    exactly this process even after its pid could be reused."""

    pid: int
    conn: Connection
    pidfd: int | None

    def kill(self) -> None:
        """SIGKILL the worker (nothing happens if it is already gone)."""
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def close(self) -> None:
        """Release the pipe and the pidfd."""
        self.conn.close()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class Zygote:
    """The parent's handle on the zygote process (thread-safe)."""

    def __init__(self, process: subprocess.Popen, control: socket.socket) -> None:
        self.process = process
        self.control = control
        self.lock = threading.Lock()

    @classmethod
    def start(cls, startup_seconds: float = 120.0) -> Zygote:
        """Start a zygote and wait until it is warm."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in [env.get("PYTHONPATH")] if p])
        process = subprocess.Popen(
            [sys.executable, "-m", "calcml.symbolic.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=False,
        )
        theirs.close()
        ours.settimeout(startup_seconds)
        try:
            ready = ours.recv(1)
        except OSError:
            ready = b""
        if ready != b"R":
            process.kill()
            process.wait(5)
            ours.close()
            raise WorkerError(
                f"the symbolic zygote process did not start (exit code {process.poll()}); "
                "see its error output above"
            )
        ours.settimeout(None)
        return cls(process, ours)

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, memory_limit: int) -> ForkedWorker:
        """A new warm worker with its address space capped at ``memory_limit`` bytes."""
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self.lock:
                socket.send_fds(self.control, [struct.pack("!Q", memory_limit)], [child_end.fileno()])
                reply = _recv_exactly(self.control, 8)
        except OSError as error:
            parent_end.close()
            raise WorkerError(f"the symbolic zygote process is gone ({error})") from None
        finally:
            child_end.close()
        pid = struct.unpack("!q", reply)[0]
        if pid <= 0:
            parent_end.close()
            raise WorkerError("the symbolic zygote could not fork a worker (out of memory or processes?)")
        pidfd = None
        if hasattr(os, "pidfd_open"):
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                pidfd = None
        return ForkedWorker(pid, Connection(parent_end.detach()), pidfd)

    def stop(self) -> None:
        """Close the control socket (the zygote exits) and make sure it is gone."""
        try:
            self.control.close()
        finally:
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(2)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("the connection closed")
        data += chunk
    return data


def main(control_fd: int) -> None:
    """The zygote's loop (runs in its own interpreter): warm up, then fork one worker per request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    from calcml.symbolic import warm_start

    warm_start.warm_up()
    control.sendall(b"R")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 8, 1)
        except OSError:
            return
        if not message:  # the parent is gone
            return
        (memory_limit,) = struct.unpack("!Q", message)
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            code = 0
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                from calcml.symbolic.worker_process import serve

                serve(Connection(fds[0]), memory_limit, True)
            except BaseException:  # a worker never returns into the zygote's loop
                code = 1
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        try:
            control.sendall(struct.pack("!q", pid))
        except OSError:
            return


if __name__ == "__main__":
    main(int(sys.argv[1]))
