"""Sources by URL: a page or PDF is fetched, kept as received with a record of where it came from,
and ingested as a document whose id names its version.

Layout: ``<sources_dir>/<slug of the URL>/<hash of the text>.<html|pdf|txt>`` and beside it the
sidecar ``….source.json`` (URL asked and reached, fetch time, HTTP status, content type, sha256,
and the document's fields). The version is a hash of the extracted text, not of the bytes, so a
page whose chrome changes (a date in the footer, a token in a script) is still the same version,
and re-adding it re-embeds nothing. A page whose text changed gets a new file and a new id; the
old file stays, so the old version is still in the index and every earlier citation still holds.
The sources folder is ingested with the corpus at every start, so a rebuild keeps every version.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app import ingest as ingesting
from app.fetching import Fetched, fetch
from app.loaders import LoadError, clean_id, load, sidecar_of
from app.records import DossierError, content_hash

EXTENSIONS = {"html": "html", "pdf": "pdf", "text": "txt"}
# A host whose name has one of these labels is a government's (treasury.gov, gov.uk, nsw.gov.au).
OFFICIAL_LABELS = {"gov", "mil"}
DOC_TYPE = re.compile(r"[a-z][a-z0-9_]{0,40}")
MANIFEST_FIELDS = {"url", "title", "publisher", "published", "type", "author"}


def infer_type(url: str) -> str:
    """``official_statement`` for a government host, ``news_article`` for any other."""
    host = (urlsplit(url).hostname or "").lower()
    return "official_statement" if OFFICIAL_LABELS & set(host.split(".")) else "news_article"


def publisher_of(url: str) -> str:
    """The host, as a last resort for a page that names no site."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def slug_for(url: str) -> str:
    """A folder name for a URL: host and path in safe characters, plus a hash of the whole URL
    when it was shortened or had a query, so two URLs never share a folder by accident."""
    parts = urlsplit(url)
    raw = f"{publisher_of(url)}{parts.path}"
    slug = re.sub(r"[^a-z0-9.]+", "-", raw.lower()).strip("-.")
    if len(slug) > 80 or parts.query or not slug:
        slug = f"{slug[:80].strip('-.')}-{content_hash(url, 8)}".strip("-")
    return slug


@dataclass
class Added:
    """What happened to one URL, for the CLI, the UI and the tests."""

    url: str
    outcome: str  # "added", "new version", "updated", "unchanged" or "failed"
    doc_id: str = ""
    reason: str = ""  # why it failed
    doc_type: str = ""
    chunks_embedded: int = 0
    passages: int = 0
    earlier: list[str] = field(default_factory=list)  # ids of the versions kept from before

    @property
    def ok(self) -> bool:
        """Whether the URL's document is in the index now."""
        return self.outcome != "failed"

    def line(self) -> str:
        """One line for people."""
        kind = self.doc_type.replace("_", " ")
        if self.outcome == "failed":
            return f"could not add {self.url}: {self.reason}"
        if self.outcome == "unchanged":
            return f"unchanged {self.url}: already in the index as {self.doc_id} ({kind}); nothing re-embedded"
        what = f"{self.doc_id} ({kind}, {self.passages} passage{'' if self.passages == 1 else 's'})"
        if self.outcome == "new version":
            return f"new version of {self.url}: added as {what}; earlier version(s) kept: {', '.join(self.earlier)}"
        return f"{self.outcome} {self.url} as {what}"


def read_manifest(path: Path) -> list[dict]:
    """The ``[[source]]`` entries of a manifest, each with a url; raises DossierError when malformed."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except OSError as err:
        raise DossierError(f"cannot read the manifest {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise DossierError(f"the manifest {path} is not valid TOML ({err})") from None
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise DossierError(f"the manifest {path}: 'source' must be a list of [[source]] tables")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise DossierError(f"the manifest {path}: source {number} has no url")
        unknown = set(entry) - MANIFEST_FIELDS
        if unknown:
            raise DossierError(f"the manifest {path}: source {number} has unknown fields {sorted(unknown)}")
        if any(not isinstance(v, str) for v in entry.values()):
            raise DossierError(f"the manifest {path}: source {number}: every value must be a quoted string")
    return entries


def add_urls(pipeline, entries: list[dict], doc_type: str | None = None, guard: bool = False,
             progress=None) -> list[Added]:
    """Add each ``{"url": ..., optional fields}``; one URL failing never stops the others."""
    _check_type(doc_type)
    results = []
    for entry in entries:
        try:
            results.append(add_url(pipeline, entry["url"], doc_type=doc_type, given=entry, guard=guard,
                                   progress=progress))
        except DossierError as err:  # FetchError, LoadError, a busy index: that URL's line says so
            reason = getattr(err, "reason", None) or str(err)
            results.append(Added(url=entry["url"], outcome="failed", reason=" ".join(reason.split())))
    return results


def add_url(pipeline, url: str, doc_type: str | None = None, given: dict | None = None, guard: bool = False,
            progress=None) -> Added:
    """Fetch, keep and ingest one URL; ``given`` fields (a manifest's) beat what the page says.

    ``guard`` is for requests from the web app: only public addresses are fetched.
    """
    settings = pipeline.settings
    given = {k: v for k, v in (given or {}).items() if k != "url" and v}
    doc_type = _check_type(doc_type or given.pop("type", None))
    fetched = fetch(url, settings, guard=guard)
    fields, text, canonical = _fields(fetched, doc_type, given)
    version = content_hash(text, 8)
    slug = slug_for(fetched.url)
    folder = settings.sources_dir / slug
    target = folder / f"{version}.{EXTENSIONS[fetched.kind]}"
    fields["id"] = clean_id(f"{slug}-{version}")
    with ingesting.writing(settings):
        folder.mkdir(parents=True, exist_ok=True)
        earlier = sorted(p for p in folder.iterdir() if p.suffix != ".json" and p != target and not p.name.startswith("."))
        fresh = not target.exists()
        if fresh:
            target.write_bytes(fetched.data)
        _write_record(target, fetched, fields, canonical)
        try:
            report = pipeline.ingest([target], progress=progress, prune=False, locked=True)
            if report.errors:
                raise LoadError(url, report.errors[0][1])
        except BaseException:
            if fresh:
                _remove(target)
            raise
    doc_id = (report.added + report.updated + report.unchanged or [fields["id"]])[0]
    if report.unchanged:
        outcome = "unchanged"
    elif fresh and earlier:
        outcome = "new version"
    else:
        outcome = "updated" if report.updated else "added"  # updated: same text, other fields (a new --type)
    return Added(url=url, outcome=outcome, doc_id=doc_id, doc_type=fields["type"],
                 chunks_embedded=report.chunks_embedded, passages=report.chunks_embedded + report.chunks_reused,
                 earlier=[_id_of(p) for p in earlier])


def _check_type(doc_type: str | None) -> str | None:
    if doc_type is not None and not DOC_TYPE.fullmatch(doc_type):
        raise DossierError(f"'{doc_type}' is not a document type (lower-case letters, digits and _)")
    return doc_type


def _fields(fetched: Fetched, doc_type: str | None, given: dict) -> tuple[dict, str, str]:
    """The document's fields (given ones first, then the page's own, then the URL's), its text, and
    the URL the page claims as its own (recorded, never cited: any page can claim any URL)."""
    with tempfile.TemporaryDirectory(prefix="dossier-fetch-") as tmp:
        probe = Path(tmp) / f"untitled.{EXTENSIONS[fetched.kind]}"
        probe.write_bytes(fetched.data)
        try:
            doc = load(probe)
        except LoadError as err:  # no text, a broken PDF: said of the URL, not of the temporary file
            raise LoadError(fetched.url, err.reason) from None
    title = doc.title if doc.title != "untitled" else ""
    fields = {
        "title": given.get("title") or title or fetched.final_url,
        "publisher": given.get("publisher") or doc.publisher or publisher_of(fetched.final_url),
        "author": given.get("author") or doc.author,
        "published": given.get("published") or doc.published,
        # The citation links to where the bytes came from; the page's own claim is kept in the record.
        "url": fetched.final_url,
        "type": doc_type or infer_type(fetched.final_url),
    }
    return fields, doc.text, doc.url


def _write_record(target: Path, fetched: Fetched, fields: dict, canonical: str) -> None:
    side = sidecar_of(target)
    record = {"url": fetched.url, "final_url": fetched.final_url, "fetched_at": fetched.fetched_at,
              "status": fetched.status, "content_type": fetched.content_type, "sniffed": fetched.kind,
              "sha256": fetched.sha256, "bytes": len(fetched.data), "canonical_url": canonical, "document": fields}
    if side.is_file():  # the same version fetched again: the first fetch's record stays, with the last check
        try:
            first = json.loads(side.read_text("utf-8"))
            record = {**first, "document": fields, "checked_at": fetched.fetched_at}
        except (OSError, ValueError):
            pass
    side.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _remove(target: Path) -> None:
    target.unlink(missing_ok=True)
    sidecar_of(target).unlink(missing_ok=True)


def _id_of(path: Path) -> str:
    try:
        return json.loads(sidecar_of(path).read_text("utf-8"))["document"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return path.name



UI_MOST_URLS = 10  # per request from the web app: one click cannot make the server fetch a long list


def from_ui(pipeline, text: str) -> str:
    """Add the addresses typed in the web app (one per line); a Markdown message, one line per URL.

    Requests from the web app are made by the server, so only public addresses are fetched.
    """
    from app.render import escape_markdown

    urls = list(dict.fromkeys((text or "").split()))
    if not urls:
        raise DossierError("type the address of a web page or PDF (https://…)")
    if len(urls) > UI_MOST_URLS:
        raise DossierError(f"{len(urls)} addresses given; add at most {UI_MOST_URLS} at a time")
    results = add_urls(pipeline, [{"url": url} for url in urls], guard=True)
    lines = [("" if r.ok else "**Not added:** ") + escape_markdown(r.line()) for r in results]
    return "\n\n".join(lines)
