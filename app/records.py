"""Typed records that the stages hand each other: Document, Chunk, Hit, Citation, Answer, Event."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


class DossierError(Exception):
    """An error whose message is meant for the user as it is (no traceback)."""


def content_hash(text: str, length: int = 16) -> str:
    """Short, stable hash of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


@dataclass(frozen=True)
class Document:
    """A source document: its full text and what is known about it."""

    doc_id: str
    text: str
    source: str  # path it was read from
    title: str = ""
    publisher: str = ""
    author: str = ""
    published: str = ""  # ISO date where known
    url: str = ""
    doc_type: str = "document"
    # (start offset, page number) for each page of a PDF; empty for other formats.
    pages: tuple[tuple[int, int], ...] = ()

    @property
    def fingerprint(self) -> str:
        """Changes whenever the text or any metadata changes."""
        meta = "|".join([self.title, self.publisher, self.author, self.published,
                         self.url, self.doc_type, self.source, repr(self.pages)])
        return content_hash(self.text + "\x00" + meta)

    def page_at(self, offset: int) -> int | None:
        """Page number holding a character offset, or None for unpaged documents."""
        page = None
        for start, number in self.pages:
            if start > offset:
                break
            page = number
        return page

    def metadata(self) -> dict:
        """Document fields copied onto each of its chunks."""
        return {
            "doc_id": self.doc_id, "title": self.title, "publisher": self.publisher,
            "author": self.author, "published": self.published, "url": self.url,
            "doc_type": self.doc_type, "source": self.source, "doc_hash": self.fingerprint,
        }


@dataclass(frozen=True)
class Chunk:
    """A verbatim slice ``text == document.text[start:end]`` of one document."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    page: int | None = None
    meta: dict = field(default_factory=dict, compare=False)  # document metadata

    @staticmethod
    def make_id(doc_id: str, text: str) -> str:
        """Stable id: the document id plus a hash of the content."""
        return f"{doc_id}:{content_hash(text)}"


@dataclass
class Hit:
    """A retrieved chunk with the scores that put it there."""

    chunk: Chunk
    score: float  # fused (reciprocal rank fusion) score
    dense_score: float | None = None  # cosine similarity, when the vector search found it
    lexical_score: float | None = None  # BM25, when the lexical search found it
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass
class Citation:
    """Where one answer sentence comes from, precise enough to highlight it."""

    marker: int
    chunk_id: str
    doc_id: str
    title: str
    publisher: str
    published: str
    url: str
    doc_type: str
    page: int | None
    text: str  # the passage (the chunk), verbatim
    start: int  # offsets of the cited sentence in the document text
    end: int
    sentence: str  # the cited sentence, verbatim

    def to_json(self) -> dict:
        """The public JSON shape used by the CLI, the API and the eval runner."""
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> Citation:
        """A citation from its JSON shape, field by field and type by type; a ValueError otherwise.

        Meant for records that come back from outside (a browser's saved conversation), so no
        field is trusted to be what it claims.
        """
        if not isinstance(data, dict):
            raise ValueError("a citation must be an object")
        values = {}
        for name, kind in CITATION_FIELDS.items():
            value = data.get(name)
            if name == "page" and value is None:
                values[name] = None
            elif type(value) is not kind:  # type(): a bool is not accepted as an int
                raise ValueError(f"citation field '{name}' must be {kind.__name__}")
            else:
                values[name] = value
        return cls(**values)


CITATION_FIELDS = {"marker": int, "chunk_id": str, "doc_id": str, "title": str, "publisher": str, "published": str,
                   "url": str, "doc_type": str, "page": int, "text": str, "start": int, "end": int, "sentence": str}


@dataclass
class Answer:
    """What ``ask`` returns to every front end."""

    question: str
    standalone_query: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    near_misses: list[Citation] = field(default_factory=list)
    latency_ms: float = 0.0
    hits: list[Hit] = field(default_factory=list, repr=False)
    diagnostics: dict = field(default_factory=dict, repr=False)  # scores behind the decision
    composed: bool = False  # text written around the citations (metadata, small talk), not just sentences

    def to_json(self) -> dict:
        """The record printed by ``dossier ask --json`` and returned by ``POST /api/ask``."""
        return {
            "question": self.question,
            "standalone_query": self.standalone_query,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "near_misses": [c.to_json() for c in self.near_misses],
            "latency_ms": round(self.latency_ms, 1),
        }

    @classmethod
    def from_json(cls, data) -> Answer:
        """An answer from ``to_json``'s shape (plus an optional ``composed`` flag); a ValueError otherwise."""
        if not isinstance(data, dict):
            raise ValueError("an answer must be an object")
        for name in ("question", "standalone_query", "answer"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"answer field '{name}' must be a string")
        for name in ("abstained", "composed"):  # only 'composed' may be left out
            if not isinstance(data.get(name, False if name == "composed" else None), bool):
                raise ValueError(f"answer field '{name}' must be true or false")
        lists = {}
        for name in ("citations", "near_misses"):
            if not isinstance(data.get(name, []), list):
                raise ValueError(f"answer field '{name}' must be a list")
            lists[name] = [Citation.from_json(c) for c in data.get(name, [])]
        return cls(data["question"], data["standalone_query"], data["answer"], data["abstained"],
                   composed=data.get("composed", False), **lists)


@dataclass
class Event:
    """One dated event of the timeline: a sentence of a document and the date it states or implies."""

    date: str  # ISO text cut to its precision: "2021-12-10", "2019-10", "2018"
    precision: str  # day, week, month, season or year
    label: str  # for display: "10 Dec 2021", "Oct 2019", "2018"
    inferred: bool  # resolved from the document's publication date, not stated in full
    how: str  # how it was inferred ("" when stated)
    phrase: str  # the words the date was read from ("on Friday", "in 2019")
    sentence: str  # the sentence, verbatim
    citation: Citation  # where it is: the passage, its document, the sentence's offsets

    def to_json(self) -> dict:
        """The record printed by ``dossier timeline --json`` and returned by ``GET /api/timeline``."""
        return asdict(self)
