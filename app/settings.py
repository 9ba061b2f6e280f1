"""The one settings object. Nothing else in Dossier reads the environment.

Every field can be set as an environment variable with the ``DOSSIER_`` prefix
(``DOSSIER_INDEX_DIR=/tmp/idx``) or in a ``.env`` file in the working directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.chunking import CHUNKING_VERSION

# Bump when the stored chunk layout changes, so an old index is rebuilt instead of misread.
INDEX_SCHEMA = 3


def credentials(auth: str) -> tuple[str, str]:
    """Split 'user:password'; a value without both halves is an error, never "no login"."""
    user, colon, password = auth.partition(":")
    if not colon or not user.strip() or not password:
        raise ValueError("must be 'user:password' with both parts non-empty (unset it to serve without a login)")
    return user.strip(), password


class Settings(BaseSettings):
    """Configuration for every stage; built once at an entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="DOSSIER_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(Path("corpus"), description="Folder ingested when no path is given.")
    index_dir: Path = Field(Path("index"), description="Folder of the embedded Chroma index.")
    upload_dir: Path = Field(Path("uploads"), description="Where files uploaded in the UI are kept.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (http://host:8000); unset uses the embedded index."
    )
    collection: str = Field("dossier", description="Chroma collection name.")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence-transformers model: the packaged all-MiniLM-L6-v2, or a local folder.",
    )
    embedding_batch_size: int = Field(64, ge=1, description="Texts per model call (torch; ONNX takes one at a time).")
    embedding_backend: Literal["onnx", "torch"] = Field(
        "onnx", description="Runs the model: 'onnx' (ONNX Runtime, no torch at query time) or 'torch'."
    )
    embedding_precision: Literal["int8", "fp32"] = Field(
        "int8", description="Weights of the ONNX model that embeds chunks and questions for the index search: "
        "'int8' (about 2x faster ingest) or 'fp32'. Changing it re-embeds the index.",
    )
    answer_precision: Literal["fp32", "int8"] = Field(
        "fp32", description="Weights of the ONNX model that scores answer sentences against the question: 'fp32' "
        "(int8 cost about 1 point of correctness on the evals) or 'int8' (one model in memory instead of two).",
    )
    embedding_threads: int = Field(
        0, ge=0, description="CPU threads per model call (0: one per core; ONNX runs one text per thread); "
        "calls queue, one at a time."
    )
    model_cache_dir: Path = Field(
        Path("~/.cache/dossier"), description="Where the ONNX export of the model is cached."
    )
    chunk_size: int = Field(480, ge=100, description="Target chunk length in characters.")
    chunk_overlap_sentences: int = Field(
        1, ge=0, le=3, description="Sentences repeated at the start of the next chunk."
    )
    dense_k: int = Field(8, ge=1, description="Chunks taken from the vector search.")
    lexical_k: int = Field(8, ge=1, description="Chunks taken from BM25.")
    fused_k: int = Field(10, ge=1, description="Chunks kept after fusion; the answerer re-ranks them.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    max_answer_sentences: int = Field(3, ge=1, description="Sentences in a plain answer.")
    max_list_sentences: int = Field(5, ge=1, description="Sentences when a list is asked for.")
    max_answer_words: int = Field(80, ge=20, description="Word budget of a plain answer.")
    near_misses: int = Field(3, ge=0, description="Closest passages shown with an abstention.")
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    host: str = Field("127.0.0.1", description="Address the web app binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web app.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the server's log lines on stderr: each question answered or refused (its length "
                            "and outcome, not its text), each upload added or refused, each removal.")
    auth: str | None = Field(None, description="'user:password' to require a login for UI and API.")
    max_upload_mb: float = Field(20, gt=0, description="Largest file accepted by the upload box.")
    queue_size: int = Field(32, ge=1, description="Requests waiting before 'busy' is returned.")
    concurrency: int = Field(4, ge=1, description="Questions answered at the same time.")
    max_request_kb: int = Field(256, ge=1, description="Largest request body accepted (uploads excepted), in KB.")
    max_history_turns: int = Field(40, ge=0, description="Most turns a conversation history may hold.")
    max_history_chars: int = Field(
        20000, ge=0, description="Most characters a conversation history may hold (all turns together)."
    )
    max_seconds_per_question: float = Field(
        20, gt=0, description="Time budget of one question; past it the work stops and the caller is told."
    )
    login_failures: int = Field(
        5, ge=1, description="Wrong logins from one address before it must wait (doubling, up to 5 minutes)."
    )
    login_backoff_seconds: float = Field(2, gt=0, description="First wait imposed after too many wrong logins.")
    upload_cache_seconds: int = Field(
        600, ge=1, description="Files sent to the upload box but never added are deleted after this long."
    )
    sources_dir: Path = Field(
        Path("sources"), description="Where pages and PDFs added by URL are kept, each with a .source.json sidecar."
    )
    ui_add_urls: bool = Field(
        False, description="Show 'add by URL' in the Corpus tab; off by default, since the server then fetches for users."
    )
    fetch_timeout_seconds: float = Field(15, gt=0, description="Seconds to wait to connect, or for the next bytes, when fetching a URL.")
    fetch_total_seconds: float = Field(60, gt=0, description="Most seconds one URL may take to download in all.")
    fetch_max_mb: float = Field(20, gt=0, description="Largest page or PDF fetched by URL, in MB.")
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed per URL (each new address is checked again).")
    fetch_user_agent: str = Field(
        "Dossier/0.1 (fetches a document a user asked for; python-httpx)",
        description="User-Agent header sent when fetching URLs.",
    )
    fetch_allow_loopback: bool = Field(
        False, description="Let the server fetch from 127.0.0.1 and ::1 (for tests); other private addresses stay refused."
    )

    @field_validator("auth")
    @classmethod
    def _auth_is_user_and_password(cls, value: str | None) -> str | None:
        if value is not None:
            credentials(value)
        return value

    def login(self) -> tuple[str, str] | None:
        """(user, password) when a login is required, else None."""
        return credentials(self.auth) if self.auth is not None else None

    def fingerprint(self) -> str:
        """Hash of everything that shapes stored vectors; a change forces a rebuild."""
        shaping = {
            "schema": INDEX_SCHEMA,
            "chunking": CHUNKING_VERSION,
            "model": self.embedding_model,
            "backend": self.embedding_backend,
            "precision": self.embedding_precision if self.embedding_backend == "onnx" else "fp32",
            "chunk_size": self.chunk_size,
            "overlap": self.chunk_overlap_sentences,
        }
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]
