"""Shared fixtures: one real embedding model per session, real Chroma in temp folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.embeddings import Embedder
from app.pipeline import Pipeline
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    return Embedder.from_settings(Settings(_env_file=None))


def make_settings(tmp: Path, corpus: Path, **over) -> Settings:
    """Settings pointing every folder into a temp dir (never at the developer's index)."""
    return Settings(_env_file=None, index_dir=tmp / "index", corpus_dir=corpus,
                    upload_dir=tmp / "uploads", chroma_url=None, **over)


@pytest.fixture
def small(tmp_path, embedder) -> Pipeline:
    """A pipeline over a copy of the small fixture corpus (not yet ingested)."""
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    return Pipeline(make_settings(tmp_path, docs, chunk_size=120), embedder)


@pytest.fixture(scope="session")
def real(tmp_path_factory, embedder) -> Pipeline:
    """A pipeline over the real corpus, ingested once into a temp index."""
    tmp = tmp_path_factory.mktemp("real")
    pipeline = Pipeline(make_settings(tmp, CORPUS), embedder)
    pipeline.ingest()
    pipeline.warm_up()
    return pipeline


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp: Path, **env) -> tuple:
    """`dossier serve` in its own process on a free port over ``tmp``; returns (process, url) once ready.

    The corpus is ``tmp/corpus`` (a copy of the real one unless it exists); ``env`` adds DOSSIER_
    settings (``max_upload_mb="1"`` becomes DOSSIER_MAX_UPLOAD_MB=1). The log is ``tmp/server.log``.
    """
    import os
    import subprocess
    import sys
    import time

    if not (tmp / "corpus").exists():
        shutil.copytree(CORPUS, tmp / "corpus")
    port = free_port()
    full = {**os.environ, "DOSSIER_INDEX_DIR": str(tmp / "index"), "DOSSIER_CORPUS_DIR": str(tmp / "corpus"),
            "DOSSIER_UPLOAD_DIR": str(tmp / "uploads"), "DOSSIER_PORT": str(port),
            **{f"DOSSIER_{k.upper()}": str(v) for k, v in env.items()}}
    full.pop("DOSSIER_CHROMA_URL", None)
    log = tmp / "server.log"
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=full, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, cwd=str(ROOT))
    deadline = time.time() + 180
    while "ready at" not in log.read_text():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("server did not start:\n" + log.read_text())
        time.sleep(0.3)
    return proc, f"http://127.0.0.1:{port}"


def stop(proc, timeout: float = 10) -> None:
    """Stop a server started by ``launch`` (SIGTERM, then SIGKILL if it lingers)."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`dossier serve` in its own process on a free port, over a copy of the real corpus."""
    tmp = tmp_path_factory.mktemp("server")
    proc, url = launch(tmp, max_upload_mb=1)
    yield {"url": url, "tmp": tmp, "pid": proc.pid}
    stop(proc)


@pytest.fixture(scope="session")
def memos(tmp_path_factory, embedder) -> Pipeline:
    """A pipeline over the second corpus (tests/fixtures/corpus2: a memo, a policy, an FAQ, a news item)."""
    import shutil

    tmp = tmp_path_factory.mktemp("corpus2")
    shutil.copytree(FIXTURES / "corpus2", tmp / "docs")
    pipeline = Pipeline(make_settings(tmp, tmp / "docs"), embedder)
    pipeline.ingest()
    return pipeline
