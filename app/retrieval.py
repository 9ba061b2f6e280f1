"""Retrieving: dense (Chroma) and lexical (BM25) results fused by reciprocal rank fusion into Hits.

The fusion is written here rather than taken from LangChain's EnsembleRetriever because that one
returns bare documents: the per-retriever scores and ranks, which Hits carry to the answerer and
the UI, are dropped.
"""

from __future__ import annotations

import threading

from app.embeddings import Embedder
from app.lexical import LexicalIndex
from app.query import BYLINE, Query
from app.records import Chunk, DossierError, Hit
from app.settings import Settings
from app.store import Store
from app.text import analysis_key

LEXICAL_FLOOR = 0.25  # BM25 results below this share of the best score are dropped before fusion
DENSE_MARGIN = 0.25  # vector results this far below the best similarity are dropped before fusion


def trim(results: list[tuple[Chunk, float]], floor: float | None = None, margin: float | None = None):
    """Drop the tail of a ranked list that is far from its best result.

    Rank fusion alone rewards a chunk for appearing in both lists however low, so in a small
    corpus a weak chunk found by both would outrank a chunk that one method finds far ahead.
    """
    if not results:
        return results
    best = results[0][1]
    if floor is not None:
        return [(c, s) for c, s in results if s >= floor * best]
    return [(c, s) for c, s in results if s >= best - margin]


def reciprocal_rank_fusion(dense: list[tuple[Chunk, float]], lexical: list[tuple[Chunk, float]],
                           k: int = 60) -> list[Hit]:
    """Fuse two ranked lists; a chunk found by both keeps both scores and is listed once."""
    hits: dict[str, Hit] = {}
    for rank, (chunk, score) in enumerate(dense, start=1):
        hit = hits.setdefault(chunk.chunk_id, Hit(chunk, 0.0))
        hit.score += 1.0 / (k + rank)
        hit.dense_score, hit.dense_rank = score, rank
    for rank, (chunk, score) in enumerate(lexical, start=1):
        hit = hits.setdefault(chunk.chunk_id, Hit(chunk, 0.0))
        hit.score += 1.0 / (k + rank)
        hit.lexical_score, hit.lexical_rank = score, rank
    return sorted(hits.values(), key=lambda h: (-h.score, -(h.dense_score or 0.0)))


def sync(index: LexicalIndex, store: Store, known: set[str] | None = None) -> bool:
    """Re-index only the documents whose chunks changed in the store, and forget removed ones.

    Chunk ids hash chunk text, so comparing ids per document finds each added, edited or removed
    document from the ids alone. A document whose text is unchanged but whose metadata changed
    (a new title) keeps its ids: ``known`` names such documents (the store's record of the last
    ingest); when it is None, every chunk's document hash is compared too, which reads all
    metadata. One upload into a 50,000-chunk index then costs that document, not a rebuild.
    """
    ids = store.ids_by_document()
    have = index.documents()
    changed = {d for d, chunk_ids in ids.items() if d not in have or have[d][0] != chunk_ids}
    if known is not None:
        changed |= known & set(ids)
    elif have:
        changed |= {d for d, s in store.doc_states().items() if d in have and have[d][1] != s.hashes}
    gone = set(have) - set(ids)
    if not changed and not gone:
        return False
    if len(changed) > len(ids) // 2:  # a first build: one pass over the store beats a query per document
        fresh = [c for c in store.chunks() if c.doc_id in changed]
    else:
        fresh = [c for d in sorted(changed) for c in store.chunks(d)]
    index.replace_documents(changed | gone, fresh)
    return True


class Retriever:
    """Hybrid retrieval over one store; keeps BM25 in step with the store's generation."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._lexical: LexicalIndex | None = None
        self._generation: int | None = None  # the store generation the lexical index is in step with
        self._checked = False
        self._dictionary: frozenset[str] | None = None
        self._lock = threading.Lock()

    @property
    def dictionary(self) -> frozenset[str]:
        """Whole English words the model knows: tells a misspelling from a real word the corpus lacks."""
        if self._dictionary is None:
            self._dictionary = self.embedder.dictionary()
        return self._dictionary

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, brought in line with the store when an ingest changed it."""
        with self._lock:
            generation = self.store.generation()
            if self._lexical is None:  # the index saved by an earlier process, checked by sync() below
                self._lexical = LexicalIndex.load(self._saved, self._stamp(), self.dictionary) \
                    or LexicalIndex(dictionary=self.dictionary)
                self._generation = self._lexical.generation  # what it was in step with, if saved
                self._checked = False
            if generation != self._generation or not self._checked:
                built_with = self.store.info().get("fingerprint")
                if built_with != self.settings.fingerprint():  # its vectors are not this model's
                    raise DossierError(f"the index at {self.store.location} was built with other model or chunking "
                                       "settings: run 'dossier ingest' to rebuild it")
                known = set() if generation == self._generation else \
                    self.store.changed_documents(generation) if generation == (self._generation or 0) + 1 else None
                if sync(self._lexical, self.store, known):
                    # Saved after answering matters less than answering: a thread, waited for at exit.
                    threading.Thread(target=self._save, args=(self._lexical, generation), name="save-lexical").start()
                self._generation, self._checked = generation, True
            return self._lexical

    @property
    def _saved(self):
        return self.settings.index_dir / f"lexical-{self.settings.collection}.json"

    def _stamp(self) -> dict:
        """What a saved index must have been saved with to be used: the same settings, collection and text rules."""
        return {"fingerprint": self.settings.fingerprint(), "location": self.store.location,
                "collection": self.store.collection_id(), "analysis": analysis_key()}

    def _save(self, index: LexicalIndex, generation: int) -> None:
        try:
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            index.save(self._saved, {**self._stamp(), "generation": generation})
        except OSError:
            pass  # a read-only index folder: the next process re-reads the store instead

    def retrieve(self, query: Query, k: int | None = None,
                 lexical: LexicalIndex | None = None) -> tuple[list[Hit], list[float]]:
        """Fused hits for a query, best first, and the query vector (the answerer reuses it).

        Pass the ``lexical`` index the caller already holds to skip a second staleness check.
        """
        s = self.settings
        lexical = lexical or self.lexical
        vector = self.embedder.embed_query(query.standalone)
        dense = self.store.dense(vector, max(s.dense_k, k or 0))
        sparse = lexical.search(query.search_terms, max(s.lexical_k, k or 0))
        sparse = trim(sparse, floor=LEXICAL_FLOOR)
        if query.qtype == "author" or query.intent == "author":
            # Bylines ("By Jeanne Whalen") share no words with "who wrote this?": rank them first.
            sparse = [(c, 1.0) for c in lexical.matching(BYLINE)] + sparse
        hits = reciprocal_rank_fusion(trim(dense, margin=DENSE_MARGIN), sparse, s.rrf_k)
        return hits[: max(s.fused_k, k or 0)], vector
