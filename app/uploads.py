"""Uploads: a file from the upload box becomes a document kept in the upload folder, or nothing.

The order matters: the file is checked where it lies, then the writer lock is taken, and only
then is it copied into the upload folder and ingested. A refused or failed upload leaves no file
behind, and an upload never replaces another document: a taken id gets a hashed suffix instead
(see ``ingest.own_id``). Because the upload folder is ingested with the corpus at every start,
uploads survive restarts and rebuilds, and a killed upload is completed at the next start.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from pathlib import Path

from app import ingest as ingesting
from app.loaders import LoadError, load, name_hash
from app.records import DossierError
from app.render import escape_markdown

NAME_LIMIT = 100  # characters of the stem kept; file systems allow 255 bytes

log = logging.getLogger("dossier")


def stored_name(client_name: str) -> str:
    """A safe name in the upload folder for a name a client sent (treated as hostile).

    Folders, leading dots, control and punctuation characters are dropped, non-Latin letters
    kept; "README" names are prefixed, since folder ingest skips READMEs as provenance notes.
    """
    name = Path(client_name.replace("\\", "/")).name
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^\w.\- ]+", "-", stem).strip(" .-")[:NAME_LIMIT].strip(" .-")
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    if not stem:
        stem = f"upload-{name_hash(name)}"
    elif stem.lower().startswith("readme"):
        stem = f"upload-{stem}"
    return f"{stem}.{suffix}" if suffix else stem


def _target(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Where the bytes go, and whether they must be copied (False: the same file is already there)."""
    target = folder / name
    if target.exists() and target.read_bytes() != data:
        stem, dot, suffix = name.rpartition(".")
        hashed = f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}"
        target = folder / (f"{hashed}.{suffix}" if dot else hashed)
        if target.exists() and target.read_bytes() != data:
            raise DossierError(f"{name} was not added: a different file is already kept under that name")
    return target, not target.exists()


def add(pipeline, source: Path, client_name: str | None = None, progress=None) -> str:
    """Check, keep and ingest one uploaded file; a Markdown message for the user, or a DossierError
    in plain text (the page shows it both as a notice and, escaped, in Markdown).

    ``source`` is a file the server itself received (the caller checks where it came from);
    ``client_name`` is the name the user gave it (default: the source's own name).
    """
    try:
        message = _add(pipeline, source, client_name, progress)
    except DossierError as err:
        log.info("upload not added: %s", err)
        raise
    log.info("upload of %s: %s", stored_name(client_name or source.name), message)
    return message


def _add(pipeline, source: Path, client_name: str | None, progress) -> str:
    settings = pipeline.settings
    name = stored_name(client_name or source.name)
    size_mb = source.stat().st_size / 1e6
    if size_mb > settings.max_upload_mb:
        raise DossierError(f"{name} is {size_mb:.1f} MB; the limit is {settings.max_upload_mb:g} MB")
    try:
        load(source)
    except LoadError as err:
        raise DossierError(f"{name} was not added: {err.reason}") from None
    data = source.read_bytes()
    with ingesting.writing(settings):
        settings.upload_dir.mkdir(parents=True, exist_ok=True)
        target, fresh = _target(settings.upload_dir, name, data)
        if fresh:
            shutil.copyfile(source, target)
        try:
            report = pipeline.ingest([target], progress=progress, prune=False, locked=True)
            if report.errors:
                raise DossierError(f"{name} was not added: {report.errors[0][1]}")
        except BaseException:
            if fresh:
                target.unlink(missing_ok=True)
            raise
    return _message(escape_markdown(name), target, name, report)


def _message(shown: str, target: Path, name: str, report: ingesting.IngestReport) -> str:
    doc_id = (report.added + report.updated + report.unchanged or ["?"])[0]
    if report.unchanged:
        return f"**{shown}** is already in the index as document `{doc_id}`."
    # In the user's words, not the ingest report's (added/updated/unchanged/removed, chunks embedded)
    passages = report.chunks_embedded + report.chunks_reused
    text = (f"Added **{shown}** as document `{doc_id}`: {passages} passage{'' if passages == 1 else 's'}, "
            "searchable now.")
    if target.name != name:
        text += f" A different file of that name was added before; this one is kept as {escape_markdown(target.name)}."
    if str(target.resolve()) in report.renamed:
        wanted, _ = report.renamed[str(target.resolve())]
        text += f" The id `{wanted}` belongs to another document, so this one was given its own id; both are kept."
    return text + " Ask about it in the Chat tab."
