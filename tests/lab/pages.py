"""How the lab's browser tests read a page: Plotly's traces, a polled JavaScript condition, a panel opened."""

from __future__ import annotations

import time

ANIMATION_MS = 90_000  # the race draws 60 frames of Plotly.restyle: 2 s when idle, over 15 s on a busy machine


def plot_data(page, plot_id: str) -> list[dict]:
    """The traces Plotly holds for a plot div (x, y, name, type)."""
    return page.evaluate(f"""() => (document.getElementById({plot_id!r}).data || []).map(t => (
        {{x: Array.from(t.x || []), y: Array.from(t.y || []), name: t.name, type: t.type || 'scatter'}}))""")


def wait_until(page, condition: str, timeout: float = 45.0) -> None:
    """Poll a JavaScript condition (the page's Content-Security-Policy forbids the eval behind
    ``page.wait_for_function``; ``page.evaluate`` of a function runs through the DevTools protocol)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({condition})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        page.wait_for_timeout(50)


def open_panel(page, url: str, panel: str) -> None:
    """Load the lab with ``panel`` open (the page reads the panel from the URL's fragment)."""
    page.goto(f"{url}/#{panel}")
    page.wait_for_selector(f"#panel-{panel}:not([hidden])")
