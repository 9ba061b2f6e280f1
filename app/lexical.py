"""Lexical search: BM25 over chunk text, with the corpus vocabulary and its statistics.

An inverted index (per term: the chunks holding it and how often), scored with numpy over the
postings of the query's terms only, and updated one document at a time. It replaces rank_bm25,
whose scoring loops in Python over every chunk (35-77 ms a query at 48,649 chunks) and which is
rebuilt in full (10.6 s) after any change. bm25s was tried: it precomputes every chunk's score
with corpus-wide idf and length statistics, so one added document means re-indexing them all, and
none of its variants has rank_bm25's idf floor for common terms: on the real corpus its top 8
differed from rank_bm25's for 14 (robertson) to 90 (bm25+) of the 146 dev questions. The scores
here are rank_bm25's BM25Okapi (k1 1.5, b 0.75, epsilon 0.25), equal to it on 2,000 random queries.
Tokens come from ``app.text``; this module only indexes them.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
from array import array
from collections import Counter
from pathlib import Path

import numpy as np

from app.records import Chunk
from app.text import STOPWORDS, Speller, all_stems, normal, stem, words

K1, B, EPSILON = 1.5, 0.75, 0.25
FORMAT = 2  # of the saved index; bump when what is saved changes
# A save appends the documents changed since the last one to ``<file>.changes`` while those stay
# under this share of the saved chunks; past it the whole index is written again. Rewriting 51,000
# chunks (100 MB of JSON) took seconds of CPU beside the questions after every upload.
JOURNAL_SHARE = 0.2


def _interned(strings) -> tuple[str, ...]:
    """One string object per distinct word across all chunks (JSON and regexes make a copy each time)."""
    return tuple(map(sys.intern, strings))


class LexicalIndex:
    """BM25 over a set of chunks, with the vocabulary, stems and proper names query analysis reads.

    ``add`` and ``replace_documents`` change it in place (under a lock); the derived views
    (``chunks``, ``previous``, ``proper``, ``speller``) are rebuilt on their first read after a change.
    Per chunk it keeps tuples of interned strings, and per term two flat arrays: at 51,000 chunks,
    dicts and sets per chunk and per posting took over a gigabyte.
    """

    def __init__(self, chunks: list[Chunk] = (), dictionary: frozenset[str] = frozenset()):
        self.dictionary = dictionary
        self._lock = threading.RLock()
        self._slots: list[Chunk | None] = []  # a removed chunk leaves a hole (None); slots are never reused
        self._terms: list[tuple[str, ...] | None] = []  # each chunk's tokens, repeats included
        self._stems: list[tuple[str, ...] | None] = []
        self._cases: list[tuple[tuple[str, ...], tuple[str, ...]] | None] = []  # (lower-case, capitalised) words
        self._of_doc: dict[str, list[int]] = {}
        # term -> (slots, counts); a removed chunk's entries stay until the term is gone and are
        # masked out when scoring.
        self._postings: dict[str, tuple[array, array]] = {}
        self.doc_freq: dict[str, int] = {}
        self._stem_count: Counter = Counter()
        self._lower_count: Counter = Counter()
        self._upper_count: Counter = Counter()
        self._total_length = 0
        self._views: dict = {}
        self.generation: int | None = None  # the store generation a loaded index was saved at
        self._changes: list[set[str]] = []  # documents replaced or added to since the last save
        self._base: tuple[str, dict, int] | None = None  # (file, its stamp, chunks in it) this index was saved to or loaded from
        self._journaled = 0  # chunks appended to the base file's journal
        self._save_lock = threading.Lock()
        self._speller: Speller | None = None  # kept across changes, told which tokens came and went
        self._tokens_in: set[str] = set()
        self._tokens_out: set[str] = set()
        self.add(list(chunks))

    # --- changes -----------------------------------------------------------------------------

    def add(self, chunks: list[Chunk]) -> None:
        """Index chunks (of any documents); a chunk id already indexed is replaced."""
        with self._lock:
            self._changes.append({c.doc_id for c in chunks})
            self._add(chunks)

    def _add(self, chunks: list[Chunk]) -> None:
        with self._lock:
            known = {c.chunk_id: i for i, c in enumerate(self._slots) if c is not None} if chunks else {}
            for chunk in chunks:
                if chunk.chunk_id in known:
                    self._drop(known[chunk.chunk_id])
                self._put(chunk, *self._analyse(chunk))
            self._views = {}

    def replace_documents(self, doc_ids, chunks: list[Chunk]) -> None:
        """Forget every chunk of these documents, then index ``chunks``, as one change for readers."""
        with self._lock:
            doc_ids = set(doc_ids)
            self._changes.append(doc_ids | {c.doc_id for c in chunks})
            self._replace(doc_ids, chunks)

    def _replace(self, doc_ids, chunks: list[Chunk]) -> None:
        for doc_id in doc_ids:
            for slot in self._of_doc.pop(doc_id, []):
                self._drop(slot, keep_doc=True)
        self._add(chunks)
        self._views = {}

    def save(self, path: Path, stamp: dict) -> None:
        """Write the index, analysed, so the next process loads it instead of re-reading every chunk.

        JSON lines rather than pickle: reading them back runs no code, whoever wrote the file, and
        a line at a time keeps loading from holding the whole file in memory. When this index was
        saved to (or loaded from) ``path`` with the same stamp but for ``generation``, and little
        changed since, the changed documents are appended to the file's journal instead.
        """
        with self._save_lock:
            with self._lock:
                changes, self._changes = self._changes, []
                base = self._base
                same = base is not None and base[0] == str(path) and \
                    {k: v for k, v in base[1].items() if k != "generation"} == \
                    {k: v for k, v in stamp.items() if k != "generation"}
                replaced = sorted(set().union(*changes))
                rows = [self._row(i) for d in replaced for i in self._of_doc.get(d, [])]
                cost = len(rows) + len(replaced)  # removals cost a line each when loading too
                small = same and self._journaled + cost <= JOURNAL_SHARE * max(base[2], 1)
                if not small:
                    rows = [self._row(i) for i, c in enumerate(self._slots) if c is not None]
            try:
                journal = path.with_name(path.name + ".changes")
                if small:
                    line = {"after": base[1].get("generation"), "generation": stamp.get("generation"),
                            "replace": replaced, "rows": rows}
                    with open(journal, "a", encoding="utf-8") as f:
                        f.write(json.dumps(line) + "\n")  # a torn last line is ignored by load()
                    self._journaled += cost
                    self._base = (str(path), stamp, base[2])
                    return
                tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(json.dumps({"format": FORMAT, **stamp}) + "\n")
                    for row in rows:
                        f.write(json.dumps(row) + "\n")
                os.replace(tmp, path)  # readers see the old file or the new one, never half of one
                journal.unlink(missing_ok=True)  # its changes are in the file now (and their `after` no longer matches)
                self._base, self._journaled = (str(path), stamp, len(rows)), 0
            except BaseException:
                with self._lock:  # not saved: the next save must still write these documents
                    self._changes = changes + self._changes
                raise

    def _row(self, slot: int) -> list:
        c, (lower, upper) = self._slots[slot], self._cases[slot]
        return [c.chunk_id, c.doc_id, c.text, c.start, c.end, c.page, c.meta, self._terms[slot], self._stems[slot],
                lower, upper]

    @classmethod
    def load(cls, path: Path, stamp: dict, dictionary: frozenset[str] = frozenset()) -> LexicalIndex | None:
        """The saved index if it was saved with this ``stamp`` (store, settings), else None.

        Other keys saved in the header are not checked; ``generation`` is read back. The journal's
        changes are applied in order, each only onto the generation it was written after.
        """
        index = cls(dictionary=dictionary)
        metas: dict[str, dict] = {}

        def chunk_of(row) -> tuple[Chunk, tuple, tuple, tuple]:
            cid, doc, text, start, end, page, meta, terms, stems, lower, upper = row
            if metas.get(doc) == meta:
                meta = metas[doc]  # one dict per document, not per chunk
            metas[doc] = meta
            return (Chunk(cid, doc, text, start, end, page, meta), _interned(terms), _interned(stems),
                    (_interned(lower), _interned(upper)))
        try:
            with open(path, encoding="utf-8") as f:
                head = json.loads(f.readline())
                if not isinstance(head, dict) or any(head.get(k) != v for k, v in {"format": FORMAT, **stamp}.items()):
                    return None
                index.generation = head.get("generation") if isinstance(head.get("generation"), int) else None
                for line in f:
                    index._put(*chunk_of(json.loads(line)))
        except (OSError, ValueError, TypeError):
            return None
        saved = len(index._slots)
        try:
            with open(path.with_name(path.name + ".changes"), encoding="utf-8") as f:
                for line in f:
                    change = json.loads(line)
                    if change["after"] != index.generation:
                        continue  # written after another generation (a race between two processes): skipped
                    rows = [chunk_of(row) for row in change["rows"]]
                    index._replace(set(change["replace"]), [])
                    for row in rows:
                        index._put(*row)
                    index._journaled += len(rows) + len(change["replace"])
                    index.generation = change["generation"]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError):
            pass  # a torn last line: what was applied before it stands, and its generation says so
        index._views = {}
        index._changes = []
        index._base = (str(path), {**stamp, "generation": index.generation}, saved)
        return index

    def documents(self) -> dict[str, tuple[set[str], set[str]]]:
        """Per document: its indexed chunk ids and document hashes (to compare with the store)."""
        with self._lock:
            return {d: ({self._slots[i].chunk_id for i in slots},
                        {self._slots[i].meta.get("doc_hash", "") for i in slots})
                    for d, slots in self._of_doc.items()}

    @staticmethod
    def _analyse(chunk: Chunk) -> tuple[tuple, tuple, tuple[tuple, tuple]]:
        """Tokens, stems (title too) and word cases of a chunk: the only per-chunk text work."""
        seen = words(chunk.text)  # once: tokens(), all_stems() and the case sets all start from it
        terms = [normal(w) for w in seen if w.lower() not in STOPWORDS]  # == tokens(chunk.text)
        title = chunk.meta.get("title", "")
        stems = {stem(w) for w in seen} | (all_stems(title) if title else set())
        cases = ({w for w in seen if w.islower()}, {w.lower() for w in seen if w[0].isupper()})
        return _interned(terms), _interned(stems), (_interned(cases[0]), _interned(cases[1]))

    def _put(self, chunk: Chunk, terms: tuple, stems: tuple, cases: tuple) -> None:
        slot = len(self._slots)
        self._slots.append(chunk)
        self._terms.append(terms)
        self._stems.append(stems)
        self._cases.append(cases)
        self._of_doc.setdefault(chunk.doc_id, []).append(slot)
        self._total_length += len(terms)
        for token, n in Counter(terms).items():
            posting = self._postings.get(token)
            if posting is None:
                posting = self._postings[token] = (array("l"), array("l"))
                if self._speller is not None:
                    self._tokens_in.add(token)
            posting[0].append(slot)
            posting[1].append(n)
            self.doc_freq[token] = self.doc_freq.get(token, 0) + 1
        self._stem_count.update(stems)
        self._lower_count.update(cases[0])
        self._upper_count.update(cases[1])

    def _drop(self, slot: int, keep_doc: bool = False) -> None:
        chunk, terms = self._slots[slot], self._terms[slot]
        if not keep_doc:
            self._of_doc[chunk.doc_id].remove(slot)
            if not self._of_doc[chunk.doc_id]:
                del self._of_doc[chunk.doc_id]
        for token in set(terms):
            self.doc_freq[token] -= 1
            if not self.doc_freq[token]:
                del self.doc_freq[token], self._postings[token]
                if self._speller is not None:
                    self._tokens_out.add(token)
        self._stem_count.subtract(self._stems[slot])
        self._lower_count.subtract(self._cases[slot][0])
        self._upper_count.subtract(self._cases[slot][1])
        self._total_length -= len(terms)
        self._slots[slot] = self._terms[slot] = self._stems[slot] = self._cases[slot] = None

    # --- views --------------------------------------------------------------------------------

    def _view(self, name: str, build):
        with self._lock:
            if name not in self._views:
                self._views[name] = build()
            return self._views[name]

    @property
    def chunks(self) -> list[Chunk]:
        """Every indexed chunk, in document order."""
        return self._view("chunks", lambda: sorted((c for c in self._slots if c is not None),
                                                   key=lambda c: (c.doc_id, c.start)))

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every token of the chunks."""
        return self._view("vocabulary", lambda: frozenset(self.doc_freq))

    @property
    def all_stems(self) -> frozenset[str]:
        """Every stem of the chunks and their titles, stopwords included."""
        return self._view("stems", lambda: frozenset(s for s, n in self._stem_count.items() if n > 0))

    @property
    def proper(self) -> frozenset[str]:
        """Words the sources only ever write capitalised: names, even when a user types them in lower case.

        Function words are never names, though an FAQ may only ever write them capitalised ("Q: How ...").
        """
        return self._view("proper", lambda: frozenset(
            w for w, n in self._upper_count.items()
            if n > 0 and self._lower_count.get(w, 0) <= 0 and w not in STOPWORDS))

    @property
    def speller(self) -> Speller:
        """Typo correction into the corpus vocabulary, updated with the tokens a change brought or took
        (building it anew took 1-3 s at 51,000 chunks, paid by the first question after an upload)."""
        with self._lock:
            if self._speller is None:
                self._speller = Speller(self.vocabulary, self.dictionary)
            elif self._tokens_in or self._tokens_out:
                self._speller.discard([t for t in self._tokens_out if t not in self.doc_freq])
                self._speller.add([t for t in self._tokens_in if t in self.doc_freq])
            self._tokens_in, self._tokens_out = set(), set()
            return self._speller

    def matching(self, pattern: re.Pattern) -> list[Chunk]:
        """The chunks whose text ``pattern`` finds, in document order (kept until the next change)."""
        return self._view(("matching", pattern.pattern, pattern.flags),
                          lambda: [c for c in self.chunks if pattern.search(c.text)])

    @property
    def previous(self) -> dict[str, Chunk]:
        """The passage before each chunk: "It added that ..." names its subject one sentence earlier."""
        def build():
            ordered = self.chunks
            return {b.chunk_id: a for a, b in zip(ordered, ordered[1:]) if a.doc_id == b.doc_id}
        return self._view("previous", build)

    # --- scoring ------------------------------------------------------------------------------

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token over the chunks (0 for unknown tokens)."""
        n = self.doc_freq.get(token, 0)
        return math.log(1 + (len(self.chunks) - n + 0.5) / (n + 0.5)) if n else 0.0

    def _bm25_idf(self) -> tuple[int, float, float]:
        """Chunk count, average length and rank_bm25's floor for terms in over half the chunks."""
        def build():
            n = len(self.chunks)
            idfs = [math.log(n - f + 0.5) - math.log(f + 0.5) for f in self.doc_freq.values()]
            floor = EPSILON * (sum(idfs) / len(idfs)) if idfs else 0.0
            return n, (self._total_length / n if n else 0.0), floor
        return self._view("bm25", build)

    def _posting(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """The live chunks holding a term and its count in each."""
        def build():
            slots, counts = (np.array(a, dtype=np.int64) for a in self._postings[token])
            live = self._view("live", lambda: np.array([c is not None for c in self._slots], dtype=bool))[slots]
            return slots[live], counts[live].astype(np.float64)
        return self._view(("posting", token), build)

    def _order(self) -> np.ndarray:
        """Each slot's position in document order (ties in score go to the earlier chunk, as before)."""
        def build():
            order = np.full(len(self._slots), len(self._slots), dtype=np.int64)
            position = {c.chunk_id: i for i, c in enumerate(self.chunks)}
            for slot, chunk in enumerate(self._slots):
                if chunk is not None:
                    order[slot] = position[chunk.chunk_id]
            return order
        return self._view("order", build)

    def holding(self, token: str, k: int = 1) -> list[Chunk]:
        """Up to k chunks that hold a token, whatever its BM25 weight (a token in every chunk scores 0)."""
        with self._lock:
            if token not in self._postings:
                return []
            slots, _ = self._posting(token)
            return [self._slots[int(slot)] for slot in slots[:k]]

    def search(self, query_tokens: list[str], k: int) -> list[tuple[Chunk, float]]:
        """Top-k chunks by BM25 score, only those that share a term with the query."""
        with self._lock:
            n, avgdl, floor = self._bm25_idf()
            if not n or not query_tokens or k <= 0:
                return []
            lengths = self._view("lengths", lambda: np.array([len(t) if t is not None else 0 for t in self._terms],
                                                             dtype=np.float64))
            scores = np.zeros(len(self._slots))
            for q in query_tokens:  # in query order, a repeated term counting again: rank_bm25's sums exactly
                f = self.doc_freq.get(q, 0)
                if not f:
                    continue
                idf = math.log(n - f + 0.5) - math.log(f + 0.5)
                idf = floor if idf < 0 else idf
                slots, tf = self._posting(q)
                scores[slots] += idf * (tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[slots] / avgdl)))
            found = np.flatnonzero(scores > 0)
            if len(found) > k:  # keep every chunk tied with the k-th best, then order exactly
                kth = np.partition(scores[found], len(found) - k)[len(found) - k]
                found = found[scores[found] >= kth]
            ranked = found[np.lexsort((self._order()[found], -scores[found]))][:k]
            return [(self._slots[slot], float(scores[slot])) for slot in ranked]
