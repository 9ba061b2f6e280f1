"""Extracting: an HTML page becomes its main text and metadata, without the page's chrome.

trafilatura (the only module importing it) rather than rules keyed on tag names: it scores blocks by
text and link density, so it also drops the chrome that is not in a <nav> or <footer> tag, such as
a cookie banner in a <div>, a list of related articles, or a photo caption, and it reads the
metadata from Open Graph, Dublin Core, JSON-LD and the page itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    if found is None:
        return Extracted("")
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in (found.text or "").splitlines())
    return Extracted(
        text="\n\n".join(line for line in lines if line),
        title=(found.title or "").strip(),
        publisher=(found.sitename or "").strip(),
        author=(found.author or "").strip(),
        published=(found.date or "")[:10],
        canonical_url=(found.url or "").strip(),
    )
