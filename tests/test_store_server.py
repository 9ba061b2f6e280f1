"""The same pipeline against a real Chroma server (`chroma run`, loopback only) through HttpClient."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.pipeline import Pipeline
from tests.conftest import FIXTURES, free_port, make_settings


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("chroma server did not start")
        time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_ask_through_a_chroma_server(chroma_url, tmp_path, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    settings = make_settings(tmp_path, docs, chunk_size=120).model_copy(update={"chroma_url": chroma_url})
    pipeline = Pipeline(settings, embedder)
    first = pipeline.ingest()
    assert len(first.added) == 4 and pipeline.store.location == chroma_url
    assert not pipeline.ingest().changed
    answer = pipeline.ask("How many steps can visitors climb at the lighthouse?")
    assert not answer.abstained and "96 steps" in answer.answer
    assert answer.citations[0].doc_id == "lighthouse"
    assert not (tmp_path / "index" / "chroma.sqlite3").exists()  # nothing went to the embedded index
