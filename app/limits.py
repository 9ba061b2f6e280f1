"""Limits on what one request may ask of Dossier, shared by the API, the UI and the CLI.

Every check raises a DossierError whose message says which limit was hit and what it is, so each
front end can pass it on as it is (400 from the API, a toast in the UI, one line from the CLI).
The values come from Settings; nothing here reads the environment.
"""

from __future__ import annotations

import json
import math
import threading
import time

from app.conversation import validate_history
from app.records import DossierError
from app.settings import Settings


class LimitError(DossierError):
    """A request over one of the limits, or malformed (HTTP 400; the body size guard answers 413)."""


class Unavailable(DossierError):
    """Too much work queued; the caller should retry after ``retry_after`` seconds (HTTP 503)."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class Stopped(Unavailable):
    """The question's work was stopped: its time budget ran out, its client left, or the server is stopping."""


def check_text(text: str, what: str) -> str:
    """Refuse text that is not valid Unicode (a lone surrogate from JSON or a non-UTF-8 argv byte).

    Such text cannot be encoded for the tokenizer or stored; saying so here beats a traceback there.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        bad = text[err.start]
        detail = (f"byte 0x{ord(bad) - 0xDC00:02x} is not UTF-8" if 0xDC80 <= ord(bad) <= 0xDCFF
                  else f"U+{ord(bad):04X} is a lone surrogate")
        raise LimitError(f"the {what} is not valid text ({detail} at character {err.start + 1})") from None
    return text


def check_question(question, settings: Settings) -> str:
    """The question stripped, or a LimitError saying what is wrong with it."""
    if not isinstance(question, str):
        raise LimitError("the question must be a string")
    question = check_text(question, "question").strip()
    if not question:
        raise LimitError("the question is empty: type a question about the documents")
    limit = settings.max_question_chars
    if len(question) > limit:
        raise LimitError(f"the question is {len(question):,} characters long; the limit is {limit:,}")
    return question


def check_history(history, settings: Settings) -> list[dict]:
    """A well-formed history within the turn and character limits, or a LimitError.

    ``None`` means no history; any other non-list (false, 0, "", {}) is an error, not "empty".
    A user turn is a question, so it has the question's limit: this bounds what the conversation
    can add to the search query, which is what made a long history cost minutes.
    """
    try:
        history = validate_history(history)
    except DossierError as err:
        raise LimitError(str(err)) from None
    if len(history) > settings.max_history_turns:
        raise LimitError(f"the history has {len(history):,} turns; the limit is {settings.max_history_turns:,} "
                         "(start a new conversation)")
    total = 0
    for i, turn in enumerate(history):
        content = check_text(turn["content"], f"history item {i}")
        if turn["role"] == "user" and len(content) > settings.max_question_chars:
            raise LimitError(f"history item {i} is a question of {len(content):,} characters; "
                             f"the limit is {settings.max_question_chars:,}")
        total += len(content)
    if total > settings.max_history_chars:
        raise LimitError(f"the history holds {total:,} characters; the limit is {settings.max_history_chars:,} "
                         "(start a new conversation)")
    return history


def fit_history(history: list[dict], settings: Settings) -> list[dict]:
    """The most recent turns that fit the limits (the UI keeps a conversation going this way)."""
    kept, total = [], 0
    for turn in reversed(history[-settings.max_history_turns:] if settings.max_history_turns else []):
        total += len(turn["content"])
        if total > settings.max_history_chars:
            break
        kept.append(turn)
    return kept[::-1]


def parse_json(data: bytes, settings: Settings, what: str = "the body"):
    """``data`` as JSON, within the request size limit; a LimitError naming ``what`` otherwise."""
    limit = settings.max_request_kb * 1024
    if len(data) > limit:
        raise LimitError(f"{what} is {len(data):,} bytes; the limit is {limit:,}")
    try:
        return json.loads(data)
    except RecursionError:  # deeply nested arrays: Python's parser gives up by recursion, not ValueError
        raise LimitError(f"{what} is JSON nested too deeply") from None
    except UnicodeDecodeError as err:  # a ValueError too, but "must be JSON" sent users looking for a syntax error
        raise LimitError(f"{what} is not UTF-8 text (byte {err.start} is {data[err.start]:#04x}); "
                         "send JSON encoded as UTF-8") from None
    except ValueError:
        raise LimitError(f"{what} must be JSON") from None


class Budget:
    """The time a question may take, and a flag to stop it early; checked between pipeline stages.

    A thread cannot be killed, so the pipeline calls ``check()`` at each stage boundary; with the
    question and history bounded, each stage is short, and the work ends soon after a stop.
    """

    def __init__(self, seconds: float, stopping: threading.Event | None = None):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._stopping = stopping  # set for the whole server when it shuts down
        self._reason: str | None = None

    def stop(self, reason: str) -> None:
        """Ask the work to stop at its next check."""
        self._reason = self._reason or reason

    def check(self) -> None:
        """Raise Stopped when the budget is spent or a stop was asked for."""
        if self._stopping is not None and self._stopping.is_set():
            self.stop("the server is shutting down")
        if self._reason is None and time.monotonic() > self.deadline:
            self._reason = f"the question took longer than {self.seconds:g} s and was stopped; try a shorter one"
        if self._reason is not None:
            raise Stopped(self._reason, retry_after=max(1, math.ceil(self.seconds / 4)))


class LoginThrottle:
    """Per-client backoff after repeated wrong logins: each failure past the allowance doubles the wait.

    Shared by the page's /login and the API's basic auth, so both count against one allowance.
    """

    MAX_WAIT = 300.0  # seconds; a locked-out address is never shut out for longer
    MAX_CLIENTS = 10000  # addresses remembered; the oldest are forgotten first

    def __init__(self, settings: Settings):
        self.allowed = settings.login_failures
        self.backoff = settings.login_backoff_seconds
        self._clients: dict[str, tuple[int, float]] = {}  # address -> (failures, blocked until)
        self._lock = threading.Lock()

    def wait(self, client: str) -> int:
        """Whole seconds this client must wait before its next try (0: it may try now)."""
        with self._lock:
            _, until = self._clients.get(client, (0, 0.0))
        left = until - time.monotonic()
        return math.ceil(left) if left > 0 else 0

    def failed(self, client: str) -> None:
        """Count a wrong login."""
        with self._lock:
            failures = self._clients.pop(client, (0, 0.0))[0] + 1
            until = 0.0
            if failures >= self.allowed:
                # The exponent is capped: past 2**1023 a float overflows, and the raise came after the pop,
                # so a burst of wrong guesses erased the client's record instead of locking it out.
                doubling = 2.0 ** min(failures - self.allowed, 64)
                until = time.monotonic() + min(self.MAX_WAIT, self.backoff * doubling)
            self._clients[client] = (failures, until)
            while len(self._clients) > self.MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))

    def succeeded(self, client: str) -> None:
        """Forget a client's failures."""
        with self._lock:
            self._clients.pop(client, None)
