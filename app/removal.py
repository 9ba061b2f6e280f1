"""Removing a document: an uploaded or fetched one goes with its file; a corpus one is refused.

The corpus folder is ingested at every start, so a corpus document taken out of the index alone
would come back at the next start: the user is told to delete its file instead (the next ingest
then prunes it). The upload and sources folders are ingested at every start too, so a document
Dossier keeps there (an upload, or one version of a page fetched by URL, with its ``.source.json``
record) has its file deleted first, then its chunks
from the index; BM25 follows, as the lexical index keeps in step with the store's generation. The
file goes first so that a crash in between leaves a document the next ingest prunes, never one
that comes back. A document ingested from anywhere else (``dossier ingest notes/memo.pdf``) leaves
the index, and its file, which is not Dossier's, is left where it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app import ingest as ingesting
from app.loaders import sidecar_of
from app.records import DossierError


log = logging.getLogger("dossier")

@dataclass
class Removed:
    """What a removal did."""

    doc_id: str
    title: str
    chunks: int
    deleted_file: str | None  # Dossier's own copy (an upload or a fetched page) deleted with it, if any


def inside(source: str, folder: Path) -> bool:
    """Whether a document's source file lies in a folder."""
    return bool(source) and Path(source).resolve().is_relative_to(folder.resolve())


def removable(pipeline) -> list[tuple[str, str]]:
    """(title, doc id) of every indexed document that may be removed: all but the corpus folder's."""
    if not pipeline.store.exists():
        return []
    states = pipeline.store.doc_states().values()
    return sorted((s.title or s.doc_id, s.doc_id) for s in states
                  if not inside(s.source, pipeline.settings.corpus_dir))


def check(pipeline, doc_id) -> tuple[str, str | None]:
    """(title, Dossier's own file to delete with it, if any) of a document that may be removed; else a DossierError."""
    state, uploaded = _checked(pipeline, doc_id)
    return state.title or doc_id, uploaded


def _checked(pipeline, doc_id):
    """(state, Dossier's own file to delete with it) of a document that may be removed; see ``check``."""
    settings = pipeline.settings
    if not isinstance(doc_id, str) or not doc_id:
        raise DossierError("choose a document to remove")
    state = pipeline.store.doc_states().get(doc_id) if pipeline.store.exists() else None
    if state is None:
        raise DossierError(f"there is no document '{doc_id}' in the index")
    if inside(state.source, settings.corpus_dir):
        raise DossierError(f"'{state.title or doc_id}' comes from the corpus folder and would come back at the next "
                           f"start: delete {Path(state.source).name} from {settings.corpus_dir} and run "
                           "'dossier ingest' instead")
    owned = inside(state.source, settings.upload_dir) or inside(state.source, settings.sources_dir)
    return state, state.source if owned else None


def remove(pipeline, doc_id) -> Removed:
    """Take one document out of the index (and delete Dossier's own copy of its file); see the module docstring."""
    with ingesting.writing(pipeline.settings):
        state, uploaded = _checked(pipeline, doc_id)  # the states are read once
        chunk_ids = state.chunk_ids
        if uploaded:
            Path(uploaded).unlink(missing_ok=True)
            sidecar_of(Path(uploaded)).unlink(missing_ok=True)  # a fetched page's record of its origin
        pipeline.store.delete(chunk_ids)
        pipeline.store.bump_generation()
    log.info("removed %s (%d passages%s)", doc_id, len(chunk_ids), ", its file deleted" if uploaded else "")
    return Removed(doc_id, state.title or doc_id, len(chunk_ids), uploaded)
