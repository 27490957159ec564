"""What stands between the network and the lab's endpoints: two small ASGI middlewares.

``LocalOnly`` answers only requests meant for this machine and this lab:

    400  the Host is not 127.0.0.1 or localhost (which also defeats DNS rebinding)
    403  a POST from another origin: an ``Origin`` that is not the lab's own (http://127.0.0.1:PORT or
         http://localhost:PORT), or ``Sec-Fetch-Site: cross-site`` / ``same-site`` (a page on another port)
    413  a body over ``max_body`` bytes (read here, so a chunked upload cannot grow without limit)
    415  a POST whose body is not ``Content-Type: application/json`` (what a no-cors ``fetch`` or a <form>
         from another page would have to send)

and adds the security headers (a Content-Security-Policy that allows nothing from other origins).

``JsonErrors`` turns an exception that escaped every handler (a bug) into a logged JSON 500, and lets the
connection live on: Starlette's own last-resort handler re-raises, and uvicorn then drops the keep-alive.
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

MAX_BODY = 64 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
                                 b"base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
log = logging.getLogger("calcml.lab")


def problem(status: int, message: str, kind: str, **extra) -> JSONResponse:
    """A JSON error answer: ``{"error": message, "kind": kind, ...}``."""
    return JSONResponse({"error": message, "kind": kind, **extra}, status_code=status)


def split_host(host: str) -> tuple[str, str]:
    """("127.0.0.1", "8000") for "127.0.0.1:8000"; the port is "" when the Host names none."""
    if host.startswith("["):  # an IPv6 literal: never one of ours
        return host, ""
    name, _, port = host.partition(":")
    return name, port


def own_origins(port: str) -> set[str]:
    """The origins the lab's own page has when served on ``port``."""
    suffix = f":{port}" if port and port != "80" else ""
    return {f"http://{name}{suffix}" for name in LOCAL_HOSTS}


def refusal(method: str, headers: Headers) -> JSONResponse | None:
    """Why this request may not reach the lab (an answer to send), or None when it may."""
    host = headers.get("host", "")
    name, port = split_host(host)
    if name not in LOCAL_HOSTS:
        return problem(400, f"the lab answers only requests to 127.0.0.1 or localhost, not {host!r}.", "host")
    if method in SAFE_METHODS:
        return None
    origin, site = headers.get("origin"), headers.get("sec-fetch-site")
    if origin is not None and origin not in own_origins(port):
        return problem(403, f"the lab refuses a {method} from the page at {origin}: only the lab's own page "
                            "may change or compute here.", "forbidden")
    if site == "cross-site" or (site == "same-site" and origin is None):
        return problem(403, f"the lab refuses a {method} sent by another site (Sec-Fetch-Site: {site}).", "forbidden")
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return problem(415, f"send the request body as JSON (Content-Type: application/json), "
                            f"not {media_type or 'without a Content-Type'}.", "media_type")
    return None


class LocalOnly:
    """ASGI middleware: refuse what ``refusal`` refuses and bodies over ``max_body`` bytes; add SECURITY_HEADERS."""

    def __init__(self, app, max_body: int = MAX_BODY):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        refused = refusal(scope["method"], headers)
        if refused is not None:
            return await refused(scope, receive, send)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await self._too_large(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return await self._too_large(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, replay, send_with_headers)

    async def _too_large(self, scope, receive, send):
        await problem(413, f"the request body is larger than the lab accepts ({self.max_body // 1024} KiB); "
                           "send a shorter expression or fewer runs.", "too_large")(scope, receive, send)


class JsonErrors:
    """ASGI middleware: an unexpected exception becomes a logged JSON 500 and the connection stays open."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            log.exception("lab request %s %s failed", scope["method"], scope["path"])
            if started:  # half an answer is out: nothing better than to let uvicorn close the connection
                raise
            await problem(500, f"the lab hit a bug ({type(error).__name__}); it is logged and the server keeps "
                               "running.", "internal")(scope, receive, send)
