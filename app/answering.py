"""Answering: pick the few source sentences that answer the question, cite each, or abstain.

Extractive and deterministic: the answer is made only of verbatim sentences from the retrieved
chunks, so every citation is correct by construction and nothing is invented. When the evidence
is too weak, or the question names something the sources never mention, it abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.chunking import split_sentences
from app.lexical import FRAMING, STOPWORDS, LexicalIndex, names, stem, tokens, words
from app.records import Answer, Citation, Hit
from app.retrieval import AUTHOR_QUESTION, BYLINE
from app.settings import Settings

# Weights and floors, tuned on evals/qa.jsonl (see evals/README.md for the figures).
W_SEMANTIC, W_DENSE, W_LEXICAL, W_CONTEXT, W_CUE = 0.40, 0.15, 0.25, 0.10, 0.10
W_SPEAKER = 0.25  # for "what did X say": X is the speaker of the sentence ("X spokeswoman ... said")
SPEECH = r"(said|says|saying|wrote|writes|told|stated|opposes|opposed|responded|added|denied)"
# "What did X say ...", "How did the company respond?": group 1 is the speaker asked about.
SAY_QUESTION = re.compile(r"^\s*(?:what|how)\s+(?:did|does|do|has|have)\s+(?:the\s+)?(.+?)\s+"
                          r"(?:say|said|respond|reply|react|write|state|comment)\b", re.I)
W_PHRASE = 0.15  # a definition's sentence holds the multi-word name asked about ("Entity List")
MIN_SEMANTIC = 0.25  # below this no retrieved sentence is about the question
MIN_EVIDENCE = 0.42  # floor of the combined score of the best sentence
MIN_COVERAGE = 0.34  # share of the question's weighted terms found near the best sentence
FOLLOW_RATIO = 0.80  # a further sentence must score this share of the best one
LIST_FOLLOW_RATIO = 0.70  # lists gather more of the nearby items
STRICT_CUES = {"when", "count", "say", "author"}  # further sentences must have the answer's form too
REPEAT_PENALTY = 0.6  # a sentence the assistant already gave in this conversation
PRONOUN_START = re.compile(r"^(It|They|He|She|This|That|These|Those|Its|Their)\b")
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|rule|prompt|guideline|previous|above|system)"
    r"|\b(you are now|pretend (to be|you)|act as|jailbreak|developer mode|system prompt)\b", re.I | re.S)
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
CUES = {
    "when": re.compile(rf"\b(({MONTHS})|(19|20)\d\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                       r"year|summer|winter|spring|autumn|week|until|since|ago|today)\b", re.I),
    "count": re.compile(r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|dozen|million|"
                        r"billion|several)\b", re.I),
    "who": re.compile(r"\b(?!The\b)[A-Z][a-z]+ [A-Z][a-z]+\b|\b(spokes\w+|secretary|chairman|official\w*|president|"
                      r"administration|department|company|companies|firm\w*)\b"),
    "why": re.compile(r"\b(because|due to|citing|said|saying|says|accus\w*|alleg\w*|for (its|their)|"
                      r"responsible for|in connection with|as part of)\b", re.I),
    "say": re.compile(r"\b(said|says|saying|wrote|statement|email)\b|[“\"]"),
    "author": BYLINE,
    "where": re.compile(r"\b(in|at|based|region|province|city|country)\b"),
    "list": re.compile(r",.*\b(and|or)\b|\b(including|include|includes)\b"),
}


@dataclass
class Candidate:
    """A sentence from a retrieved chunk and how well it answers."""

    hit: Hit
    start: int  # offsets in the document
    end: int
    text: str
    score: float = 0.0
    semantic: float = 0.0
    lexical: float = 0.0
    context: float = 0.0  # share of the question's weighted terms in the chunk and its title
    stems: frozenset = frozenset()


def question_type(question: str) -> str:
    """A coarse type that says what kind of sentence answers the question."""
    q = question.lower().strip()
    if AUTHOR_QUESTION.search(q):
        return "author"
    if SAY_QUESTION.match(q):
        return "say"
    if re.match(r"^(when|what (year|date|day|month|time))\b", q) or "how long" in q:
        return "when"
    if re.match(r"^how (many|much)\b", q) or re.search(r"\b(number of|how many|how much)\b", q):
        return "count"
    if re.match(r"^(who|whom|whose)\b", q):
        return "who"
    if re.match(r"^why\b", q) or re.search(r"\b(reason|for what|on what grounds)\b", q):
        return "why"
    if re.match(r"^where\b", q):
        return "where"
    if re.match(r"^(which|list|name|what (are|were) the)\b", q) or re.search(
            r"\b(list|(which|what) (countries|companies|firms|officials|people|nations|individuals|groups|funds))\b", q):
        return "list"
    if re.match(r"^(is|are|was|were|did|does|do|has|have|had|can|could|will|would)\b", q):
        return "yesno"
    return "what"


def entities(question: str) -> list[str]:
    """Names and numbers the question takes as given: each must occur in the sources."""
    found = []
    for i, word in enumerate(words(question)):
        if word.lower() in {"i", "u", "s"}:
            continue
        if word.lower() in STOPWORDS:
            continue
        if (i > 0 and word[0].isupper()) or any(ch.isdigit() for ch in word) or (word.isupper() and len(word) > 1):
            found.append(word)
    return found


@dataclass
class Terms:
    """The question's content terms, weighted by rarity; terms the corpus never uses weigh most."""

    weights: dict[str, float]
    missing: list[str]

    @classmethod
    def of(cls, query: str, lexical: LexicalIndex) -> "Terms":
        """Weighted terms of a query against the corpus vocabulary (typos corrected, framing dropped)."""
        q_tokens = [t for t in dict.fromkeys(lexical.terms(query)) if t not in FRAMING]
        weights = {t: lexical.idf(t) for t in q_tokens}
        missing = [t for t, w in weights.items() if w == 0.0]
        top = max([w for w in weights.values() if w] or [1.0])
        return cls({t: (top if t in missing else w) for t, w in weights.items()}, missing)

    def share(self, stems) -> float:
        """Share of the weighted terms found among these stems (0 to 1)."""
        total = sum(self.weights.values())
        return sum(w for t, w in self.weights.items() if t in stems) / total if total else 0.0


def _unit(vectors) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    return arr / np.maximum(np.linalg.norm(arr, axis=-1, keepdims=True), 1e-9)


class Answerer:
    """Composes an Answer from retrieved hits; needs the embedder for sentence similarity."""

    def __init__(self, settings: Settings, embedder):
        self.settings = settings
        self.embedder = embedder

    def candidates(self, hits: list[Hit]) -> list[Candidate]:
        """Every distinct sentence of the hits, attributed to the best-ranked chunk holding it."""
        seen: dict[tuple[str, int], Candidate] = {}
        for hit in hits:
            chunk = hit.chunk
            for s in split_sentences(chunk.text, offset=chunk.start):
                key = (chunk.doc_id, s.start)
                if key not in seen and len(words(s.text)) >= 3:
                    seen[key] = Candidate(hit, s.start, s.end, s.text, stems=frozenset(tokens(s.text)))
        return list(seen.values())

    def answer(self, question: str, query: str, hits: list[Hit], query_vector, lexical: LexicalIndex,
               said: str = "") -> Answer:
        """The extractive answer to ``query`` (the standalone form of ``question``).

        ``said`` is what the assistant already answered in this conversation: a follow-up asks for
        something new, so sentences found there rank below fresh ones.
        """
        if INJECTION.search(question):
            return self._abstain(question, query, hits, [], "I answer only from the sources and do not follow "
                                 "instructions given in a question, so I won't do that.")
        cands = self.candidates(hits)
        if not cands:
            return self._abstain(question, query, hits, cands, None)
        qtype = question_type(query)
        terms = Terms.of(query, lexical)
        speaker = self._speaker(query) if qtype == "say" else None
        self._score(cands, question, query, qtype, terms, query_vector, speaker, said)
        ranked = sorted(cands, key=lambda c: (-c.score, c.start))
        hits = self._rerank(hits, ranked)
        best = ranked[0]
        diagnostics = {"type": qtype, "semantic": round(best.semantic, 3), "score": round(best.score, 3),
                       "coverage": round(best.context, 3), "missing_terms": terms.missing}
        unknown = self._unknown_entities(question, lexical) + [
            w for w in words(question) if stem(w) in terms.missing and w.lower() not in STOPWORDS]
        if unknown:
            reason = (f"The sources don't mention {', '.join(dict.fromkeys(unknown))}, so they don't answer this. "
                      "The closest passages are listed below.")
            return self._abstain(question, query, hits, ranked, reason, diagnostics)
        weak = max(c.semantic for c in cands) < MIN_SEMANTIC and best.lexical < 0.5
        byline = qtype == "author" and CUES["author"].search(best.text)
        if not byline and (weak or best.score < MIN_EVIDENCE or best.context < MIN_COVERAGE):
            return self._abstain(question, query, hits, ranked, None, diagnostics)
        cue = CUES.get(qtype)
        chosen = self._select(ranked, qtype, speaker or (cue if qtype in STRICT_CUES else None))
        answer = self._compose(question, query, hits, chosen)
        answer.diagnostics = diagnostics
        return answer

    def _score(self, cands: list[Candidate], question: str, query: str, qtype: str, terms: "Terms",
               query_vector, speaker, said: str) -> None:
        """Set each candidate's semantic, lexical, context and combined scores."""
        sims = _unit(self.embedder.embed_cached([c.text for c in cands])) @ _unit(query_vector)
        cue = CUES.get(qtype)
        # Definitions ("What is the Entity List?") want the sentence naming the thing as written;
        # for people, later sentences use the surname alone, so no bonus there.
        definition = re.match(r"^\s*what (is|are|was|were)\b", query, re.I)
        phrases = [p.lower() for p in names(question) if " " in p] if definition else []
        contexts: dict[str, frozenset] = {}
        for cand, sim in zip(cands, sims):
            chunk = cand.hit.chunk
            if chunk.chunk_id not in contexts:
                contexts[chunk.chunk_id] = frozenset(tokens(chunk.text + " " + chunk.meta.get("title", "")))
            cand.semantic = float(sim)
            cand.lexical = terms.share(cand.stems)
            cand.context = terms.share(contexts[chunk.chunk_id])
            dense = cand.hit.dense_score if cand.hit.dense_score is not None else cand.semantic
            has_cue = 0.5 if cue is None else float(bool(cue.search(cand.text)))
            # A byline is the whole answer to "who wrote it?", whatever else scores.
            w_cue = 1.0 if qtype == "author" else W_CUE
            if speaker is not None and speaker.search(cand.text):
                has_cue, w_cue = 1.0, W_SPEAKER
            cand.score = (W_SEMANTIC * cand.semantic + W_DENSE * dense + W_LEXICAL * cand.lexical
                          + W_CONTEXT * cand.context + w_cue * has_cue)
            if phrases and any(p in cand.text.lower() for p in phrases):
                cand.score += W_PHRASE
            if said and cand.text in said:
                cand.score *= REPEAT_PENALTY

    @staticmethod
    def _speaker(query: str):
        """A pattern for sentences in which the question's subject speaks, or None."""
        subject = SAY_QUESTION.match(query)
        if not subject:
            return None
        words_ = [w for w in words(subject.group(1)) if w.lower() not in STOPWORDS]
        if not words_:
            return None
        name = r"\W+".join(re.escape(w) for w in words_)
        return re.compile(rf"\b{name}\b(?:\W+\w+){{0,6}}?\W+{SPEECH}\b", re.I)

    @staticmethod
    def _rerank(hits: list[Hit], ranked: list[Candidate]) -> list[Hit]:
        """Hits ordered by their best sentence: the answerer acts as a sentence-level re-ranker."""
        order: dict[str, int] = {}
        for i, cand in enumerate(ranked):
            order.setdefault(cand.hit.chunk.chunk_id, i)
        return sorted(hits, key=lambda h: order.get(h.chunk.chunk_id, len(ranked)))

    @staticmethod
    def _unknown_entities(question: str, lexical: LexicalIndex) -> list[str]:
        """Names or numbers in the user's question that no indexed passage contains."""
        unknown = []
        for name in entities(question):
            t = stem(name)
            if t in lexical.all_stems or set(lexical.terms(name)) <= lexical.vocabulary:
                continue
            unknown.append(name)
        return list(dict.fromkeys(unknown))

    def _select(self, ranked: list[Candidate], qtype: str, required=None) -> list[Candidate]:
        """The best sentence, then close runners-up that add something (and carry ``required``)."""
        s = self.settings
        is_list = qtype == "list"
        limit = s.max_list_sentences if is_list else s.max_answer_sentences
        budget = s.max_answer_words * (1.5 if is_list else 1.0)
        best = ranked[0]
        chosen = [best]
        used = len(best.text.split())
        covered = set(best.stems)
        for cand in ranked[1:]:
            if len(chosen) >= limit or cand.score < (LIST_FOLLOW_RATIO if is_list else FOLLOW_RATIO) * best.score:
                break
            n_words = len(cand.text.split())
            overlap = len(cand.stems & covered) / max(1, len(cand.stems))
            if used + n_words > budget or overlap > 0.6 or (required and not required.search(cand.text)):
                continue
            chosen.append(cand)
            used += n_words
            covered |= cand.stems
        return self._with_antecedents(chosen, ranked, used, budget)

    def _with_antecedents(self, chosen, ranked, used, budget):
        """Add the sentence before one that opens with a pronoun, when the budget allows."""
        by_pos = {(c.hit.chunk.doc_id, c.end): c for c in ranked}
        out = list(chosen)
        for cand in chosen:
            if not PRONOUN_START.match(cand.text):
                continue
            doc_text_gap = [c for (doc, end), c in by_pos.items()
                            if doc == cand.hit.chunk.doc_id and 0 < cand.start - end <= 3]
            prev = doc_text_gap[0] if doc_text_gap else None
            if prev and prev not in out and used + len(prev.text.split()) <= budget:
                out.append(prev)
                used += len(prev.text.split())
        return sorted(out, key=lambda c: (c.hit.chunk.doc_id, c.start))

    @staticmethod
    def _citation(marker: int, cand: Candidate) -> Citation:
        chunk, meta = cand.hit.chunk, cand.hit.chunk.meta
        return Citation(marker=marker, chunk_id=chunk.chunk_id, doc_id=chunk.doc_id,
                        title=meta.get("title", ""), publisher=meta.get("publisher", ""),
                        published=meta.get("published", ""), url=meta.get("url", ""),
                        doc_type=meta.get("doc_type", ""), page=chunk.page, text=chunk.text,
                        start=cand.start, end=cand.end, sentence=cand.text)

    def _compose(self, question: str, query: str, hits: list[Hit], chosen: list[Candidate]) -> Answer:
        citations = [self._citation(i, c) for i, c in enumerate(chosen, start=1)]
        text = " ".join(f"{c.sentence} [{c.marker}]" for c in citations)
        return Answer(question, query, text, False, citations, [], hits=hits)

    def _abstain(self, question, query, hits, ranked, reason, diagnostics=None) -> Answer:
        """A plain 'the sources don't say' with the closest passages, none shown as support."""
        text = reason or "The sources don't say. The closest passages are listed below, but none of them answers this."
        near, seen = [], set()
        for cand in ranked or []:
            if cand.hit.chunk.chunk_id in seen:
                continue
            seen.add(cand.hit.chunk.chunk_id)
            near.append(self._citation(len(near) + 1, cand))
            if len(near) >= self.settings.near_misses:
                break
        if not ranked:
            for hit in hits[: self.settings.near_misses]:
                first = split_sentences(hit.chunk.text, offset=hit.chunk.start)[:1]
                if first:
                    cand = Candidate(hit, first[0].start, first[0].end, first[0].text)
                    near.append(self._citation(len(near) + 1, cand))
        return Answer(question, query, text, True, [], near, hits=hits, diagnostics=diagnostics or {})
