"""The composition root: ``ask(question, history)`` and ``ingest(paths)`` for every front end.

The CLI, the web app, the HTTP API and the eval runner all call this and render the same Answer.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from app import ingest as ingesting
from app.answering import Answerer
from app.chunking import sentences_in_context
from app.conversation import names_own_subject, says_enough
from app.embeddings import Embedder
from app.limits import Budget, check_history, check_question
from app.query import analyze, compound_parts
from app.records import Answer, DossierError, Event
from app.retrieval import Retriever
from app.settings import Settings
from app.store import Store
from app.timeline import timeline

# Corpora up to this many chunks get every sentence vector cached at start (about 2,000 sentences,
# a few seconds); larger ones warm up as questions come, so a 50,000-chunk server is not kept from answering.
WARM_CHUNKS = 500

log = logging.getLogger("dossier")


# A follow-up that says enough on its own is answered on its own instead when the sentence found that way
# covers the question's words at least as well and scores at least ALONE_SCORE of the other: the words
# the conversation added ("... stock") can pull an answer off the question's own subject ("that export
# thing"). Chosen on the read splits: a margin of 0.05 or 0.10 fixed fewer, 0.9 of the score fewer still.
ALONE_MARGIN = 0.0
ALONE_SCORE = 0.8


class Pipeline:
    """One index, one model, one answerer; safe to share between threads for asking."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or Settings()
        self.store = Store(self.settings)
        self.embedder = embedder or Embedder.from_settings(self.settings)  # chunks, and questions for the search
        self.scorer = self.embedder.at_precision(self.settings.answer_precision)  # answer sentences
        self.retriever = Retriever(self.settings, self.store, self.embedder)
        self.answerer = Answerer(self.settings, self.scorer)

    def ask(self, question, history: list | None = None, budget: Budget | None = None) -> Answer:
        """Answer a question (with the conversation so far) from the index.

        Inputs over the limits are refused; ``budget`` (default: the time limit) is checked
        between stages, so a stopped or overdue question stops working there.
        """
        t0 = time.perf_counter()
        budget = budget or Budget(self.settings.max_seconds_per_question)
        try:
            question = check_question(question, self.settings)
            history = check_history(history, self.settings)
        except DossierError as err:
            log.info("question not taken: %s", err)
            raise
        parts = compound_parts(question)
        answer = self._compound(question, parts, history, budget) if parts else None
        if answer is None:
            answer = self._answer(question, history, budget)
            if not answer.abstained and answer.standalone_query.startswith(question + " (") and says_enough(question):
                # (asked twice: a follow-up costs one more answer, a few ms on a warm index)
                alone = self._answer(question, [], budget)
                if _stronger(alone, answer):
                    answer = alone
            elif answer.abstained and answer.standalone_query != question and says_enough(question):
                # A follow-up that changes subject ("will this hurt their IPO?" after a question on the
                # camps) may be pulled off course by the words the conversation added: asked on its
                # own, its own words may find the answer.
                alone = self._answer(question, [], budget)
                if not alone.abstained:
                    answer = alone
        answer.latency_ms = (time.perf_counter() - t0) * 1000
        # The question's length, not its text: what people ask may be private, and the log is the operator's.
        log.info("question (%d characters, %d earlier turns) %s in %.0f ms, %d sentences cited", len(question),
                 len(history), "refused" if answer.abstained else "answered", answer.latency_ms, len(answer.citations))
        return answer

    def _compound(self, question: str, parts: list[str], history: list, budget: Budget) -> Answer | None:
        """Each part of a two-part question answered in turn, the second as a follow-up to the first
        (its "it" is the first's subject); None when neither part is answered."""
        # "who is X and why was it banned?" says what it is about: its first part, naming X and no
        # "it" or "they", is not a follow-up of the conversation even when, cut off, it is short
        alone = names_own_subject(parts[0], self.retriever.lexical.proper)
        first = self._answer(parts[0], [] if alone else history, budget)
        turns = list(history) + [{"role": "user", "content": parts[0]}, {"role": "assistant", "content": first.answer}]
        # "and ..." makes the second part a continuation, so it carries the first's topic
        second = self._answer("and " + parts[1], turns, budget)
        second.question = parts[1]
        if first.abstained and (second.abstained or second.standalone_query != "and " + parts[1]):
            return None  # "who is the CEO and what did he say?": no CEO, so nothing he said either
        answers = [first, second]
        return self.answerer.merge(question, parts, answers)

    def _answer(self, question: str, history: list, budget: Budget) -> Answer:
        budget.check()
        lexical = self.retriever.lexical  # one staleness check per question, shared by every stage
        query = analyze(question, history, lexical, self.retriever.dictionary)
        budget.check()
        hits, vector = [], None
        if query.intent not in ("smalltalk", "help"):
            hits, vector = self.retriever.retrieve(query, lexical=lexical)
            if self.scorer is not self.embedder:  # sentences are compared with the question in the scorer's space
                vector = self.scorer.embed_query(query.standalone)
        budget.check()
        return self.answerer.answer(query, hits, vector, lexical)

    def ingest(self, paths: list[Path] | None = None, progress=None, prune: bool = True,
               locked: bool = False) -> ingesting.IngestReport:
        """Bring the index in line with files or folders (default: the corpus, upload and sources folders).

        The upload and sources folders are part of the default so that a rebuild, a restart or a repair after a
        killed upload keeps every uploaded or fetched document; the corpus goes first, so its ids win.
        """
        if not paths:
            paths = [self.settings.corpus_dir]
            if self.settings.upload_dir.is_dir():
                paths.append(self.settings.upload_dir)
            if self.settings.sources_dir.is_dir():  # pages added by URL, every version kept
                paths.append(self.settings.sources_dir)
        paths = [Path(p) for p in paths]
        return ingesting.run(paths, self.settings, self.store, self.embedder, progress, prune, locked)

    def timeline(self) -> list[Event]:
        """The dated events the indexed documents state, in date order (worked out once per index version)."""
        return timeline(self.retriever.lexical.chunks)

    def stats(self) -> dict:
        """Documents, chunks, model and location of the index."""
        states = self.store.doc_states()
        info = self.store.info()
        return {
            "documents": [{"doc_id": s.doc_id, "title": s.title, "publisher": s.publisher,
                           "published": s.published, "type": s.doc_type, "chunks": len(s.chunk_ids)}
                          for s in sorted(states.values(), key=lambda s: s.doc_id)],
            "document_count": len(states),
            "chunk_count": sum(len(s.chunk_ids) for s in states.values()),
            "model": info.get("model", self.settings.embedding_model),
            "fingerprint": info.get("fingerprint"),
            "index": self.store.location,
        }

    def warm_up(self) -> None:
        """Load the model and the lexical index and cache sentence vectors, so first answers are fast."""
        chunks = self.retriever.lexical.chunks
        self.embedder.embed_query("warm up")
        self.scorer.embed_query("warm up")
        if len(chunks) <= WARM_CHUNKS:
            # as the answerer and the summary compare them: each sentence (FAQ labels dropped), and as it
            # reads on its own where that differs
            sentences = (t for c in chunks for s, alone in sentences_in_context(c.text) for t in (s.text, alone))
            self.scorer.embed_cached(list(dict.fromkeys(sentences)))


def _stronger(alone: Answer, answer: Answer) -> bool:
    """Whether a follow-up asked on its own is answered better than with the conversation's words."""
    a, b = alone.diagnostics, answer.diagnostics
    if alone.abstained or "coverage" not in a or "coverage" not in b:
        return False
    return a["coverage"] >= b["coverage"] + ALONE_MARGIN and a["score"] >= ALONE_SCORE * b["score"]
