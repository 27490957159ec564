"""Serving the lab with uvicorn on 127.0.0.1 only: in the foreground (``calcml lab``) or in a background
thread (tests, benchmarks, notebooks).

    with LabServer() as lab:          # a free port on loopback
        httpx.get(lab.url + "/api/health")
"""

from __future__ import annotations

import socket
import threading
import time
import webbrowser

import uvicorn

from calcml.lab.app import create_app

HOST = "127.0.0.1"  # the lab is for this machine only; there is deliberately no option to change it


def _config(port: int) -> uvicorn.Config:
    return uvicorn.Config(create_app(), host=HOST, port=port, log_level="warning", access_log=False,
                          lifespan="on", timeout_keep_alive=5)


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port=0``: a free port chosen by the system)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


class LabServer:
    """The lab served by uvicorn in a daemon thread; ``url`` once started; ``stop()`` (or ``with``) to end it."""

    def __init__(self, port: int = 0):
        self._socket = bind_loopback(port)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self._server = uvicorn.Server(_config(self.port))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True,
                                        name="calcml-lab-server")

    def start(self, timeout: float = 10.0) -> LabServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the lab server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(port: int = 8000, open_browser: bool = True) -> None:
    """Serve the lab on http://127.0.0.1:port until Ctrl-C; open it in the default browser first."""
    sock = bind_loopback(port)
    server = uvicorn.Server(_config(port))
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    if open_browser:
        def open_when_started() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=open_when_started, daemon=True).start()
    print(f"calcml lab: {url}  (Ctrl-C to stop)", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
