"""Extracting: an HTML page becomes its main text and metadata, without the page's chrome.

trafilatura (the only module importing it) rather than rules keyed on tag names: it scores blocks by
text and link density, so it also drops the chrome that is not in a <nav> or <footer> tag, such as
a cookie banner in a <div>, a list of related articles, or a photo caption, and it reads the
metadata from Open Graph, Dublin Core, JSON-LD and the page itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


# Elements of trafilatura's output tree that hold blocks rather than being one.
CONTAINERS = {"body", "div", "list", "table", "section"}


@dataclass(frozen=True)
class Extracted:
    """The main text of a page, paragraphs separated by blank lines, and what the page says of itself."""

    text: str
    title: str = ""
    publisher: str = ""  # the site's name
    author: str = ""
    published: str = ""  # YYYY-MM-DD
    canonical_url: str = ""  # the URL the page claims as its own (not trusted as where it came from)


def extract_html(html: str) -> Extracted:
    """Main text and metadata of an HTML page; empty text when the page has none."""
    import trafilatura

    found = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=True,
                                        include_images=False, include_links=False, favor_precision=True)
    text = "\n\n".join(b for b in _blocks(found.body) if b) if found is not None and found.body is not None else ""
    if not text:
        # No block scored as main text (a page that is one <div>): all its visible text, rather than nothing.
        text = "\n\n".join(_flat(line) for line in trafilatura.baseline(html)[1].splitlines() if line.strip())
    meta = found if found is not None else trafilatura.extract_metadata(html)
    if meta is None:
        return Extracted(text)
    return Extracted(
        text=text,
        title=(meta.title or "").strip(),
        publisher=(meta.sitename or "").strip(),
        author=(meta.author or "").strip(),
        published=(meta.date or "")[:10],
        canonical_url=(meta.url or "").strip(),
    )


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _blocks(element):
    """The text of each block of trafilatura's tree (paragraph, heading, list item, table row, quote),
    whitespace collapsed: a line break inside a source paragraph must not end a sentence."""
    for child in element:
        if child.tag in CONTAINERS:
            yield from _blocks(child)
        elif child.tag == "row":
            yield " | ".join(c for c in (_flat("".join(cell.itertext())) for cell in child) if c)
        else:
            yield _flat("".join(child.itertext()))
        if child.tail and child.tail.strip():
            yield _flat(child.tail)
