"""Lexical search: BM25 over chunk text, with the corpus vocabulary and its statistics.

rank_bm25 is used directly rather than LangChain's BM25Retriever because that retriever returns
documents without their scores (we show and fuse the scores) and lives in langchain-community,
a large dependency for one class. Tokens come from ``app.text``; this module only indexes them.
"""

from __future__ import annotations

import math

from rank_bm25 import BM25Okapi

from app.records import Chunk
from app.text import Speller, all_stems, tokens, words


class LexicalIndex:
    """BM25 over a fixed set of chunks; rebuilt when the store's generation changes."""

    def __init__(self, chunks: list[Chunk], dictionary: frozenset[str] = frozenset()):
        self.chunks = chunks
        docs = [tokens(c.text) for c in chunks]
        self.vocabulary = {t for doc in docs for t in doc}
        self.all_stems = set().union(*(all_stems(c.text + " " + c.meta.get("title", "")) for c in chunks))
        self.doc_freq: dict[str, int] = {}
        for doc in docs:
            for t in set(doc):
                self.doc_freq[t] = self.doc_freq.get(t, 0) + 1
        self.speller = Speller(self.vocabulary, dictionary)
        seen = [w for c in chunks for w in words(c.text)]
        lower = {w for w in seen if w.islower()}
        # Words the sources only ever write capitalised: names, even when a user types them in lower case.
        self.proper = frozenset(w.lower() for w in seen if w[0].isupper() and w.lower() not in lower)
        self._bm25 = BM25Okapi(docs) if chunks else None
        ordered = sorted(chunks, key=lambda c: (c.doc_id, c.start))
        # The passage before each chunk: "It added that ..." names its subject one sentence earlier.
        self.previous = {b.chunk_id: a for a, b in zip(ordered, ordered[1:]) if a.doc_id == b.doc_id}

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token over the chunks (0 for unknown tokens)."""
        n = self.doc_freq.get(token, 0)
        return math.log(1 + (len(self.chunks) - n + 0.5) / (n + 0.5)) if n else 0.0

    def search(self, query_tokens: list[str], k: int) -> list[tuple[Chunk, float]]:
        """Top-k chunks by BM25 score, only those that share a term with the query."""
        if not self._bm25 or not query_tokens:
            return []
        scores = self._bm25.get_scores(query_tokens)
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
        return [(self.chunks[i], float(scores[i])) for i in ranked if scores[i] > 0]
