"""The HTTP API and the Gradio endpoints of a running `dossier serve`."""

import json

import httpx
import pytest


def test_health_reports_the_index(server):
    health = httpx.get(server["url"] + "/api/health", timeout=30).json()
    # the browser tests may have uploaded more documents to this shared server
    assert health["status"] == "ok" and health["documents"] >= 1 and health["chunks"] > 10
    assert health["model"] == "all-MiniLM-L6-v2"


def test_ask_returns_the_same_record_as_the_cli(server):
    r = httpx.post(server["url"] + "/api/ask", json={"question": "Why was SenseTime banned?"}, timeout=30)
    assert r.status_code == 200
    record = r.json()
    assert set(record) == {"question", "standalone_query", "answer", "abstained", "citations", "near_misses",
                           "latency_ms"}
    assert "facial recognition" in record["answer"] and record["citations"][0]["url"].startswith("https://")


def test_ask_with_history_resolves_the_follow_up(server):
    history = [{"role": "user", "content": "Why was SenseTime banned?"},
               {"role": "assistant", "content": "Because ... [1]"}]
    r = httpx.post(server["url"] + "/api/ask", json={"question": "What happens to its IPO?", "history": history},
                   timeout=30)
    assert r.status_code == 200 and r.json()["standalone_query"] == "What happens to SenseTime's IPO?"


@pytest.mark.parametrize("body, message", [
    ({}, "missing field 'question'"),
    ({"question": ""}, "empty"),
    ({"question": "   "}, "empty"),
    ({"question": "x" * 2001}, "limit is 2,000"),
    ({"question": 42}, "must be a string"),
    ({"question": ["a"]}, "must be a string"),
    ({"question": "why?", "history": "nope"}, "history"),
    ({"question": "why?", "history": [{"role": "bot", "content": 1}]}, "history item 0"),
    ([1, 2], "missing field"),
])
def test_bad_requests_get_a_4xx_json_error_never_a_500(server, body, message):
    r = httpx.post(server["url"] + "/api/ask", json=body, timeout=30)
    assert r.status_code == 400 and message in r.json()["error"]


def test_a_body_that_is_not_json_is_a_400(server):
    r = httpx.post(server["url"] + "/api/ask", content=b"{not json", timeout=30)
    assert r.status_code == 400 and "must be JSON" in r.json()["error"]
    # bytes that are not UTF-8 are named as such, not as a JSON syntax error
    r = httpx.post(server["url"] + "/api/ask", content='{"question": "caf\u00e9?"}'.encode("latin-1"), timeout=30)
    assert r.status_code == 400 and "not UTF-8" in r.json()["error"] and "0xe9" in r.json()["error"]


def test_a_one_megabyte_question_is_refused_quickly(server):
    r = httpx.post(server["url"] + "/api/ask", json={"question": "y" * 1_000_000}, timeout=30)
    assert r.status_code == 413 and "the limit is 262,144" in r.json()["error"]
    r = httpx.post(server["url"] + "/api/ask", json={"question": "y" * 100_000}, timeout=30)
    assert r.status_code == 400 and "100,000 characters" in r.json()["error"]


def test_the_gradio_endpoint_answers_through_the_official_client(server):
    from gradio_client import Client

    client = Client(server["url"] + "/", verbose=False)
    record = client.predict("How long do existing investors have to divest?", [], api_name="/ask")
    record = record if isinstance(record, dict) else json.loads(record)
    assert "one year" in record["answer"] and record["citations"][0]["marker"] == 1
    with pytest.raises(Exception, match="empty"):
        client.predict("", [], api_name="/ask")


def test_the_page_binds_to_loopback_only_and_has_no_share_link(server):
    page = httpx.get(server["url"] + "/", timeout=30)
    assert page.status_code == 200 and "gradio.live" not in page.text
    port = int(server["url"].rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing else


GRADIO_HISTORY = [{"role": "user", "content": [{"type": "text", "text": "Why was SenseTime banned?"}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "Because ... [1]"}]}]


def test_api_and_gradio_client_resolve_a_follow_up_with_multi_part_history(server):
    from gradio_client import Client

    r = httpx.post(server["url"] + "/api/ask", json={"question": "What about Hikvision?", "history": GRADIO_HISTORY},
                   timeout=30)
    assert r.status_code == 200 and r.json()["standalone_query"] == "Why was Hikvision banned?"
    assert "Hikvision" in r.json()["answer"]
    record = Client(server["url"] + "/", verbose=False).predict("What about Hikvision?", GRADIO_HISTORY,
                                                               api_name="/ask")
    record = record if isinstance(record, dict) else json.loads(record)
    assert record["standalone_query"] == "Why was Hikvision banned?" and record["answer"] == r.json()["answer"]


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/api/ask", "POST"), ("PUT", "/api/ask", "POST"), ("DELETE", "/api/ask", "POST"),
    ("POST", "/api/health", "GET"), ("POST", "/api/timeline", "GET"),
])
def test_a_wrong_method_is_a_405_naming_the_allowed_one(server, method, path, allowed):
    r = httpx.request(method, server["url"] + path, timeout=30)
    assert r.status_code == 405 and r.headers["allow"] == allowed and allowed in r.json()["error"]


def test_timeline_returns_the_dated_events_in_date_order(server):
    r = httpx.get(server["url"] + "/api/timeline", timeout=30)
    assert r.status_code == 200
    body = r.json()
    events = body["events"]
    assert body["count"] == len(events) and [e["date"] for e in events] == sorted(e["date"] for e in events)
    entity = next(e for e in events if "began raising alarms about the company in 2019" in e["sentence"])
    assert (entity["date"], entity["precision"], entity["inferred"], entity["label"]) == ("2019", "year", False, "2019")
    assert entity["citation"]["url"].startswith("https://www.washingtonpost.com/")


def test_user_errors_through_gradio_client_leave_no_traceback_in_the_log(server):
    from gradio_client import Client

    log = server["tmp"] / "server.log"
    seen = len(log.read_text())
    client = Client(server["url"] + "/", verbose=False)
    for question, history in (("", []), ("why?", "not a list"), ("x" * 2001, [])):
        with pytest.raises(Exception, match="empty|history|limit"):
            client.predict(question, history, api_name="/ask")
    assert "Traceback" not in log.read_text()[seen:]
