"""ASGI guards in front of every route, Gradio's included: request body size and login attempts.

They sit outside the routes because the routes cannot defend themselves: FastAPI reads a whole
body before a handler runs (a 300 MB body was read in full), and Gradio's /login has no notion
of repeated failures.
"""

from __future__ import annotations

import json

from app.limits import LoginThrottle

UPLOAD_PATH = "/gradio_api/upload"  # Gradio streams these to disk and enforces the upload limit itself
LOGIN_PATHS = ("/login", "/login/")


async def _reply(send, status: int, message: str, retry_after: int | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps({"error": message}).encode()})


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, reading no more than the limit.

    A declared Content-Length over the limit is refused before any of the body is read; a
    chunked body is read up to the limit. Bodies under it are buffered and replayed to the app.
    """

    def __init__(self, app, limit: int, upload_limit: int):
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _declared_length(scope)
        if declared == -1:
            return await _reply(send, 400, "bad Content-Length header")
        if scope["path"].endswith(UPLOAD_PATH):
            if declared is not None and declared > self.upload_limit:
                return await _reply(send, 413, f"the upload is {declared:,} bytes; "
                                               f"the limit is {self.upload_limit:,}")
            return await self.app(scope, receive, send)
        if declared is not None and declared > self.limit:
            return await _reply(send, 413, f"the request body is {declared:,} bytes; the limit is {self.limit:,}")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None  # the client left before sending its body: nothing to answer
            size += len(message.get("body", b""))
            if size > self.limit:
                return await _reply(send, 413, f"the request body is over the limit of {self.limit:,} bytes")
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def client_address(scope) -> str:
    """The peer address (never a forwarded header: the server binds to loopback by default)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


class LoginGuard:
    """Counts the page's login results per client address and makes repeat offenders wait (429)."""

    def __init__(self, app, throttle: LoginThrottle):
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in LOGIN_PATHS:
            return await self.app(scope, receive, send)
        client = client_address(scope)
        wait = self.throttle.wait(client)
        if wait:
            return await _reply(send, 429, f"too many failed logins; try again in {wait} s", retry_after=wait)

        async def watch(message):
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self.throttle.succeeded(client)
                elif 400 <= message["status"] < 500:
                    self.throttle.failed(client)
            await send(message)

        return await self.app(scope, receive, watch)
