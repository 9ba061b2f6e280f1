"""Questions about the documents themselves: summaries, author, date, source, title, and small talk or help.

Answered from the documents' metadata and their central sentences, not by searching for the
question's words ("summarize this" shares no words with any source). Every statement taken from
the text is a verbatim, cited sentence; what comes from metadata says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from datetime import date

import numpy as np

from app.chunking import asks, split_sentences, unlabelled
from app.injection import is_instruction
from app.intents import FAREWELL
from app.query import BYLINE, Query
from app.records import Answer, Chunk, Hit
from app.speakers import speakers
from app.text import MONTHS, STOPWORDS, WEEKDAYS, YEAR, words

DATELINE_WORDS = 25  # a sentence giving the date this short is quoted with the publication date
MAX_SOURCES = 6  # organisations and sources named after the people who are quoted
TYPE_NAMES = {"news_article": "article", "official_statement": "official statement"}
SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
# A date given only relative to the day of writing ("on Friday", "last year").
RELATIVE = re.compile(rf"\b(on ({WEEKDAYS})|yesterday|today|tomorrow|(last|this|next) "
                      r"(week|month|year|summer|winter|spring|autumn|fall))\b", re.I)
ABSOLUTE = re.compile(rf"\b({YEAR}|({MONTHS}) \d{{1,2}})\b", re.I)


@dataclass
class Doc:
    """One indexed document as the overview sees it: metadata, its chunks, and its sentences in order."""

    doc_id: str
    meta: dict
    chunks: list  # its Chunk objects, in document order

    @cached_property
    def sentences(self) -> list:
        """Its distinct sentences (Candidate objects), in document order; split on first use.

        Lazily, per document: at 50,000 chunks splitting them all took 15-26 s, and a question
        about one document's author or date needs that document's sentences only.
        """
        from app.answering import Candidate  # the answerer's own record; imported late to avoid a cycle

        seen, sentences = set(), []
        for chunk in self.chunks:
            for s in map(unlabelled, split_sentences(chunk.text, offset=chunk.start)):
                if s.start not in seen and not is_instruction(s.text):
                    seen.add(s.start)
                    sentences.append(Candidate(Hit(chunk, 0.0), s.start, s.end, s.text))
        return sentences

    @property
    def label(self) -> str:
        """'“Title” (Publisher, 10 December 2021)'."""
        m = self.meta
        where = ", ".join(p for p in (m.get("publisher", ""), pretty_date(m.get("published", ""))) if p)
        return f"“{m.get('title') or self.doc_id}”" + (f" ({where})" if where else "")


def pretty_date(iso: str) -> str:
    """2021-12-10 -> December 10, 2021 (other strings unchanged)."""
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{d:%B} {d.day}, {d.year}"


_SPLIT: tuple[list, list] = ([], [])  # (chunk list, its documents): kept until the index changes


def documents(chunks: list[Chunk]) -> list[Doc]:
    """The indexed documents, each with its chunks (and, on first use, its sentences) in order.

    Grouping 50,000 chunks takes a moment, once per document question; the lexical index hands out
    the same chunk list until it changes, so the documents (and the sentences split so far) are
    kept for that list.
    """
    global _SPLIT
    cached_chunks, cached_docs = _SPLIT
    if cached_chunks is chunks and cached_docs:
        return cached_docs
    docs = _split(chunks)
    _SPLIT = (chunks, docs)
    return docs


def _split(chunks: list[Chunk]) -> list[Doc]:
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    return [Doc(doc_id, parts[0].meta, sorted(parts, key=lambda c: c.start))
            for doc_id, parts in sorted(by_doc.items())]


ALL_DOCS = re.compile(r"\b(documents|docs|sources|files|articles|texts|pages|all|everything|each|every)\b", re.I)


def _pick(query: Query, docs: list[Doc], hits: list[Hit]) -> list[Doc]:
    """The documents a question about 'this' means: named by title or kind, last cited, or all."""
    # (not by a word any title may hold: "and" in "Lending and Late Return Policy")
    asked = {w.lower() for w in words(query.question)} - STOPWORDS
    named = []
    for d in docs:
        m = d.meta
        own = {w.lower() for w in words(" ".join([m.get("title", ""), m.get("publisher", ""), m.get("author", ""),
                                                 m.get("doc_type", "").replace("_", " "), d.doc_id.replace("-", " ")]))}
        if asked & own:
            named.append((len(asked & own), d))
    if named:
        top = max(n for n, _ in named)
        return [d for n, d in named if n == top]
    if ALL_DOCS.search(query.question):  # "summarize the documents", "what are all the sources about"
        return docs
    if query.said:  # in a conversation, "this" is the document the answers came from
        given = [p.strip() for p in re.split(r"\s*\[\d+\]\s*", query.said) if len(p.strip()) > 20]
        cited = [d for d in docs if any(g in c.text for c in d.chunks for g in given)]
        if cited:
            return cited[:1]
    return docs


LEDE_WORDS = 20  # a sentence standing alone on its line this long is a news lede, not a heading or salutation
# A memo's or letter's address line ("To all staff at the Riverside office.", "Dear residents,"): not content
SALUTATION = re.compile(r"^(Dear|To|Hi|Hello|Attention|Attn|Re|From|Subject|Memo|Memorandum)\b", re.I)


def _informs(s) -> bool:
    """Whether a sentence can stand in a summary: a full sentence, not a question (an FAQ's questions
    restate, they don't inform), nor a short address line."""
    return bool(SENTENCE_END.search(s.text)) and not asks(s.text) \
        and not (SALUTATION.match(s.text) and len(s.text.split()) < 15)


def _lead(doc: Doc):
    """The first sentence of the first body paragraph: one of two or more sentences, or a long one
    alone (a news lede); headings, bylines, datelines and salutations stand alone on their lines."""
    for s, after in zip(doc.sentences, doc.sentences[1:]):
        if _informs(s) and not BYLINE.search(s.text) \
                and ("\n" not in _between(s, after) or len(s.text.split()) >= LEDE_WORDS):
            return s
    full = [s for s in doc.sentences if _informs(s)]
    return full[0] if full else (doc.sentences[0] if doc.sentences else None)


def _between(a, b) -> str:
    """The document text between two sentences, from a chunk holding both ("\n" when none does)."""
    for chunk in (a.hit.chunk, b.hit.chunk):
        if chunk.start <= a.end and b.start <= chunk.end:
            return chunk.text[a.end - chunk.start:b.start - chunk.start]
    return "\n"


BULLETS = re.compile(r"\b(bullet(ed)?( points?)?|bullets|points|key (facts|points)|list form)\b", re.I)
COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
MAX_POINTS = 6


def _points_asked(question: str) -> int:
    """How many bullet points a summary request asks for (3 when it gives no number), or 0 for prose."""
    if not BULLETS.search(question):
        return 0
    found = re.search(r"\b(\d+|two|three|four|five|six)\b(?=\s+(?:\w+\s+)?(?:bullet|bullets|points|key|main))", question, re.I)
    n = (int(found.group(1)) if found.group(1).isdigit() else COUNT_WORDS[found.group(1).lower()]) if found else 3
    return max(1, min(n, MAX_POINTS))


def summary(doc: Doc, answerer, budget: int, n_central: int = 2) -> list:
    """The lead plus the most central sentences by embedding centrality, in document order."""
    full = [s for s in doc.sentences if _informs(s) and len(s.text.split()) >= 6]
    lead = _lead(doc)
    if not full:
        return [lead] if lead else []
    vectors = np.asarray(answerer.embedder.embed_cached([s.text for s in full]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    centre = vectors.mean(axis=0)
    order = np.argsort(-(vectors @ centre))
    chosen = [lead] if lead else []
    used = sum(len(s.text.split()) for s in chosen)
    for i in order:
        s = full[int(i)]
        if len(chosen) >= 1 + n_central or s in chosen:
            continue
        if used + len(s.text.split()) <= budget:
            chosen.append(s)
            used += len(s.text.split())
    return sorted(chosen, key=lambda s: s.start)


def _find(doc: Doc, pattern: re.Pattern | None, text: str = ""):
    """The first sentence holding ``text`` (or matching ``pattern``), else the lead."""
    for s in doc.sentences:
        if (pattern and pattern.search(s.text)) or (text and text.lower() in s.text.lower()):
            return s
    return _lead(doc)


def respond(query: Query, hits: list[Hit], chunks: list[Chunk], answerer) -> Answer:
    """The answer to a question about the documents, or to small talk and requests for help."""
    docs = documents(chunks)
    if query.intent in ("smalltalk", "help") or not docs:
        return _greeting(query, docs, hits)
    chosen_docs = _pick(query, docs, hits)
    s = answerer.settings
    if query.intent == "summary":
        points = _points_asked(query.question)
        if len(chosen_docs) == 1:
            n = points or 3
            chosen = summary(chosen_docs[0], answerer, int(s.max_answer_words * 1.5 * max(1.0, n / 3)), n_central=n - 1)
            # The headline first (metadata, so no marker): it names what the lead often leaves for later.
            lead_in = f"From {chosen_docs[0].label}:"
        else:
            return _summaries(query, hits, chosen_docs, answerer)
        answer = answerer.compose(query, hits, chosen, lead=lead_in)
        if points:  # "in 3 bullet points": one sentence a line, as asked
            answer.answer = "\n".join([lead_in] + [f"• {c.sentence} [{c.marker}]" for c in answer.citations])
        answer.composed = True
        return answer
    if query.intent == "quoted":
        return _quoted(query, hits, chosen_docs[: s.max_list_sentences], answerer)
    parts, cited = [], []
    for d in chosen_docs[: s.max_list_sentences]:
        m = d.meta
        if query.intent == "author":
            who = m.get("author")
            said = f"{d.label} was written by {who}." if who else f"{d.label} names no author."
            found = _find(d, BYLINE, who or "")
            if who and found is not None and who.lower() in found.text.lower() and not BYLINE.search(found.text):
                # The text names its author in a sentence of its own ("To the committee, from X in the
                # program office"): quoted, as it often says more (to whom, from which office).
                said += f" The text says: “{found.text.strip()}”"
            cited.append(found)
        elif query.intent == "published":
            when = pretty_date(m.get("published", ""))
            said = f"{d.label} was published on {when}." if when else f"{d.label} carries no date."
            year = (m.get("published") or "")[:4]
            found = _find(d, re.compile(re.escape(year)) if year else None)
            if year and found is not None and year in found.text and len(words(found.text)) <= DATELINE_WORDS:
                # The line that dates it is quoted: it may say more (an update, its time, who adopted it when).
                said += f" The text says: “{found.text.strip()}”"
            cited.append(found)
        elif query.intent == "title":
            # The headline is metadata; the text's first line (a news article's subtitle) is quoted.
            opening = d.sentences[0] if d.sentences else None
            where = ", ".join(p for p in (m.get("publisher", ""), pretty_date(m.get("published", ""))) if p)
            said = f"The headline is “{m.get('title') or d.doc_id}”" + (f" ({where})" if where else "") + "."
            if opening is not None:
                said += f" The text opens: “{opening.text.splitlines()[0].strip()}”"
            cited.append(opening)
        else:  # source
            kind = TYPE_NAMES.get(m.get("doc_type", ""), m.get("doc_type", "document").replace("_", " "))
            article = "an" if kind[:1].lower() in "aeiou" else "a"
            said = f"{d.label} is {article} {kind}" + (f", online at {m['url']}." if m.get("url") else ".")
            cited.append(_find(d, None, m.get("publisher", "")))
        parts.append(said)
    answer = answerer.compose(query, hits, [c for c in cited if c])
    answer.answer = " ".join(f"{p} [{i}]" for i, p in enumerate(parts, start=1)) + " (from the document's details)"
    answer.composed = True
    return answer


def _quoted(query: Query, hits: list[Hit], docs: list[Doc], answerer) -> Answer:
    """Who each document quotes or cites by name, each cited to the sentence where it first speaks:
    people first, then organisations and sources (a reader asking "who is quoted" wants both, told apart)."""
    cited: list = []  # distinct sentences, in the order of their markers

    def marked(speaker) -> str:
        if speaker.sentence not in cited:
            cited.append(speaker.sentence)
        return f"{speaker.name} [{cited.index(speaker.sentence) + 1}]"

    lines, silent = [], []
    for d in docs:
        found = speakers(d.sentences, "\n".join(c.text for c in d.chunks))
        if not found:
            silent.append(d)
            continue
        people = [marked(p) for p in found if p.person]
        others = [marked(o) for o in found if not o.person][:MAX_SOURCES]
        line = f"{d.label} quotes by name: {_and(people)}." if people else f"{d.label} quotes no person by name."
        if others:
            line += f" {'It also' if people else 'It'} quotes or cites {_and(others)}."
        lines.append(line)
    if silent:  # said once for them all: a line per document that quotes no one says nothing new
        lines.append(f"{silent[0].label} quotes no one by name." if len(silent) == 1 else
                     f"The {'other ' * bool(lines)}{len(silent)} documents quote no one by name.")
    answer = answerer.compose(query, hits, cited)
    answer.answer = "\n".join(lines)
    answer.diagnostics = {"intent": query.intent}
    answer.composed = True
    return answer


def _and(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _summaries(query: Query, hits: list[Hit], docs: list[Doc], answerer) -> Answer:
    """Several documents summarised in turn, each named: its lead and, as its share of the word
    budget allows, its most central sentence. Named, since a reader otherwise has to open every
    marker to learn which document a sentence comes from."""
    s = answerer.settings
    shown = docs[: s.max_list_sentences]
    share = int(s.max_answer_words * 1.5) // len(shown)
    groups = [(d, summary(d, answerer, share, n_central=1)) for d in shown]
    answer = answerer.compose(query, hits, [x for _, group in groups for x in group])
    texts = [f"The {len(docs)} documents" + (f", the first {len(shown)} of them:" if len(shown) < len(docs) else ":")]
    start = 0
    for doc, group in groups:
        cited = answer.citations[start:start + len(group)]
        start += len(group)
        if cited:
            texts.append(f"From {doc.label}: " + " ".join(f"{c.sentence} [{c.marker}]" for c in cited))
    answer.answer = "\n".join(texts)  # a line per document
    answer.composed = True
    return answer


# What conversation sounds like, for messages the small-talk and help patterns don't catch ("perfect,
# cheers for the help", "quick q - can you search the web too?"). Generic on purpose: nothing here
# names a corpus. The model compares a message with each; the nearest says which reply it gets.
CONVERSATION = {
    "smalltalk": ["hello", "hi there", "good morning", "hey, how are you?", "nice to meet you", "thanks",
                  "thank you so much, that helped", "great, that's what I needed", "ok cool", "perfect", "cheers",
                  "bye", "goodbye, see you later", "I'm done for now, signing off"],
    "help": ["what can you do?", "how do you work?", "what documents do you have?", "which files can you search?",
             "can you search the internet?", "what can I ask you?", "who are you?", "are you a bot?",
             "can you help me?", "I have a question for you", "is anyone there?", "am I talking to a real person?",
             "how should I word my questions?"],
}


def conversation_kind(message_vector, embedder) -> tuple[str, float]:
    """The kind of conversation ("smalltalk" or "help") a message (by its vector, which the caller has
    already) is nearest, and the model's similarity to it."""
    kinds = [k for k, examples in CONVERSATION.items() for _ in examples]
    examples = [e for group in CONVERSATION.values() for e in group]
    vectors = np.asarray(embedder.embed_cached(examples), dtype=np.float32)  # cached after the first message
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    message = np.asarray(message_vector, dtype=np.float32)
    sims = vectors @ (message / np.linalg.norm(message))
    best = int(np.argmax(sims))
    return kinds[best], float(sims[best])


def _greeting(query: Query, docs: list[Doc], hits: list[Hit]) -> Answer:
    """What Dossier is and what it holds; not an abstention, and no citations to check."""
    thanks = "You're welcome. " if re.search(r"\b(thank|thx|ty|cheers|appreciat)", query.question, re.I) else ""
    if query.intent == "smalltalk" and FAREWELL.search(query.question):  # "that'll do, have a good one"
        text = f"{thanks}Goodbye! Ask again any time."
    else:
        text = (thanks or ("Hello! " if query.intent == "smalltalk" else "")) + _what_i_hold(docs)
    return Answer(query.question, query.standalone, text, False, [], [], hits=hits,
                  diagnostics={"intent": query.intent}, composed=True)


def _what_i_hold(docs: list[Doc]) -> str:
    """What Dossier answers from, and how to ask."""
    if docs:
        listed = "; ".join(d.label for d in docs[:6]) + (f"; and {len(docs) - 6} more" if len(docs) > 6 else "")
        held = f"I answer questions from {len(docs)} document{'s' * (len(docs) > 1)}: {listed}."
    else:
        held = "The index is empty: add documents first."
    tips = ("Ask in your own words and every sentence of the answer comes with a marker like [1] that opens its "
            "source. You can also ask me to summarize, or who wrote a document, when, and whom it quotes.")
    return f"{held} {tips}"


def add_publication_date(answer: Answer, chosen: list, chunks: list[Chunk], answerer) -> None:
    """A 'when' answer whose first sentence dates it only relatively ("on Friday") also gets the date of writing.

    The first sentence is the best answer; a later one may carry another event's absolute date.
    """
    if not chosen:
        return
    first = chosen[0]
    if not RELATIVE.search(first.text) or ABSOLUTE.search(first.text):
        return
    meta = first.hit.chunk.meta
    when = pretty_date(meta.get("published", ""))
    if not when:
        return
    doc = next((d for d in documents(chunks) if d.doc_id == first.hit.chunk.doc_id), None)
    dated = _find(doc, re.compile(re.escape(meta["published"][:4]))) if doc else None
    if dated is None:
        return
    marker = len(answer.citations) + 1
    answer.citations.append(answerer.citation(marker, dated))
    answer.answer += f" The document is dated {when} (its publication date). [{marker}]"
    answer.composed = True
