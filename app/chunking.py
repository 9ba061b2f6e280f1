"""Chunking: a Document becomes sentence-aligned, overlapping Chunks with offsets, pages and stable ids.

Written by hand rather than with LangChain's text splitters because those rejoin the pieces they
split with a separator, so a chunk is not always a verbatim slice of the document and its
offsets drift; citations here must point at exact character ranges of the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.records import Chunk, Document
from app.text import MONTHS, NAME, STOPWORDS, WEEKDAYS

# Bump when the rules that cut sentences or group them into chunks change. An unchanged document is not
# chunked again on ingest, so without this an index built under the old rules keeps the old chunk
# boundaries, and the same corpus answers differently by when its index was built (seen after "a.m."
# before a quote came to end a sentence). It is part of the index fingerprint: a change rebuilds.
CHUNKING_VERSION = 2

# Words whose trailing period does not end a sentence.
ABBREVIATIONS = {
    "u.s", "u.k", "u.n", "e.u", "e.o", "mr", "mrs", "ms", "dr", "st", "jr", "sr", "inc", "co", "corp",
    "ltd", "no", "vs", "e.g", "i.e", "etc", "a.m", "p.m", "gov", "sen", "rep", "gen", "lt", "col",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig",
    "pp", "vol", "art", "sec", "dept", "est", "approx", "d.c",
}
# A candidate sentence end: terminal punctuation, optional closing quotes/brackets, then space.
END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Sentence:
    """A sentence as a character range of its document."""

    start: int
    end: int
    text: str


def _word_before(text: str, dot: int) -> str:
    """The word (dots included, lower case) whose period is at ``dot``: "a.m" for "... 8 a.m."."""
    word = re.search(r"([A-Za-z.]+)$", text[:dot])
    return word.group(1).lower().strip(".") if word else ""


def _is_abbreviation(text: str, dot: int) -> bool:
    token = _word_before(text, dot)
    return bool(token) and (token in ABBREVIATIONS or (len(token) == 1 and text[dot - 1].isupper()))


# Abbreviations that often end a sentence too ("... shortly after 8 a.m."): followed by an opening
# quote, their period ends it, since a quotation rarely follows one mid-sentence.
CLOSING_ABBREVIATIONS = {"a.m", "p.m", "etc"}


def _closes_sentence(text: str, dot: int, end: int) -> bool:
    return _word_before(text, dot) in CLOSING_ABBREVIATIONS and (text[end:].lstrip()[:1] or "x") in "\"“‘'"


def split_sentences(text: str, offset: int = 0, max_len: int = 1200) -> list[Sentence]:
    """Split text into sentences with offsets; lines and paragraphs always end a sentence."""
    sentences: list[Sentence] = []
    for block in re.finditer(r"[^\n]+", text):
        line, base = block.group(0), block.start()
        cut = 0
        for end in END.finditer(line):
            if end.group(0)[0] == "." and _is_abbreviation(line, end.start()) \
                    and not _closes_sentence(line, end.start(), end.end()):
                continue
            sentences += _piece(line, base, cut, end.end(), offset, max_len)
            cut = end.end()
        sentences += _piece(line, base, cut, len(line), offset, max_len)
    return sentences


# An FAQ's "Q:" / "A:" label, or "Question:" / "Answer:", opening a line: layout, not words of the sentence
LABEL = re.compile(r"(?:Q|A|Question|Answer)\s*:\s+")


def asks(text: str) -> bool:
    """Whether a sentence is a question (an FAQ's "Q: ...?"): it restates what is asked, it doesn't inform."""
    return text.rstrip("”\"' )").endswith("?")


def unlabelled(sentence: Sentence) -> Sentence:
    """The sentence without a leading FAQ label ("A: The station ..." is "The station ..."), offsets moved with it.

    Chunks keep the label (their ids and vectors stay as indexed); only a quoted or cited sentence drops it.
    """
    found = LABEL.match(sentence.text)
    if not found or found.end() >= len(sentence.text):
        return sentence
    return Sentence(sentence.start + found.end(), sentence.end, sentence.text[found.end():])


# "The project is building a buoy" after "Project Larkspur is led by ...": to the embedding model the
# sentence is about "the project", far from a question about Larkspur; read with the name put back
# (as a reader does) it is close. Only a reference that can be resolved without a parser: a
# definite description by a word of one name the sentence before gives (or the noun that name
# qualifies), or a pronoun, read as the subject that sentence opens with or its only name.
DEFINITE_START = re.compile(r"^(?:The|This|That)\s+([a-z]+)\b")
PRONOUN_OPENING = re.compile(r"^(?:(It|They|He|She)|(Its|Their|His|Her))\b")


_DATE_WORD = re.compile(rf"^({MONTHS}|{WEEKDAYS})$", re.I)


def _named(text: str) -> list[str]:
    """The capitalised phrases of a sentence, its first word too ("Project Larkspur is led by ..."), less
    leading function words ("The") and dates."""
    found = []
    for match in NAME.finditer(text):
        parts = match.group(0).split()
        while parts and parts[0].lower() in STOPWORDS:
            parts = parts[1:]
        if parts and not _DATE_WORD.match(parts[0]):
            found.append(" ".join(parts))
    return list(dict.fromkeys(found))


def _subject(sentence: str, found: list[str]) -> str | None:
    """The name a sentence opens with: "Biden administration" for "The Biden administration announced
    ...", "Project Larkspur" for "Project Larkspur is led ..."; None for a lone capitalised first word,
    which may be any word ("Public works director ...")."""
    for name in found:
        led = re.match(rf"^The\s+{re.escape(name)}(?:\s+([a-z]+))?\b", sentence)
        if led:
            return f"{name} {led.group(1)}" if led.group(1) else name
        if " " in name and sentence.startswith(name):
            return name
    return None


def standalone(sentence: str, previous: str) -> str:
    """The sentence with an opening reference to a name in ``previous`` replaced by that name."""
    if not previous or previous.startswith("#"):  # after a heading, "It" may be anything the document is about
        return sentence
    found = _named(previous)
    definite = DEFINITE_START.match(sentence)
    if definite:
        noun = definite.group(1)
        owners = [n for n in found if len(n.split()) > 1 and noun in n.lower().split()]
        # "The bridge ..." after "The Riverside footbridge reopened": the name with the noun it qualifies
        owners += [f"{n} {m.group(1)}" for n in found
                   for m in re.finditer(rf"\b{re.escape(n)}\s+([a-z]+)\b", previous) if m.group(1).endswith(noun)]
        owners = list(dict.fromkeys(owners))
        return owners[0] + sentence[definite.end():] if len(owners) == 1 else sentence
    pronoun = PRONOUN_OPENING.match(sentence)
    # "It" is most often the subject of the sentence before: the name it opens with ("The Treasury
    # Department, which ..., said ... It added that ..."), or its only name
    owner = _subject(previous, found) or (found[0] if len(found) == 1 else None)
    if pronoun and owner:
        return owner + ("'s" if pronoun.group(2) else "") + sentence[pronoun.end():]
    return sentence


def sentences_in_context(text: str, offset: int = 0) -> list[tuple[Sentence, str]]:
    """Each sentence of a text (FAQ labels dropped) with how it reads on its own (``standalone``)."""
    out, previous = [], ""
    for sentence in map(unlabelled, split_sentences(text, offset=offset)):
        out.append((sentence, standalone(sentence.text, previous)))
        previous = sentence.text
    return out


def _piece(line: str, base: int, start: int, end: int, offset: int, max_len: int) -> list[Sentence]:
    """Trimmed sentence(s) for line[start:end]; an over-long run is cut at spaces."""
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    out = []
    while end - start > max_len:
        cut = line.rfind(" ", start, start + max_len)
        cut = cut if cut > start else start + max_len
        out.append(Sentence(base + start + offset, base + cut + offset, line[start:cut]))
        start = cut + 1
    if end > start:
        out.append(Sentence(base + start + offset, base + end + offset, line[start:end]))
    return out


def document_sentences(doc: Document) -> list[Sentence]:
    """All sentences of a document, never crossing a page boundary."""
    bounds = [start for start, _ in doc.pages] or [0]
    bounds = sorted(set([0] + bounds)) + [len(doc.text)]
    sentences: list[Sentence] = []
    for start, end in zip(bounds, bounds[1:]):
        sentences += split_sentences(doc.text[start:end], offset=start)
    return sentences


def chunk_document(doc: Document, chunk_size: int = 480, overlap: int = 1) -> list[Chunk]:
    """Group whole sentences into chunks of about chunk_size characters, overlapping by sentences."""
    sentences = document_sentences(doc)
    meta = doc.metadata()
    chunks: list[Chunk] = []
    seen: set[str] = set()
    i = 0
    while i < len(sentences):
        page = doc.page_at(sentences[i].start)
        j = i + 1
        while (j < len(sentences) and sentences[j].end - sentences[i].start <= chunk_size
               and doc.page_at(sentences[j].start) == page):
            j += 1
        start, end = sentences[i].start, sentences[j - 1].end
        text = doc.text[start:end]
        chunk_id = Chunk.make_id(doc.doc_id, text)
        if chunk_id not in seen:  # a repeated passage is stored once
            seen.add(chunk_id)
            chunks.append(Chunk(chunk_id, doc.doc_id, text, start, end, page, meta))
        if j >= len(sentences):
            break
        i = max(i + 1, j - overlap)
    meta["n_chunks"] = len(chunks)  # shared by every chunk: lets the index spot a half-written document
    return chunks
