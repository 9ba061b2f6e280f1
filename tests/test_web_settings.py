"""Login and the bounded queue, on the real app in-process (FastAPI's TestClient)."""

import threading

import pytest
from fastapi.testclient import TestClient

from app.records import DossierError
from app.web import Busy, create_app


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


def test_a_full_queue_answers_503_with_a_clear_message(real):
    settings = real.settings.model_copy(update={"concurrency": 1, "queue_size": 1})
    release = threading.Event()
    entered = threading.Semaphore(0)
    original = real.ask

    def slow_ask(*args):
        entered.release()
        release.wait(10)
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
        assert entered.acquire(timeout=10) and entered.acquire(timeout=10)
        busy = client.post("/api/ask", json={"question": "Why was SenseTime banned?"})
        release.set()
        for t in threads:
            t.join()
    finally:
        real.ask = original
    assert busy.status_code == 503 and "busy" in busy.json()["error"]
    assert results == [200, 200]
