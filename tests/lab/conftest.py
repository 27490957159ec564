"""Fixtures of the lab's tests: the app for TestClient, the server in a background thread, and Debian's
Chromium driven by Playwright with every request recorded (anything not for the lab is refused)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture(scope="module")
def client():
    """The lab's app behind FastAPI's TestClient (no server, no port)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from calcml.lab import app as lab_app

    with TestClient(lab_app.create_app(), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="session")
def lab_server():
    """The lab on a free port of 127.0.0.1, served by uvicorn.Server in a daemon thread."""
    pytest.importorskip("uvicorn")
    from calcml.lab import LabServer

    with LabServer() as server:
        yield server


@pytest.fixture(scope="session")
def browser_context(lab_server, tmp_path_factory):
    """Headless Chromium with a fresh profile; skipped when Chromium or Playwright is not installed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(30_000)  # generous: the machine may be shared and busy
        yield context
        context.close()


class PageWatch:
    """What a page did: every requested URL, the ones refused for leaving the lab, console errors."""

    def __init__(self, origin: str):
        self.origin = origin
        self.requests: list[str] = []
        self.offsite: list[str] = []
        self.errors: list[str] = []

    def route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
        else:
            self.offsite.append(url)
            route.abort()

    def console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def lab_page(browser_context, lab_server):
    """A new tab on the lab; after the test: no request left 127.0.0.1 and no console error appeared
    (a test that expects error answers lists them in ``watch.expected_errors``)."""
    page = browser_context.new_page()
    watch = PageWatch(lab_server.url)
    watch.expected_errors = []
    page.route("**/*", watch.route)
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
    page.watch = watch
    yield page
    page.close()
    assert watch.offsite == [], f"requests left the lab: {watch.offsite}"
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in watch.requests if url.startswith("http"))
    unexpected = [e for e in watch.errors if not any(expected in e for expected in watch.expected_errors)]
    assert unexpected == [], f"console errors: {unexpected}"
