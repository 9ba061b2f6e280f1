"""A real HTTP server on 127.0.0.1 serving tests/fixtures/web, for the fetching and sources tests."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import FIXTURES

WEB = FIXTURES / "web"
SLOW_SECONDS = 3.0  # how long /slow waits before answering; the tests' timeout is far below it


class Site:
    """What the server serves, changeable by a test (``site.notice = 2``), and what it was asked."""

    def __init__(self):
        self.notice = 1
        self.requests: list[str] = []
        self.agents: list[str] = []
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest's output clean
            pass

        def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            site.requests.append(self.path)
            site.agents.append(self.headers.get("User-Agent", ""))
            path = self.path
            if path == "/statement":
                self.send(200, (WEB / "statement.html").read_bytes())
            elif path == "/download?id=7":  # a PDF with neither a .pdf name nor a PDF content type
                self.send(200, (WEB / "ferry-report.pdf").read_bytes(), "application/octet-stream")
            elif path == "/old-address":
                self.send(302, b"", headers={"Location": "/statement"})
            elif path == "/loop":
                self.send(302, b"", headers={"Location": "/loop"})
            elif path == "/to-metadata":  # a redirect into the cloud metadata address
                self.send(302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/"})
            elif path == "/to-file":
                self.send(302, b"", headers={"Location": "file:///etc/passwd"})
            elif path == "/huge":
                self.send(200, b"<html><body><p>" + b"word " * 40_000 + b"</p></body></html>")
            elif path == "/huge-unannounced":  # no Content-Length: the cap is counted while reading
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><body><p>" + b"word " * 40_000 + b"</p></body></html>")
                self.close_connection = True
            elif path == "/slow":
                time.sleep(SLOW_SECONDS)
                self.send(200, (WEB / "statement.html").read_bytes())
            elif path == "/notice":
                self.send(200, (WEB / f"notice-v{site.notice}.html").read_bytes())
            elif path == "/empty":  # a page, but nothing in it to cite
                self.send(200, b"<html><head><script>var a = 1;</script></head><body></body></html>")
            elif path == "/picture.html":  # named like a page, but the bytes are an image
                self.send(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "text/html")
            else:
                self.send(404, b"<html><body><p>Not found</p></body></html>")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (over the size cap, timed out) is what some tests do on purpose


@pytest.fixture
def site():
    """The fixture site on a free port of 127.0.0.1, for one test."""
    state = Site()
    server = _Server(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
