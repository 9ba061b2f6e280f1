"""Storing: chunks and their vectors in Chroma, embedded or on a server. The only chromadb import.

Reads go through Chroma's own query API rather than langchain-chroma's vector store: on a
collection configured through Chroma 1.x's ``configuration`` (cosine space), langchain-chroma's
relevance scores came back as raw distances (0.005 for the closest match), and the scores are
shown to users and fused here, so they must be right.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlparse

from app.records import Chunk, DossierError, content_hash
from app.settings import Settings

PAGE_SIZE = 5000  # rows fetched per ``get`` so a large index never loads in one call
CHANGES_RECORDED = 200  # documents listed with a generation; a larger change makes readers compare everything
MANIFEST_FORMAT = 1  # of the saved manifest; bump when what is saved changes


class StoreError(DossierError):
    """The index cannot be reached or used; the message says what to do."""


@dataclass
class DocState:
    """What the index holds for one document, derived from its chunks' metadata."""

    doc_id: str
    source: str
    title: str
    publisher: str
    published: str
    doc_type: str
    hashes: set[str] = field(default_factory=set)
    chunk_ids: set[str] = field(default_factory=set)
    expected: set[int] = field(default_factory=set)  # chunk counts the chunks say the document has
    file: dict | None = None  # what ingest saw of the source file (size, mtime, ...), kept in the manifest

    def to_json(self) -> dict:
        """The state as JSON values (sets as sorted lists)."""
        return {"doc_id": self.doc_id, "source": self.source, "title": self.title, "publisher": self.publisher,
                "published": self.published, "doc_type": self.doc_type, "hashes": sorted(self.hashes),
                "chunk_ids": sorted(self.chunk_ids), "expected": sorted(self.expected), "file": self.file}

    @classmethod
    def from_json(cls, raw: dict) -> DocState:
        """The inverse of ``to_json``; raises KeyError or TypeError on a malformed entry."""
        return cls(raw["doc_id"], raw["source"], raw["title"], raw["publisher"], raw["published"], raw["doc_type"],
                   set(raw["hashes"]), set(raw["chunk_ids"]), set(raw["expected"]),
                   raw["file"] if isinstance(raw.get("file"), dict) else None)


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as err:  # chromadb raises ValueError, httpx errors, ...: all mean "unreachable"
            raise StoreError(f"Chroma server at {settings.chroma_url} does not answer ({err})") from None
        return client
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def embedded_text(chunk: Chunk) -> str:
    """What the model embeds for a chunk.

    The chunk text alone: a title header in front (tried) made every chunk of a one-document
    corpus look alike to the model and lowered recall on the eval set (now evals/dev.jsonl). Kept as one function,
    with its hash stored, so a change here re-embeds exactly what it affects.
    """
    return chunk.text


def _to_meta(chunk: Chunk) -> dict:
    # Chroma metadata values cannot be None: page 0 means "no page".
    return {**chunk.meta, "doc_id": chunk.doc_id, "start": chunk.start, "end": chunk.end,
            "page": chunk.page or 0, "embed_hash": content_hash(embedded_text(chunk))}


def _to_chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    doc_meta = {k: v for k, v in meta.items() if k not in ("start", "end", "page", "n_chunks", "embed_hash")}
    return Chunk(chunk_id, meta["doc_id"], text, int(meta["start"]), int(meta["end"]),
                 int(meta.get("page") or 0) or None, doc_meta)


class Store:
    """The Chroma collection behind Dossier."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = settings.chroma_url or str(settings.index_dir.resolve())
        self._client = None
        self._touched: set[str] = set()  # documents written or deleted since the last bump_generation()
        self._files: dict[str, dict] = {}  # doc id -> file record, for the next manifest (remember_files)
        self._seen: tuple[int, dict[str, DocState]] | None = None  # (generation, states) last read or saved here

    @property
    def client(self):
        """The Chroma client, connected on first use."""
        if self._client is None:
            self._client = _client(self.settings)
        return self._client

    def exists(self) -> bool:
        """Whether an index has been built here."""
        if not self.settings.chroma_url and not (self.settings.index_dir / "chroma.sqlite3").exists():
            return False
        return self.settings.collection in [c.name for c in self.client.list_collections()]

    def info(self) -> dict:
        """The collection's own metadata: fingerprint, model, generation."""
        return dict(self.collection(create=False).metadata or {})

    def collection(self, create: bool = False):
        """The collection; raises StoreError when it is missing and not to be created.

        Looked up on every call rather than cached: another process may have rebuilt it, and a
        stale handle would fail with "collection does not exist" (a lookup costs about a millisecond).
        """
        if create:
            return self.client.get_or_create_collection(
                self.settings.collection,
                metadata={"fingerprint": self.settings.fingerprint(),
                          "model": self.settings.embedding_model, "generation": 0},
                configuration={"hnsw": {"space": "cosine"}},
            )
        from chromadb.errors import NotFoundError

        missing = StoreError(f"no index at {self.location}: run 'dossier ingest' first")
        if not self.settings.chroma_url and not (self.settings.index_dir / "chroma.sqlite3").exists():
            raise missing  # checked first so a wrong folder is never turned into an empty index
        try:
            return self.client.get_collection(self.settings.collection)
        except NotFoundError:
            raise missing from None

    def reset(self) -> None:
        """Drop the collection (used when the model or chunking settings changed)."""
        if self.settings.collection in [c.name for c in self.client.list_collections()]:
            self.client.delete_collection(self.settings.collection)

    def bump_generation(self) -> int:
        """Mark the index as changed so readers update their lexical index.

        The documents this store wrote or deleted since the last bump are recorded with the new
        generation (up to CHANGES_RECORDED of them), so a reader one generation behind re-reads
        just those instead of every chunk's metadata (4.4 s at 51,000 chunks). The manifest is
        saved for the new generation, so ``doc_states`` need not read every chunk either.
        """
        generation = self.generation()
        if self._seen is not None and self._seen[0] == generation:
            # Read by this ingest under the writer lock: since then only this store's writes changed
            # anything, and those are re-read below.
            states, read = dict(self._seen[1]), set()
        else:
            states, read = self._states_at(generation)  # the manifest being left, checked against the ids
        if read is not None:
            # Re-read what this store touched: a new title keeps the chunk ids, which doc_states compares.
            touched = self._touched - read
            states = {d: s for d, s in states.items() if d not in touched} | self._read_states(touched)
        col = self.collection()
        meta = dict(col.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        changed = "\n".join(sorted(self._touched))
        meta["changed"] = changed if len(self._touched) <= CHANGES_RECORDED and len(changed) < 20000 else "*"
        col.modify(metadata=meta)
        self._touched = set()
        self._attach_files(states)
        self._save_manifest(states, meta["generation"])
        self._seen = (meta["generation"], states)
        return meta["generation"]

    def changed_documents(self, generation: int) -> set[str] | None:
        """The documents changed by the ingest that made ``generation``, if it is current and they were recorded."""
        meta = self.collection().metadata or {}
        changed = meta.get("changed")
        if int(meta.get("generation", 0)) != generation or not isinstance(changed, str) or changed == "*":
            return None
        return set(changed.split("\n")) - {""}

    def collection_id(self) -> str:
        """Changes when the collection is dropped and made again, whatever its generation counter says."""
        return str(self.collection().id)

    def ids_by_document(self) -> dict[str, set[str]]:
        """Every chunk id, per document, without reading any metadata (0.3 s at 51,000 chunks).

        Chunk ids are ``<doc_id>:<hash of the text>`` (``Chunk.make_id``).
        """
        col, out, offset = self.collection(), {}, 0
        while True:
            ids = col.get(include=[], limit=PAGE_SIZE * 4, offset=offset)["ids"]
            for chunk_id in ids:
                out.setdefault(chunk_id.rsplit(":", 1)[0], set()).add(chunk_id)
            if len(ids) < PAGE_SIZE * 4:
                return out
            offset += PAGE_SIZE * 4

    def generation(self) -> int:
        """A counter that changes whenever an ingest changed the index."""
        return int((self.collection().metadata or {}).get("generation", 0))

    def _pages(self, include: list[str], where: dict | None = None) -> Iterable[tuple[str, dict, str | None]]:
        col = self.collection()
        offset = 0
        while True:
            got = col.get(include=include, where=where, limit=PAGE_SIZE, offset=offset)
            docs = got.get("documents") or [None] * len(got["ids"])
            yield from zip(got["ids"], got["metadatas"], docs)
            if len(got["ids"]) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _read_states(self, doc_ids: Iterable[str] | None = None) -> dict[str, DocState]:
        """Per document, read from its chunks' metadata: every document, or only these (a ``where`` filter)."""
        states: dict[str, DocState] = {}
        wanted = sorted(set(doc_ids)) if doc_ids is not None else None
        wheres = [None] if wanted is None else \
            [{"doc_id": {"$in": wanted[i:i + 500]}} for i in range(0, len(wanted), 500)]
        for where in wheres:
            for chunk_id, meta, _ in self._pages(["metadatas"], where):
                state = states.setdefault(meta["doc_id"], DocState(
                    meta["doc_id"], meta.get("source", ""), meta.get("title", ""), meta.get("publisher", ""),
                    meta.get("published", ""), meta.get("doc_type", "")))
                state.hashes.add(meta.get("doc_hash", ""))
                state.chunk_ids.add(chunk_id)
                state.expected.add(int(meta.get("n_chunks", -1)))
        return states

    def doc_states(self) -> dict[str, DocState]:
        """Per document: its source, content hashes and chunk ids, as its chunks say.

        Read from the manifest saved beside the index when it was saved at the store's current
        generation, checked against the chunk ids (which change with any text): a document whose
        ids disagree, or that the manifest lacks, is read from its chunks' metadata alone. Without a
        usable manifest every chunk's metadata is read (6 s at 51,000 chunks, 0.3 s with one).
        """
        generation = self.generation()
        states, read = self._states_at(generation)
        if read is None or read:
            self._save_manifest(states, generation)
        self._seen = (generation, states)
        return dict(states)

    def _states_at(self, generation: int) -> tuple[dict[str, DocState], set[str] | None]:
        """The states, and the documents just read from their chunks because the manifest saved
        at this generation lacked them or was wrong about them (None: it was missing, all were read)."""
        ids = self.ids_by_document()
        saved = self._load_manifest(generation)
        if saved is None:
            return self._read_states(), None
        states = {d: s for d, s in saved.items() if d in ids and s.chunk_ids == ids[d]}
        unsure = {d for d in ids if d not in states}
        if unsure:
            states.update(self._read_states(unsure))
        return states, unsure | (set(saved) - set(states))

    # --- the manifest: the documents' states, saved so a new process need not read every chunk ----

    @property
    def _manifest_path(self) -> Path:
        return self.settings.index_dir / f"manifest-{self.settings.collection}.json"

    def _stamp(self, generation: int) -> dict:
        return {"format": MANIFEST_FORMAT, "location": self.location, "collection": self.collection_id(),
                "fingerprint": self.settings.fingerprint(), "generation": generation}

    def _load_manifest(self, generation: int) -> dict[str, DocState] | None:
        """The saved states if they were saved at this generation of this collection, else None."""
        try:
            raw = json.loads(self._manifest_path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or raw.get("stamp") != self._stamp(generation):
                return None
            return {d: DocState.from_json(s) for d, s in raw["documents"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _save_manifest(self, states: dict[str, DocState], generation: int) -> None:
        """Write the states for this generation; a folder that cannot be written only costs speed."""
        path = self._manifest_path
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"stamp": self._stamp(generation),
                                       "documents": {d: s.to_json() for d, s in states.items()}}), encoding="utf-8")
            os.replace(tmp, path)  # readers see the old manifest or the new one, never half of one
        except OSError:
            tmp.unlink(missing_ok=True)

    def remember_files(self, files: dict[str, dict]) -> None:
        """What ingest saw of these documents' files, saved with the manifest by the next
        ``bump_generation`` or ``save_manifest`` (a document changed since loses its record)."""
        self._files.update(files)

    def save_manifest(self) -> None:
        """Save the manifest at the current generation with the files remembered; for an ingest that changed nothing."""
        if not self._files:
            return
        generation = self.generation()
        # The states this ingest read (under the writer lock, nothing written since) or read anew.
        states = dict(self._seen[1]) if self._seen is not None and self._seen[0] == generation else self.doc_states()
        self._attach_files(states)
        self._save_manifest(states, generation)
        self._seen = (generation, states)

    def _attach_files(self, states: dict[str, DocState]) -> None:
        for doc_id, record in self._files.items():
            if doc_id in states:
                states[doc_id].file = record
        self._files = {}

    def chunks(self, doc_id: str | None = None) -> list[Chunk]:
        """Every stored chunk (of one document, if given), in document order."""
        where = {"doc_id": doc_id} if doc_id else None
        out = [_to_chunk(i, text or "", meta) for i, meta, text in self._pages(["metadatas", "documents"], where)]
        return sorted(out, key=lambda c: (c.doc_id, c.start))

    def known_vectors(self, chunks: list[Chunk]) -> dict[str, list[float]]:
        """Stored vectors still valid for these chunks: same id and same embedded text.

        A chunk whose text is unchanged keeps its vector even when its offsets moved.
        """
        col = self.collection(create=True)
        vectors: dict[str, list[float]] = {}
        for i in range(0, len(chunks), PAGE_SIZE):
            part = chunks[i:i + PAGE_SIZE]
            wanted = {c.chunk_id: content_hash(embedded_text(c)) for c in part}
            known = col.get(ids=list(wanted), include=["embeddings", "metadatas"])
            vectors.update({cid: list(v) for cid, v, m in zip(known["ids"], known["embeddings"], known["metadatas"])
                            if m.get("embed_hash") == wanted[cid]})
        return vectors

    def write(self, chunks: list[Chunk], vectors: dict[str, list[float]], batch: int = 1000) -> None:
        """Upsert chunks with their vectors."""
        col = self.collection(create=True)
        self._touched.update(c.doc_id for c in chunks)
        for i in range(0, len(chunks), batch):
            part = chunks[i:i + batch]
            col.upsert(ids=[c.chunk_id for c in part], embeddings=[vectors[c.chunk_id] for c in part],
                       documents=[c.text for c in part], metadatas=[_to_meta(c) for c in part])

    def delete(self, chunk_ids: Iterable[str]) -> None:
        """Remove chunks by id."""
        ids = list(chunk_ids)
        self._touched.update(i.rsplit(":", 1)[0] for i in ids)
        for i in range(0, len(ids), PAGE_SIZE):
            self.collection().delete(ids=ids[i:i + PAGE_SIZE])

    def dense(self, vector: list[float], k: int) -> list[tuple[Chunk, float]]:
        """The k chunks nearest the vector, with cosine similarity."""
        col = self.collection()
        res = col.query(query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"])
        return [(_to_chunk(i, text, meta), 1.0 - float(dist)) for i, text, meta, dist in
                zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]

    def count(self) -> int:
        """Number of stored chunks."""
        return self.collection().count()

    def langchain_vectorstore(self, embeddings):
        """The same collection as a LangChain vector store (used by the eval baseline)."""
        from langchain_chroma import Chroma

        return Chroma(client=self.client, collection_name=self.settings.collection, embedding_function=embeddings)
