"""The HTTP API: POST /api/ask, GET /api/health and GET /api/timeline, with login, a bounded queue and a time budget."""

from __future__ import annotations

import base64
import math
import secrets
import threading
import time

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.guards import client_address
from app.limits import Budget, LimitError, LoginThrottle, Unavailable, parse_json
from app.messages import to_history
from app.pipeline import Pipeline
from app.records import DossierError
from app.settings import Settings
from app.store import StoreError

WRONG_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
DISCONNECT_POLL = 0.1  # seconds between checks that an API client is still there


class Busy:
    """Bounds the questions answered at once and waiting; past that, callers are told 'busy'."""

    def __init__(self, running: int, waiting: int):
        self._admitted = threading.BoundedSemaphore(running + waiting)
        self._running = threading.BoundedSemaphore(running)
        self._slots = running
        self._seconds = 1.0  # running mean time of one question, for Retry-After
        self.in_flight = 0  # admitted and not finished (for /api/health and tests)

    def __enter__(self):
        if not self._admitted.acquire(blocking=False):
            wait = max(1, math.ceil(self._seconds * self.in_flight / self._slots))
            raise Unavailable("Dossier is busy answering other questions; try again in a moment", retry_after=wait)
        self.in_flight += 1
        return self

    def __exit__(self, *exc):
        self.in_flight -= 1
        self._admitted.release()

    def run(self, fn, *args):
        """Call fn once a running slot is free (admitted callers wait here, in their thread)."""
        with self._running:
            t0 = time.monotonic()
            try:
                return fn(*args)
            finally:
                self._seconds = 0.8 * self._seconds + 0.2 * (time.monotonic() - t0)


def _wrong_method(allowed: str):
    async def wrong_method(request: Request) -> JSONResponse:
        return JSONResponse({"error": f"{request.method} is not allowed here; use {allowed}"}, status_code=405,
                            headers={"Allow": allowed})
    return wrong_method


def _error(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def api_routes(app: FastAPI, pipeline: Pipeline, settings: Settings) -> None:
    """POST /api/ask, GET /api/health and GET /api/timeline."""
    busy = app.state.busy = Busy(settings.concurrency, settings.queue_size)
    logins: LoginThrottle = app.state.logins
    login = settings.login()
    expected = f"{login[0]}:{login[1]}".encode() if login else b""

    def refused(request: Request) -> JSONResponse | None:
        """None when the request may go on, else the 401 or 429 to send."""
        if not login:
            return None
        client = client_address(request.scope)
        wait = logins.wait(client)
        if wait:
            return _error(429, f"too many failed logins; try again in {wait} s", wait)
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True)
        except ValueError:
            given = b""
        if scheme.lower() == "basic" and secrets.compare_digest(given, expected):
            logins.succeeded(client)
            return None
        if scheme:  # credentials that are wrong count; a request without any is not a guess
            logins.failed(client)
        return JSONResponse({"error": "login required (HTTP basic auth)"}, status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="Dossier"'})

    @app.post("/api/ask")
    async def ask(request: Request):
        if (denied := refused(request)) is not None:
            return denied
        try:
            body = parse_json(await request.body(), settings)
        except LimitError as err:
            return _error(400, f'{err}: {{"question": "...", "history": [...]}}')
        if not isinstance(body, dict) or "question" not in body:
            return _error(400, "missing field 'question'")
        budget = Budget(settings.max_seconds_per_question, app.state.stopping)
        try:
            history = to_history(body.get("history"))
            with busy:
                answer = await _run_watched(request, budget, busy.run, pipeline.ask, body["question"],
                                            history, budget)
        except Unavailable as err:
            return _error(503, str(err), err.retry_after)
        except StoreError as err:  # no index yet, or the Chroma server is down: not the caller's fault
            return _error(503, str(err))
        except DossierError as err:
            return _error(400, str(err))
        return answer.to_json()

    # Without these, a wrong method falls through to the page mounted at "/" and gets its 404.
    for path, allowed in (("/api/ask", "POST"), ("/api/health", "GET"), ("/api/timeline", "GET")):
        app.add_api_route(path, _wrong_method(allowed), methods=sorted(WRONG_METHODS - {allowed}),
                          include_in_schema=False)

    @app.get("/api/health")
    def health(request: Request):
        if (denied := refused(request)) is not None:
            return denied
        try:
            stats = pipeline.stats()
        except DossierError as err:
            return _error(503, str(err))
        return {"status": "ok", "documents": stats["document_count"], "chunks": stats["chunk_count"],
                "model": stats["model"], "index": stats["index"], "questions_in_flight": busy.in_flight}

    @app.get("/api/timeline")
    def timeline(request: Request):
        if (denied := refused(request)) is not None:
            return denied
        try:
            events = pipeline.timeline()
        except DossierError as err:  # no index yet, or one built with other settings
            return _error(503, str(err))
        return {"count": len(events), "events": [e.to_json() for e in events]}


async def _run_watched(request: Request, budget: Budget, fn, *args):
    """Run fn in a worker thread; when the client disconnects first, stop its budget.

    The work then ends at its next check instead of running on for nobody.
    """
    done, result = anyio.Event(), {}

    async def work():
        try:
            result["value"] = await anyio.to_thread.run_sync(lambda: fn(*args))
        except Exception as err:  # re-raised below, in the request's own task
            result["error"] = err
        finally:
            done.set()

    async def watch():
        while not done.is_set():
            if await request.is_disconnected():
                budget.stop("the client went away")
                return
            with anyio.move_on_after(DISCONNECT_POLL):
                await done.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(work)
        group.start_soon(watch)
    if "error" in result:
        raise result["error"]
    return result["value"]
