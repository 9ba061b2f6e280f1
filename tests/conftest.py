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
    return Embedder("all-MiniLM-L6-v2")


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
