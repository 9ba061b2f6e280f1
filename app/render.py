"""Rendering an Answer for people: terminal text, chat HTML, the sources panel, Markdown export.

Document text is always escaped: a source containing ``<script>`` shows as text, never runs.
"""

from __future__ import annotations

import html
import re
import textwrap

from app.chunking import split_sentences
from app.injection import is_instruction
from app.overview import pretty_date
from app.records import Answer, Citation, Event
from app.text import shortened

FLAG_NOTE = "Addressed to an AI assistant: shown as written, never used as an answer"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")  # inline Markdown syntax
TYPE_LABELS = {"news_article": "news article", "official_statement": "official statement"}


def _where(c: Citation) -> str:
    parts = [c.publisher, c.published, TYPE_LABELS.get(c.doc_type, c.doc_type.replace("_", " ")),
             f"p. {c.page}" if c.page else ""]
    return ", ".join(p for p in parts if p)


SEARCHED_CONTEXT_CHARS = 80
LABEL_CHARS = 240  # a question shown as a label (a heading, "searched for") is cut to about this length


def searched_for(answer: Answer) -> str:
    """What was searched for, as shown to the user: the conversation's words added to a follow-up are
    cut short, since a whole earlier answer can be among them (the search itself uses them all)."""
    query = answer.standalone_query
    at = query.rfind(" (")  # the conversation's words are appended last, in brackets, without brackets of their own
    if at < 0 or not query.endswith(")"):
        return shortened(query, LABEL_CHARS)
    context = query[at + 2:-1]
    if len(context) > SEARCHED_CONTEXT_CHARS:
        context = context[:SEARCHED_CONTEXT_CHARS].rsplit(" ", 1)[0] + " …"
    return f"{shortened(query[:at], LABEL_CHARS)} ({context})"


def text(answer: Answer) -> str:
    """An answer as readable terminal text with its sources listed."""
    lines = []
    if answer.standalone_query != answer.question:
        lines.append(f"(searched for: {searched_for(answer)})\n")
    lines.append(textwrap.fill(answer.answer, 100))
    cited = answer.near_misses if answer.abstained else answer.citations
    if cited:
        lines.append("\nClosest passages (they do not answer the question):" if answer.abstained else "\nSources:")
    for c in cited:
        label = f"({c.marker})" if answer.abstained else f"[{c.marker}]"
        lines.append(f"{label} {c.title} ({_where(c)})")
        if c.url:
            lines.append(f"    {c.url}")
        lines.append(textwrap.fill(f"“{c.sentence}”", 96, initial_indent="    ", subsequent_indent="    "))
        lines.append(f"    chunk {c.chunk_id}, characters {c.start}-{c.end}")
    return "\n".join(lines)


def chat_html(answer: Answer, turn: int) -> str:
    """The chat bubble: escaped sentences, markers that link to the sources panel.

    The bubble also holds its own sources, folded, which the page shows only on narrow screens
    (page.CSS): there a tapped marker opens its passage under the answer instead of far below.
    """
    head = ""
    if answer.standalone_query != answer.question:
        head = f'<div class="searched">Searched for: {html.escape(searched_for(answer))}</div>'
    if answer.abstained:
        body = f'<div class="abstain">{html.escape(answer.answer)}</div>'
    elif answer.composed or not answer.citations:
        # Small talk and metadata answers are composed text; their markers still link to sources.
        links = {f"[{c.marker}]": _marker_link(c, turn) for c in answer.citations}
        body = re.sub(r"\[\d+\]", lambda m: links.get(m.group(0), m.group(0)), html.escape(answer.answer))
        body = body.replace("\n", "<br>")  # composed text keeps its lines (a summary's line per document)
    else:
        body = " ".join(f'{html.escape(c.sentence)} {_marker_link(c, turn)}' for c in answer.citations)
    cited = answer.near_misses if answer.abstained else answer.citations
    if not cited:
        return head + body
    label = "Closest passages (not an answer)" if answer.abstained else "Sources"
    items = "".join(_source(c, turn, answer.abstained, inline=True) for c in cited)
    return f'{head}{body} <details class="inline-sources"><summary>{label} ({len(cited)})</summary>{items}</details>'


def _marker_link(c: Citation, turn: int) -> str:
    return f'<a href="#src-{turn}-{c.marker}" class="cite" title="{html.escape(c.title)}">[{c.marker}]</a>'


def _passage(c: Citation, support: bool = True) -> str:
    """The passage, escaped, with the cited sentence marked (a near miss only gets an underline).

    Sentences addressed to an AI assistant are flagged, so a reader sees what a source tried to
    make the answerer say (the answerer never uses them).
    """
    local = c.text.find(c.sentence)
    cite = (local, local + len(c.sentence)) if local >= 0 else None
    flagged = {(s.start, s.end) for s in split_sentences(c.text) if is_instruction(s.text)}
    tag = ("<mark>", "</mark>") if support else ('<span class="closest">', "</span>")
    out, pos = [], 0
    for start, end in sorted(flagged | {cite} - {None}):
        if start < pos:
            continue  # overlaps the span before it: that one is shown
        inner = html.escape(c.text[start:end])
        if (start, end) == cite:
            inner = tag[0] + inner + tag[1]
        if (start, end) in flagged:
            inner = f'<span class="flagged" title="{FLAG_NOTE}">{inner}</span>'
        out += [html.escape(c.text[pos:start]), inner]
        pos = end
    return "".join(out) + html.escape(c.text[pos:])


def escape_markdown(text: str) -> str:
    """Text that a Markdown component shows literally (names and reasons in status messages)."""
    return html.escape(MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)


def _listed(items: list[str], most: int, noun: str) -> str:
    """'a', 'a and b', 'a, b and c', or 'a, b, c and 4 more <noun>s'."""
    extra = len(items) - most
    shown = items if extra <= 0 else items[:most] + [f"{extra} more {noun}{'s' if extra > 1 else ''}"]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def corpus_intro(docs: list[dict]) -> str:
    """The first screen's Markdown: what the index holds (count, publishers, dates, titles).

    Made from the index on every page load and after every upload, never written by hand, so it
    stays true when documents are added.
    """
    if not docs:
        return "The index is empty: add a document in the **Corpus** tab, then ask about it."
    count = f"{len(docs)} document" + ("" if len(docs) == 1 else "s")
    publishers = list(dict.fromkeys(d["publisher"] for d in docs if d.get("publisher")))
    dates = sorted(d["published"][:10] for d in docs if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", d.get("published") or ""))
    line = f"**In the index:** {count}"
    # Documents without a publisher or a date are counted apart, so an uploaded note is never
    # credited to the publisher, or given the date, of the documents around it.
    unnamed = sum(1 for d in docs if not d.get("publisher"))
    if publishers:
        named = _listed([escape_markdown(p) for p in publishers], 3, "publisher")
        # "2 documents from The Post and 1 without a named publisher" read as three documents
        line += f" ({len(docs) - unnamed} from {named}, {unnamed} without a named publisher)" if unnamed \
            else f" from {named}"
    if dates:
        span = pretty_date(dates[0]) + ("" if dates[0] == dates[-1] else f" to {pretty_date(dates[-1])}")
        line += f", {'dated' if dates[0] == dates[-1] else 'dated from'} {span}"
        if len(dates) < len(docs):
            line += f" ({len(docs) - len(dates)} without a date)"
    titles = [f"“{escape_markdown(d['title'] or d['doc_id'])}”" for d in docs]
    more = " (the Corpus tab lists them all)" if len(titles) > 4 else ""
    return f"{line}: {_listed(titles, 4, 'document')}{more}."


def _original(c: Citation) -> str:
    """' · original', linking to the source's web address when it has one."""
    return (f' · <a href="{html.escape(c.url)}" target="_blank" rel="noopener noreferrer">original</a>'
            if c.url.startswith(("http://", "https://")) else "")


def _source(c: Citation, turn: int, abstained: bool, inline: bool = False, again: bool = False) -> str:
    """One cited passage: title, where it comes from, the passage with its sentence marked.

    The panel's copy has the id markers link to; the bubble's copy has it as a class (the chat's
    sanitizer drops ids and data attributes). ``again``: a further passage of a document an earlier
    card of the answer shows, whose title the page keeps to one line (whole on hover).
    """
    marker = f"({c.marker})" if abstained else f"[{c.marker}]"
    name, near = f"src-{turn}-{c.marker}", " near" if abstained else ""
    near += " again" if again else ""
    where = f'class="source{near} {name}"' if inline else f'class="source{near}" id="{name}"'
    return (f'<div {where}>'
            f'<div class="src-title" title="{html.escape(c.title)}">{marker} {html.escape(c.title)}</div>'
            f'<div class="src-meta">{html.escape(_where(c))}{_original(c)}</div>'
            f'<blockquote>{_passage(c, support=not abstained)}</blockquote></div>')


def sources_html(turns: list[tuple[str, Answer]]) -> str:
    """The sources panel: newest question first, each citation with its passage highlighted."""
    if not turns:
        return '<div class="sources-empty">Sources for each answer appear here.</div>'
    blocks = []
    for turn in range(len(turns), 0, -1):
        question, answer = turns[turn - 1]
        cited = answer.near_misses if answer.abstained else answer.citations
        label = ("Closest passages — these do not answer the question" if answer.abstained else "Sources")
        items = [_source(c, turn, answer.abstained, again=c.doc_id in {d.doc_id for d in cited[:i]})
                 for i, c in enumerate(cited)]
        blocks.append(f'<section class="turn"><h4>Q{turn}: {html.escape(shortened(question, LABEL_CHARS))}</h4>'
                      f'<div class="src-label">{label}</div>{"".join(items) or "<p>No passages.</p>"}</section>')
    return "".join(blocks)


def markdown(turns: list[tuple[str, Answer]]) -> str:
    """A conversation as Markdown, each answer followed by its quoted, dated, linked sources."""
    out = ["# Dossier conversation", ""]
    for i, (question, answer) in enumerate(turns, start=1):
        heading = shortened(question, LABEL_CHARS)
        out += [f"## Q{i}: {heading}", ""]
        if heading != question:  # a pasted page: the heading shows its ends, the record keeps it whole
            out += ["Question as asked:", "", *[f"> {line}" for line in question.splitlines() or [""]], ""]
        if answer.standalone_query != question:
            out += [f"_Searched for: {searched_for(answer)}_", ""]
        out += [answer.answer, ""]
        cited = answer.near_misses if answer.abstained else answer.citations
        if cited:
            out += ["Closest passages (not an answer):" if answer.abstained else "Sources:", ""]
        for c in cited:
            label = f"({c.marker})" if answer.abstained else f"[{c.marker}]"
            title = f"[{c.title}]({c.url})" if c.url else c.title
            quote = re.sub(r"\s+", " ", c.sentence)
            out += [f"- {label} {title}, {_where(c)}", f"  > {quote}"]
        out.append("")
    return "\n".join(out)


def timeline_text(events: list[Event]) -> str:
    """The timeline as terminal text: date, the sentence, its source, and how an inferred date was found."""
    if not events:
        return "No dated events: the indexed documents state no dates (or the index is empty)."
    lines = []
    for e in events:
        lines.append(f"{e.label}{' (inferred)' if e.inferred else ''}")
        lines.append(textwrap.fill(f"“{e.sentence}”", 96, initial_indent="    ", subsequent_indent="    "))
        lines.append(f"    {e.citation.title} ({_where(e.citation)})")
        if e.inferred:
            lines.append(f"    date inferred: {e.how}")
        lines.append("")
    return "\n".join(lines).rstrip()


def timeline_html(events: list[Event]) -> str:
    """The Timeline tab: one folded entry per event, oldest first; opening one shows its passage."""
    if not events:
        return '<div class="timeline-empty">No dated events yet: the documents in the index state no dates.</div>'
    docs = len({e.citation.doc_id for e in events})
    items = []
    for e in events:
        c = e.citation
        inferred = (f' <span class="tl-inferred" title="{html.escape(e.how)}">inferred from publication date</span>'
                    if e.inferred else "")
        how = f'<div class="tl-how">Date inferred: {html.escape(e.how)}</div>' if e.inferred else ""
        items.append(
            f'<li class="tl-event" data-date="{html.escape(e.date)}"><details><summary>'
            f'<span class="tl-date">{html.escape(e.label)}</span>{inferred} '
            f'<span class="tl-sentence">{html.escape(e.sentence)}</span> '
            f'<span class="tl-source">— {html.escape(c.title or c.doc_id)}</span></summary>'
            f'<div class="tl-passage"><div class="src-meta">{html.escape(_where(c))}{_original(c)}</div>{how}'
            f'<blockquote>{_passage(c)}</blockquote></div></details></li>')
    note = (f'<p class="tl-note">{len(events)} dated event{"s" * (len(events) != 1)} from {docs} '
            f'document{"s" * (docs != 1)}, oldest first. Open an event to read its passage.</p>')
    return f'<div class="timeline">{note}<ol class="tl-list">{"".join(items)}</ol></div>'
