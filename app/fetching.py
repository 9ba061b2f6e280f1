"""Fetching: one URL becomes the bytes of a page or PDF, fetched within limits, or a FetchError.

The only module that talks to the network. Each limit is a setting: http and https only, a size
cap counted while reading (a Content-Length header may lie or be missing), a timeout per step and
for the whole transfer, and redirects followed by hand so that every hop is checked again. What
the bytes are is read from the bytes (``%PDF-``, an HTML tag), never from the URL's extension or
the server's Content-Type.

A URL typed into the web app is a request made by the server, so there the address is checked
(server-side request forgery): every address the host name resolves to must be public. The check
runs where the socket is opened, after resolution, so a name that resolves to a public address
when checked and to a private one when connecting (DNS rebinding) is refused too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from app.records import DossierError
from app.settings import Settings

REDIRECTS = {301, 302, 303, 307, 308}
HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<article", b"<p>", b"<div", b"<title")


class FetchError(DossierError):
    """A URL that could not be fetched; the message names the URL and the reason, in one line."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    """The bytes of one page and how they were obtained (what the sidecar records)."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str  # as the server said; recorded, not trusted
    kind: str  # what the bytes are: "html", "pdf" or "text"
    data: bytes
    fetched_at: str  # ISO 8601, UTC

    @property
    def sha256(self) -> str:
        """Hash of the bytes as received."""
        return hashlib.sha256(self.data).hexdigest()


def check_url(url: str) -> str:
    """The URL if its scheme is http or https and it names a host; raises FetchError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs can be added (not '{parts.scheme or 'no scheme'}')")
    if not parts.hostname:
        raise FetchError(url, "the URL names no host")
    if parts.username or parts.password:
        raise FetchError(url, "URLs with a user name or password are not fetched")
    return url.strip()


def address_allowed(address: str, allow_loopback: bool) -> bool:
    """Whether a server may connect to this IP address: public ones, and loopback when allowed."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not (ip.is_private or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


class _GuardedBackend(httpcore.SyncBackend):
    """Opens sockets only to addresses that ``address_allowed``, checked after resolving the name."""

    def __init__(self, allow_loopback: bool):
        self.allow_loopback = allow_loopback

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as err:
            raise httpcore.ConnectError(f"cannot resolve {host} ({err.strerror})") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        refused = [a for a in addresses if not address_allowed(a, self.allow_loopback)]
        if refused or not addresses:
            raise Refused(host, refused[0] if refused else "no address")
        # Connect to the address that was checked, not to the name (it could resolve again, elsewhere).
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class Refused(DossierError):
    """A host whose address a server must not connect to."""

    def __init__(self, host: str, address: str):
        super().__init__(f"the host {host} has a private, loopback or link-local address ({address}); "
                         "the server does not fetch from its own network")


def _client(settings: Settings, guard: bool) -> httpx.Client:
    transport = httpx.HTTPTransport(retries=0)
    if guard:
        # httpx takes no network backend of its own, so the pool it would build is replaced by one
        # with the guarded backend. No proxy from the environment: the check must see the real host.
        transport._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), retries=0,
                                                  network_backend=_GuardedBackend(settings.fetch_allow_loopback))
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=not guard,
                        timeout=httpx.Timeout(settings.fetch_timeout_seconds),
                        headers={"User-Agent": settings.fetch_user_agent,
                                 "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8"})


def sniff(data: bytes) -> str | None:
    """What the bytes are ("pdf", "html", "text"), or None for anything else (images, archives)."""
    head = data[:2048].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if b"\x00" in head:
        return None
    lowered = head.lower().lstrip(b"\xef\xbb\xbf")
    if any(mark in lowered for mark in HTML_MARKS):
        return "html"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # a character cut at the 2048th byte is fine
            return None
    return "text"


def fetch(url: str, settings: Settings, guard: bool = False) -> Fetched:
    """Fetch one URL within the limits; ``guard`` (the server's requests) refuses non-public addresses."""
    url = check_url(url)
    limit = int(settings.fetch_max_mb * 1024 * 1024)
    deadline = time.monotonic() + settings.fetch_total_seconds
    current = url
    try:
        with _client(settings, guard) as client:
            for _hop in range(settings.fetch_max_redirects + 1):
                with client.stream("GET", current) as response:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        current = check_url(urljoin(current, response.headers["location"]))
                        continue
                    if not 200 <= response.status_code < 300:
                        raise FetchError(url, f"the server answered HTTP {response.status_code}"
                                              f"{' ' + response.reason_phrase if response.reason_phrase else ''}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise FetchError(url, f"the page is {int(declared) / 1e6:.1f} MB; the limit is "
                                              f"{settings.fetch_max_mb:g} MB")
                    data = bytearray()
                    for part in response.iter_bytes():
                        data += part
                        if len(data) > limit:
                            raise FetchError(url, f"the page is larger than the limit of {settings.fetch_max_mb:g} MB")
                        if time.monotonic() > deadline:
                            raise FetchError(url, f"took longer than {settings.fetch_total_seconds:g} s to download")
                    kind = sniff(bytes(data))
                    if kind is None:
                        raise FetchError(url, "the content is not a web page, a PDF or text "
                                              f"(the server called it '{response.headers.get('content-type', '?')}')")
                    return Fetched(url=url, final_url=str(response.url), status=response.status_code,
                                   content_type=response.headers.get("content-type", ""), kind=kind,
                                   data=bytes(data), fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
            raise FetchError(url, f"more than {settings.fetch_max_redirects} redirects")
    except Refused as err:
        raise FetchError(url, str(err)) from None
    except httpx.TimeoutException:
        raise FetchError(url, f"no answer within {settings.fetch_timeout_seconds:g} s (timed out)") from None
    except httpx.HTTPError as err:
        reason = re.sub(r"\s+", " ", str(err) or err.__class__.__name__)
        if re.search(r"Name or service not known|name resolution|nodename nor servname|getaddrinfo failed", reason):
            reason = f"the host name was not found: {urlsplit(current).hostname} (no network, or a wrong address)"
        raise FetchError(url, f"could not connect ({reason})") from None
