"""How the lab's tests read a deliberate error answer (one home for the helper)."""

from __future__ import annotations


def problem(response, status: int, kind: str | None = None) -> str:
    """Assert a JSON error answer of ``status`` (and ``kind``); return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    if kind is not None:
        assert body["kind"] == kind, body
    return body["error"]
