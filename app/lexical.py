"""Lexical search: BM25 over chunk text, plus the tokenizer and typo correction the answerer shares.

rank_bm25 is used directly rather than LangChain's BM25Retriever because that retriever returns
documents without their scores (we show and fuse the scores) and lives in langchain-community,
a large dependency for one class.
"""

from __future__ import annotations

import difflib
import math
import re
from functools import lru_cache

from rank_bm25 import BM25Okapi

from app.records import Chunk

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves also did does tell say says said
many much whose within upon yes there's what's who's it's anything something thing things
article according besides except apart among across along around behind beyond despite toward
towards via per whether either neither another every else ever still yet onto whereas though although
""".split())
# Words that frame a question rather than name its subject ("what happened to", "how long",
# "what position does X hold"): they are not expected to occur in the answer.
_FRAMING_WORDS = ("""
happen give affect effect impact reason hold mean describe explain know kind type make get take
long result purpose cause consequence detail information position job role way go come
respond reply react comment response
""".split())
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# Spellings folded to one token before matching, so "US", "U.S." and "United States" meet.
ALIASES = [
    (re.compile(r"\bU\.S\.(?:A\.)?|\bUSA\b|\bUnited States\b"), " US "),
    (re.compile(r"\bU\.K\.|\bUnited Kingdom\b|\bBritain\b"), " UK "),
    (re.compile(r"\bE\.U\.|\bEuropean Union\b"), " EU "),
    (re.compile(r"\binitial public offering\b", re.I), " IPO "),
]
# General-English synonyms a question may use for a word the sources use (one canonical stem each).
SYNONYMS = {"prohibit": "ban", "bar": "ban", "barr": "ban", "forbid": "ban", "blacklist": "ban",
            "firm": "company", "business": "company", "nation": "country", "individual": "people",
            "person": "people", "reply": "respond", "react": "respond", "response": "respond", "statement": "say"}


@lru_cache(maxsize=50000)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match bans/banned/banning and company/companies."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or w.isdigit():
        return w
    if w.endswith("es") and not w.endswith(("ses", "xes", "zes", "ches", "shes", "ies")):
        w = w[:-1]  # apples -> apple (then handled as any word ending in e)
    for suffix, repl in (("ations", ""), ("ation", ""), ("ments", ""), ("ment", ""), ("ical", "ic"),
                         ("itions", "it"), ("ition", "it"),
                         ("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            w = w[: len(w) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # banned -> bann -> ban
            break
    return w


def fold(text: str) -> str:
    """The text with aliased spellings folded (U.S. -> US)."""
    for pattern, repl in ALIASES:
        text = pattern.sub(repl, text)
    return text


FRAMING = frozenset(stem(w) for w in _FRAMING_WORDS)


def words(text: str) -> list[str]:
    """The words of a text, aliases folded."""
    return WORD.findall(fold(text))


def tokens(text: str) -> list[str]:
    """Stemmed content tokens of a text (stopwords dropped, synonyms mapped)."""
    out = []
    for w in words(text):
        if w.lower() not in STOPWORDS:
            t = stem(w)
            out.append(SYNONYMS.get(t, t))
    return out


NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")


def names(text: str) -> list[str]:
    """Capitalised phrases of a text ("Shohrat Zakir", "Entity List").

    The word that opens a sentence is left out (it is capitalised anyway), and so is a phrase
    led by a function word ("Who", "The").
    """
    found = []
    for match in NAME.finditer(text):
        phrase = match.group(0)
        before = text[:match.start()].rstrip()
        if not before or before[-1] in ".?!\"“":
            phrase = phrase.split(None, 1)[1] if len(phrase.split()) > 1 else ""
        if phrase and phrase.split()[0].lower() not in STOPWORDS:
            found.append(phrase)
    return found


def all_stems(text: str) -> set[str]:
    """Every stem of a text, stopwords included (for checking that a name occurs at all)."""
    return {stem(w) for w in words(text)}


class LexicalIndex:
    """BM25 over a fixed set of chunks; rebuilt when the store's generation changes."""

    def __init__(self, chunks: list[Chunk], dictionary: frozenset[str] = frozenset()):
        self.chunks = chunks
        self.dictionary = dictionary  # real words: never "corrected" into corpus words
        docs = [tokens(c.text) for c in chunks]
        self.vocabulary = {t for doc in docs for t in doc}
        self.all_stems = set().union(*(all_stems(c.text + " " + c.meta.get("title", "")) for c in chunks))
        self.doc_freq: dict[str, int] = {}
        for doc in docs:
            for t in set(doc):
                self.doc_freq[t] = self.doc_freq.get(t, 0) + 1
        self._bm25 = BM25Okapi(docs) if chunks else None

    def terms(self, text: str) -> list[str]:
        """Content tokens of a query, misspellings corrected to the corpus vocabulary ('SenseTme', 'labled').

        A word is corrected only when the corpus lacks it and it is not a real English word: "founded"
        stays "founded" (and so counts as missing), it does not become "fund".
        """
        out = []
        for word in words(text):
            if word.lower() in STOPWORDS:
                continue
            t = stem(word)
            t = SYNONYMS.get(t, t)
            if t not in self.vocabulary and not t.isdigit() and len(t) >= 4:
                close = difflib.get_close_matches(t, self.vocabulary, n=3, cutoff=0.8)
                if word.lower() in self.dictionary:  # a real word: only another form of it ("announce")
                    close = [c for c in close if min(len(c), len(t)) >= 5 and (c.startswith(t) or t.startswith(c))]
                t = close[0] if close else t
            out.append(t)
        return out

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
