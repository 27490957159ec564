"""``calcml lab``: registered on the app, serves on 127.0.0.1 only, and says so when the port is taken."""

from __future__ import annotations

import socket
from unittest import mock

from typer.testing import CliRunner

import calcml.cli.lab  # noqa: F401  (registers the command)
from calcml.cli.app import app


def test_lab_command_serves_on_loopback_without_a_browser():
    with mock.patch("calcml.lab.serve") as serve:
        result = CliRunner().invoke(app, ["lab", "--port", "8123", "--no-browser"])
    assert result.exit_code == 0, result.output
    serve.assert_called_once_with(port=8123, open_browser=False)


def test_lab_command_opens_the_browser_by_default():
    with mock.patch("calcml.lab.serve") as serve:
        CliRunner().invoke(app, ["lab"])
    serve.assert_called_once_with(port=8000, open_browser=True)


def test_a_taken_port_is_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["lab", "--port", str(port), "--no-browser"])
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.output


def test_the_server_binds_loopback_only():
    from calcml.lab.server import HOST, bind_loopback

    sock = bind_loopback(0)
    try:
        assert HOST == "127.0.0.1" and sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
