import hashlib

import pytest

from app.fetching import FetchError, address_allowed, check_url, fetch, sniff
from app.settings import Settings
from tests.web_fixture import WEB, site  # noqa: F401  (the fixture)


def settings(**over) -> Settings:
    base = dict(fetch_timeout_seconds=0.5, fetch_max_mb=0.1, fetch_max_redirects=3)
    return Settings(_env_file=None, **{**base, **over})


def test_a_page_is_fetched_with_its_status_type_and_hash(site):
    got = fetch(site.url("/statement"), settings())
    data = (WEB / "statement.html").read_bytes()
    assert (got.status, got.kind, got.final_url, got.data) == (200, "html", site.url("/statement"), data)
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.content_type.startswith("text/html") and got.fetched_at.endswith("+00:00")


def test_a_pdf_is_recognised_by_its_bytes_not_its_name_or_content_type(site):
    got = fetch(site.url("/download?id=7"), settings())
    assert got.kind == "pdf" and got.content_type == "application/octet-stream"


def test_content_that_is_neither_page_pdf_nor_text_is_refused_whatever_its_name(site):
    with pytest.raises(FetchError, match="not a web page, a PDF or text"):
        fetch(site.url("/picture.html"), settings())


def test_a_redirect_is_followed_and_the_final_address_kept(site):
    got = fetch(site.url("/old-address"), settings())
    assert got.url == site.url("/old-address") and got.final_url == site.url("/statement")
    assert site.requests == ["/old-address", "/statement"]


def test_redirects_are_limited(site):
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch(site.url("/loop"), settings())
    assert len(site.requests) == 4


def test_every_redirect_hop_is_checked_again(site):
    with pytest.raises(FetchError, match="only http and https"):
        fetch(site.url("/to-file"), settings())


def test_a_missing_page_is_a_clear_error(site):
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(site.url("/nothing-here"), settings())


@pytest.mark.parametrize("path", ["/huge", "/huge-unannounced"])
def test_a_page_over_the_size_cap_is_refused(site, path):
    with pytest.raises(FetchError, match="limit"):
        fetch(site.url(path), settings())


def test_a_slow_page_times_out(site):
    with pytest.raises(FetchError, match="timed out"):
        fetch(site.url("/slow"), settings())


def test_the_user_agent_says_what_is_fetching(site):
    fetch(site.url("/statement"), settings())
    fetch(site.url("/statement"), settings(fetch_user_agent="Dossier-test/1"))
    assert site.agents[0].startswith("Dossier/") and site.agents[1] == "Dossier-test/1"


@pytest.mark.parametrize("url", ["ftp://example.org/a", "file:///etc/passwd", "javascript:alert(1)", "https://",
                                 "http://user:pw@example.org/"])
def test_only_plain_http_and_https_urls_are_accepted(url):
    with pytest.raises(FetchError):
        check_url(url)


@pytest.mark.parametrize("address, allowed", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("::1", False), ("10.1.2.3", False), ("172.16.0.9", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("fe80::1", False), ("0.0.0.0", False), ("100.64.0.1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("fc00::1", False), ("224.0.0.1", False),
])
def test_only_public_addresses_are_allowed_for_the_server(address, allowed):
    assert address_allowed(address, allow_loopback=False) is allowed


def test_loopback_can_be_allowed_for_tests_but_private_networks_cannot():
    assert address_allowed("127.0.0.1", allow_loopback=True) and address_allowed("::1", allow_loopback=True)
    assert not address_allowed("10.0.0.1", allow_loopback=True)
    assert not address_allowed("169.254.169.254", allow_loopback=True)


def test_the_guard_refuses_loopback_before_any_request_reaches_it(site):
    with pytest.raises(FetchError, match="loopback"):
        fetch(site.url("/statement"), settings(), guard=True)
    with pytest.raises(FetchError, match="loopback"):  # a name that resolves to loopback, too
        fetch(site.url("/statement").replace("127.0.0.1", "localhost"), settings(), guard=True)
    assert site.requests == []


def test_the_guard_checks_the_address_a_redirect_leads_to(site):
    with pytest.raises(FetchError, match="169.254.169.254"):
        fetch(site.url("/to-metadata"), settings(fetch_allow_loopback=True), guard=True)
    assert site.requests == ["/to-metadata"]


def test_sniffing():
    assert sniff(b"%PDF-1.4 ...") == "pdf"
    assert sniff(b"\xef\xbb\xbf<!DOCTYPE html><html>") == "html"
    assert sniff(b"Plain words only.\n") == "text"
    assert sniff(b"\x89PNG\r\n\x1a\n\x00\x00") is None


def test_an_unreachable_host_is_one_clear_line():
    # .invalid never resolves (RFC 6761), online or off: this is what every URL gets on an offline machine.
    with pytest.raises(FetchError) as caught:
        fetch("https://records.invalid/statement", settings())
    assert "host name was not found: records.invalid" in str(caught.value) and "\n" not in str(caught.value)
