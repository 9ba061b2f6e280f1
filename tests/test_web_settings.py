"""Login and the bounded queue, on the real app in-process (FastAPI's TestClient)."""

import threading
import time

import pytest
from fastapi.testclient import TestClient

from app.records import DossierError
from app.api import Busy
from app.pipeline import Pipeline
from app.web import create_app


@pytest.fixture
def client_with_login(real):
    settings = real.settings.model_copy(update={"auth": "analyst:s3cret"})
    app, _ = create_app(settings, real)
    return TestClient(app)


def test_api_requires_the_login_when_one_is_set(client_with_login):
    question = {"question": "How long do existing investors have to divest?"}
    assert client_with_login.post("/api/ask", json=question).status_code == 401
    assert client_with_login.post("/api/ask", json=question, auth=("analyst", "wrong")).status_code == 401
    ok = client_with_login.post("/api/ask", json=question, auth=("analyst", "s3cret"))
    assert ok.status_code == 200 and "one year" in ok.json()["answer"]
    assert client_with_login.get("/api/health").status_code == 401


def test_the_page_asks_for_the_login_when_one_is_set(client_with_login):
    assert client_with_login.get("/config").status_code == 401
    assert client_with_login.post("/login", data={"username": "analyst", "password": "nope"}).status_code == 400
    assert client_with_login.post("/login", data={"username": "analyst", "password": "s3cret"}).status_code == 200
    assert client_with_login.get("/config").status_code == 200


def test_busy_bounds_running_and_waiting_requests():
    busy = Busy(running=1, waiting=1)
    with busy, busy:
        with pytest.raises(DossierError, match="busy"):
            with busy:
                pass
    with busy:  # released again
        pass


def test_busy_runs_one_at_a_time_when_one_running_slot_is_set():
    busy = Busy(running=1, waiting=3)
    inside, most = [0], [0]
    lock = threading.Lock()

    def work():
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        threading.Event().wait(0.05)
        with lock:
            inside[0] -= 1
        return "done"

    results = []
    threads = [threading.Thread(target=lambda: results.append(busy.run(work))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 4 and most[0] == 1


def test_a_full_queue_answers_503_with_a_clear_message(real):
    settings = real.settings.model_copy(update={"concurrency": 1, "queue_size": 1})
    release = threading.Event()
    original = real.ask

    def slow_ask(*args):
        release.wait(10)  # the first request holds the one running slot; the second waits for it
        return original(*args)

    real.ask = slow_ask
    try:
        app, _ = create_app(settings, real)
        client = TestClient(app)
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            client.post("/api/ask", json={"question": "Why was SenseTime banned?"}).status_code)) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.time() + 10
        while app.state.busy.in_flight < 2 and time.time() < deadline:
            time.sleep(0.01)
        assert app.state.busy.in_flight == 2
        busy = client.post("/api/ask", json={"question": "Why was SenseTime banned?"})
        release.set()
        for t in threads:
            t.join()
    finally:
        real.ask = original
    assert busy.status_code == 503 and "busy" in busy.json()["error"]
    assert results == [200, 200]


def test_upload_checks_size_before_touching_the_index_and_keeps_a_same_named_file_beside_the_first(small, tmp_path):
    from app import uploads

    small.ingest()
    before = small.stats()["chunk_count"]
    big = tmp_path / "big.md"
    big.write_text("word " * 300_000)
    tiny_limit = Pipeline(small.settings.model_copy(update={"max_upload_mb": 1}), small.embedder)
    with pytest.raises(DossierError, match="limit is 1 MB"):
        uploads.add(tiny_limit, big)
    assert not small.settings.upload_dir.exists()
    note = tmp_path / "note.md"
    note.write_text("The ferry leaves at noon.\n")
    assert "Added" in uploads.add(small, note)
    assert "already in the index" in uploads.add(small, note)
    note.write_text("The ferry leaves at dawn.\n")
    assert "kept as note-" in uploads.add(small, note)
    assert small.stats()["chunk_count"] == before + 2


def test_the_server_logs_its_own_lines_at_the_configured_level(real, capsys):
    import logging

    from app.web import _log_to_stderr, log
    before = (list(log.handlers), log.propagate, log.level)
    try:
        _log_to_stderr(real.settings.model_copy(update={"log_level": "WARNING"}))
        _log_to_stderr(real.settings)  # again: one handler, the level of the last call
        assert sum(getattr(h, "dossier", False) for h in log.handlers) == 1 and log.level == logging.INFO
        question = "How long do existing investors have to divest?"
        real.ask(question)
        assert f"dossier INFO question ({len(question)} characters, 0 earlier turns) answered" in capsys.readouterr().err
    finally:
        log.handlers[:], log.propagate = before[0], before[1]
        log.setLevel(before[2])

