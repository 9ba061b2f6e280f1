"""The embedding backends: the ONNX export against torch, its cache, and a query path without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from app.embeddings import DEFAULT_CACHE, Embedder, model_path, onnx_file, source_key
from app.pipeline import Pipeline
from tests.conftest import FIXTURES, ROOT, make_settings

SENTENCES = [
    "Why was SenseTime banned?",
    "The Treasury Department said SenseTime developed facial recognition programs that identify Uyghurs.",
    "SenseTime postponed its initial public offering in Hong Kong.",
    "What positions do they hold?",
    "The weather in Lisbon was mild all week.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder("all-MiniLM-L6-v2", backend="torch")


@pytest.fixture(scope="module")
def int8_embedder() -> Embedder:
    return Embedder("all-MiniLM-L6-v2", precision="int8")


def cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_onnx_vectors_agree_with_torch(embedder, int8_embedder, torch_embedder):
    torch = torch_embedder.embed_documents(SENTENCES)
    fp32 = embedder.at_precision("fp32").embed_documents(SENTENCES)
    assert cosines(fp32, torch).min() > 0.9999  # fp32: the same model
    int8 = int8_embedder.embed_documents(SENTENCES)
    assert cosines(int8, torch).min() > 0.9
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-3)


def test_onnx_ranks_passages_like_torch(int8_embedder, torch_embedder):
    queries, passages = SENTENCES[::3], SENTENCES[1:3] + SENTENCES[4:]
    best = [np.argmax(np.asarray(backend.embed_documents(passages)) @ np.asarray(backend.embed_documents(queries)).T,
                      axis=0).tolist() for backend in (int8_embedder, torch_embedder)]
    assert best[0] == best[1]


def test_a_vector_does_not_depend_on_the_other_texts_of_a_call(int8_embedder):
    alone = [int8_embedder.embed_documents([s])[0] for s in SENTENCES]  # int8 scales a whole call together
    assert cosines(alone, int8_embedder.embed_documents(SENTENCES)).min() > 0.99999


def test_langchain_adapter_gives_the_embedder_s_own_vectors(embedder):
    assert embedder.lc.embed_documents(SENTENCES[:2]) == embedder.embed_documents(SENTENCES[:2])
    assert embedder.lc.embed_query(SENTENCES[0]) == embedder.embed_query(SENTENCES[0])


def test_concurrent_callers_get_the_same_vectors_as_one_caller():
    single = Embedder("all-MiniLM-L6-v2", threads=1)
    expected = single.embed_documents(SENTENCES)
    got: dict[int, list] = {}
    workers = [threading.Thread(target=lambda i=i: got.__setitem__(i, single.embed_query(SENTENCES[i])))
               for i in range(len(SENTENCES))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert cosines([got[i] for i in range(len(SENTENCES))], expected).min() > 0.9999


def test_token_count_needs_no_model():
    fresh = Embedder("all-MiniLM-L6-v2")
    assert fresh.count_tokens(["Why was SenseTime banned?", "word " * 1000]) == 8 + 256
    assert fresh._model is None


def test_the_export_is_cached_and_redone_when_the_weights_change(tmp_path):
    source = tmp_path / "model"
    source.mkdir()
    for f in model_path("all-MiniLM-L6-v2").iterdir():
        (source / f.name).symlink_to(f)  # the packaged files, without copying 90 MB
    (source / "config.json").unlink()
    (source / "config.json").write_text((model_path("all-MiniLM-L6-v2") / "config.json").read_text())
    cache = tmp_path / "cache"
    first = onnx_file(str(source), "fp32", cache)
    assert onnx_file(str(source), "fp32", cache) == first  # reused, not exported again
    stat = first.stat()
    os.utime(source / "config.json", ns=(stat.st_mtime_ns + 10**9, stat.st_mtime_ns + 10**9))
    second = onnx_file(str(source), "fp32", cache)
    assert second != first and second.exists() and not first.parent.exists()  # the stale export is gone
    assert json.loads((second.parent / "source.json").read_text())["precision"] == "fp32"


def test_source_key_depends_on_precision_and_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    key = source_key(tmp_path, "int8")
    assert source_key(tmp_path, "fp32") != key
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    assert source_key(tmp_path, "int8") != key


def test_switching_backend_re_embeds_instead_of_mixing_vectors(tmp_path, embedder, torch_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("---\ntitle: Note\n---\nSenseTime was added to the investment ban list.\n")
    onnx = Pipeline(make_settings(tmp_path, docs), embedder)
    assert onnx.ingest().chunks_embedded == 1
    torch_settings = make_settings(tmp_path, docs, embedding_backend="torch")
    assert torch_settings.fingerprint() != onnx.settings.fingerprint()
    assert make_settings(tmp_path, docs, embedding_precision="fp32").fingerprint() != onnx.settings.fingerprint()
    report = Pipeline(torch_settings, torch_embedder).ingest()
    assert report.rebuilt and report.chunks_embedded == 1


ASK_WITHOUT_TORCH = """
import json, sys
from pathlib import Path
from app.pipeline import Pipeline
from app.settings import Settings
tmp = Path(sys.argv[1])
pipeline = Pipeline(Settings(_env_file=None, index_dir=tmp / "index", corpus_dir=sys.argv[2],
                             upload_dir=tmp / "uploads", chroma_url=None))
pipeline.ingest()
answer = pipeline.ask("When was the lighthouse lamp converted to electricity?")
heavy = [m for m in ("torch", "transformers", "sentence_transformers", "langchain_huggingface") if m in sys.modules]
print(json.dumps({"heavy": heavy, "answered": "1932" in answer.answer}))
"""


def test_ingest_and_ask_on_onnx_never_import_torch(tmp_path):
    onnx_file("all-MiniLM-L6-v2", "fp32", DEFAULT_CACHE)  # exported beforehand, as `make install` does
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    out = subprocess.run([sys.executable, "-c", ASK_WITHOUT_TORCH, str(tmp_path), str(FIXTURES / "docs")],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"heavy": [], "answered": True}


def test_the_index_is_embedded_at_int8_and_answers_scored_at_fp32(tmp_path, embedder):
    """Defaults: a fast model for chunks and the index search, the precise one for answer sentences,
    sharing one queue for the cores; asking for one precision keeps a single model."""
    from app.pipeline import Pipeline
    from tests.conftest import CORPUS, make_settings

    pipeline = Pipeline(make_settings(tmp_path, CORPUS), embedder)
    assert (pipeline.embedder.precision, pipeline.scorer.precision) == ("int8", "fp32")
    assert pipeline.answerer.embedder is pipeline.scorer and pipeline.retriever.embedder is pipeline.embedder
    assert pipeline.scorer._lock is pipeline.embedder._lock  # calls of the two models still run one at a time
    assert Pipeline(make_settings(tmp_path, CORPUS), embedder).scorer is pipeline.scorer  # loaded once
    single = Pipeline(make_settings(tmp_path, CORPUS, answer_precision="int8"), embedder)
    assert single.scorer is single.embedder
    question = "Why was the company banned?"
    assert cosines([pipeline.scorer.embed_query(question)], [pipeline.embedder.embed_query(question)])[0] > 0.95


def test_texts_spread_over_threads_come_back_in_order_with_the_same_vectors(int8_embedder):
    one_thread = Embedder("all-MiniLM-L6-v2", precision="int8", threads=1)
    two_threads = Embedder("all-MiniLM-L6-v2", precision="int8", threads=2)
    texts = SENTENCES * 3
    expected = one_thread.embed_documents(texts)
    assert cosines(two_threads.embed_documents(texts), expected).min() > 0.99999
    assert two_threads._model._pool is not None and one_thread._model._pool is None
