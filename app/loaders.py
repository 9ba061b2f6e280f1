"""Loading: a file path becomes a Document (.md, .txt, .html, .pdf), or a LoadError saying why not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from app.records import DossierError, Document, content_hash

SUPPORTED = {".md": "markdown", ".markdown": "markdown", ".txt": "text",
             ".html": "html", ".htm": "html", ".pdf": "pdf"}
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
# A heading on the first non-blank line: ATX ('# Title', closing #s dropped) or Setext ('Title' over '===')
OPENING_HEADING = re.compile(r"\A\s*(?:#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$|([^\n]*\S[^\n]*)\n=+[ \t]*$)", re.M)
TOP_HEADING = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.M)
TITLE_WORDS = 12  # a plain-text file's first line is its title when it is this short and no sentence
# A fetched file's record of where it came from, beside it: "page.html" + SIDECAR.
SIDECAR = ".source.json"
# The list of official sources to fetch (``dossier add --manifest``); kept in the corpus, never a document.
MANIFEST = "sources.toml"


class LoadError(DossierError):
    """A file that cannot be read as a document; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def is_supported(path: Path) -> bool:
    """Whether the file's extension is one Dossier reads."""
    return path.suffix.lower() in SUPPORTED


def doc_id_for(path: Path, root: Path | None) -> str:
    """A stable id from the path relative to the ingest root, so a fresh clone gets the same ids."""
    try:
        rel = path.resolve().relative_to(root.resolve()) if root else Path(path.name)
    except ValueError:
        rel = Path(path.name)
    stem = rel.with_suffix("").as_posix()
    # A name with no Latin letters or digits ("报告.md") gets an id from a hash of the name, so two
    # such files never share one id.
    return re.sub(r"[^A-Za-z0-9/_.-]+", "-", stem).strip("-").lower() or f"doc-{name_hash(stem)}"


def name_hash(text: str) -> str:
    """Eight hex digits naming a text (surrogate-escaped file names included)."""
    return content_hash(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), 8)


def clean_id(raw: str) -> str:
    """A front matter ``id:`` made safe to store: no whitespace, colons or control characters."""
    return re.sub(r"\.{2,}", ".", re.sub(r"[\s:]+|[^\w./-]", "-", raw)).strip("-./")[:120]


def sniff(path: Path, data: bytes) -> str:
    """The format the bytes really are, checked against the extension; raises LoadError."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(SUPPORTED))
        raise LoadError(path, f"unsupported file type '{path.suffix or '(none)'}' (Dossier reads {known})")
    if not data.strip():
        raise LoadError(path, "the file is empty")
    is_pdf = data.lstrip()[:5] == b"%PDF-"
    if kind == "pdf":
        if not is_pdf:
            raise LoadError(path, "named .pdf but its content is not a PDF")
        return kind
    if is_pdf:
        raise LoadError(path, f"the content is a PDF but the name ends in {path.suffix}; rename it to .pdf")
    if b"\x00" in data[:8192]:
        raise LoadError(path, "the content is binary, not text")
    return kind


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LoadError(path, f"not UTF-8 text (invalid byte 0x{data[err.start]:02x} at byte {err.start}); "
                              "save it as UTF-8 and ingest again") from None


def _from_markdown(path: Path, text: str) -> tuple[str, dict]:
    meta: dict = {}
    match = FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as err:
            raise LoadError(path, f"front matter is not valid YAML ({err.__class__.__name__})") from None
        if not isinstance(loaded, dict):
            raise LoadError(path, "front matter must be 'key: value' lines")
        meta = {str(k): ("" if v is None else str(v)) for k, v in loaded.items()}
        text = text[match.end():]
    if not meta.get("title"):
        meta["title"] = _first_heading(text)
    return text, meta


def _first_heading(text: str) -> str:
    """The document's title when it opens with a heading ('# Memo: …' or 'Memo\\n===='), else the
    first top-level heading; '' when there is none (the file name is used then)."""
    opening = OPENING_HEADING.match(text)
    found = opening or TOP_HEADING.search(text)
    if not found:
        return ""
    return re.sub(r"\s+", " ", next(g for g in found.groups() if g)).strip()


def _from_text(text: str) -> dict:
    """A plain-text file's title and date from its opening lines, where notes and memos put them.

    The first line is the title when it is short and not a sentence ("Riverside lab notes", not
    "The lab bought a printer."); a full date on one of the first three lines is the date.
    """
    from app.timeline import DATE, resolve  # the timeline's date reading: one parser of dates, not two

    def full_date(line: str):
        """The first day-precise date the line states, and the line without it."""
        for m in DATE.finditer(line):
            when = resolve(m, line, None)  # no publication date: only dates stated in full resolve
            if when is not None and when.precision == "day":
                return when.iso, line[:m.start()] + line[m.end():]
        return "", line

    lines = [line.strip() for line in text.strip().splitlines()[:3] if line.strip()]
    meta: dict = {}
    dates = [full_date(line) for line in lines]
    if len(lines) > 1 and len(lines[0].split()) <= TITLE_WORDS and not lines[0].endswith((".", "?", "!", ",", ";", ":")) \
            and len(dates[0][1].split()) > 1:  # "3 March 2025" alone is no title
        meta["title"] = lines[0]
    found = next((iso for iso, _ in dates if iso), "")
    if found:
        meta["published"] = found
    return meta


def _from_html(text: str) -> tuple[str, dict]:
    from app.extraction import extract_html

    page = extract_html(text)
    meta = {"title": page.title, "publisher": page.publisher, "author": page.author,
            "published": page.published, "url": page.canonical_url}
    return page.text, {k: v for k, v in meta.items() if v}


def sidecar_of(path: Path) -> Path:
    """Where the record of a fetched file's origin lies: ``page.html`` -> ``page.html.source.json``."""
    return path.with_name(path.name + SIDECAR)


def _from_sidecar(path: Path) -> dict:
    """The metadata a fetched file's sidecar sets (URL, type, id, ...); {} for a file with no sidecar."""
    side = sidecar_of(path)
    if not side.is_file():
        return {}
    try:
        record = json.loads(side.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise LoadError(path, f"its record {side.name} cannot be read ({err.__class__.__name__})") from None
    fields = record.get("document") if isinstance(record, dict) else None
    if not isinstance(fields, dict):
        raise LoadError(path, f"its record {side.name} has no 'document' fields")
    return {str(k): str(v) for k, v in fields.items() if v not in (None, "")}


def _from_pdf(path: Path) -> tuple[str, dict, tuple[tuple[int, int], ...]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        info = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise LoadError(path, f"the PDF is damaged or incomplete and cannot be read (the reader said: {err})") from None
    parts, pages, offset = [], [], 0
    for number, page_text in enumerate(texts, start=1):
        if not page_text:
            continue
        pages.append((offset, number))
        parts.append(page_text)
        offset += len(page_text) + 2  # the "\n\n" that joins pages
    meta = {"title": str(info.get("/Title") or ""), "author": str(info.get("/Author") or "")}
    return "\n\n".join(parts), {k: v for k, v in meta.items() if v}, tuple(pages)


def load(path: Path | str, root: Path | None = None) -> Document:
    """Read one file into a Document; raises LoadError with the reason when it cannot."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LoadError(path, f"cannot open ({err.strerror or err})") from None
    kind = sniff(path, data)
    pages: tuple[tuple[int, int], ...] = ()
    if kind == "pdf":
        text, meta, pages = _from_pdf(path)
    else:
        text = _decode(path, data).replace("\r\n", "\n")
        meta = {}
        if kind == "markdown":
            text, meta = _from_markdown(path, text)
        elif kind == "html":
            text, meta = _from_html(text)
        else:
            meta = _from_text(text)
    if not text.strip():
        raise LoadError(path, "no text found (a scanned PDF needs OCR first)" if kind == "pdf" else "no text found")
    meta.update(_from_sidecar(path))  # a fetched file: where it came from beats what the page claims
    return Document(
        doc_id=clean_id(meta.get("id", "")) or doc_id_for(path, root),
        text=text,
        source=str(path.resolve()),
        title=meta.get("title") or path.stem.replace("_", " ").replace("-", " "),
        publisher=meta.get("publisher", ""),
        author=meta.get("author", ""),
        published=meta.get("published", ""),
        url=meta.get("url", ""),
        doc_type=meta.get("type") or "document",
        pages=pages,
    )
