"""Removing documents: uploads go with their file, corpus documents are refused, BM25 follows."""

import logging

import pytest

from app import removal, uploads
from app.cli import main
from app.records import DossierError

CANAL = "The Zephyr Canal opened to barge traffic in 1887. It is forty miles long.\n"


def canal(small, tmp_path) -> str:
    """An uploaded document in the small pipeline; its id."""
    note = tmp_path / "canal-history.txt"
    note.write_text(CANAL)
    small.ingest()
    uploads.add(small, note)
    return next(d["doc_id"] for d in small.stats()["documents"] if d["title"].lower().startswith("canal"))


def found(small, word: str) -> set[str]:
    return {chunk.doc_id for chunk, _ in small.retriever.lexical.search([word], 5)}


def test_an_uploaded_document_leaves_the_index_bm25_and_the_upload_folder(small, tmp_path):
    doc_id = canal(small, tmp_path)
    assert found(small, "zephyr") == {doc_id} and (small.settings.upload_dir / "canal-history.txt").exists()
    others = {d["doc_id"] for d in small.stats()["documents"]} - {doc_id}
    done = removal.remove(small, doc_id)
    assert done.doc_id == doc_id and done.chunks == 1
    assert done.deleted_file.endswith("canal-history.txt")
    assert not (small.settings.upload_dir / "canal-history.txt").exists()
    assert {d["doc_id"] for d in small.stats()["documents"]} == others
    assert found(small, "zephyr") == set()
    small.ingest()  # the next start's ingest does not bring it back
    assert doc_id not in {d["doc_id"] for d in small.stats()["documents"]}


def test_only_documents_added_outside_the_corpus_folder_are_offered_for_removal(small, tmp_path):
    doc_id = canal(small, tmp_path)
    assert [d for _, d in removal.removable(small)] == [doc_id]


def test_a_corpus_document_is_refused_with_what_to_do_instead(small):
    small.ingest()
    before = small.stats()
    doc_id = before["documents"][0]["doc_id"]
    with pytest.raises(DossierError, match="comes from the corpus folder.*delete .* and run 'dossier ingest'"):
        removal.remove(small, doc_id)
    assert small.stats() == before and all(p.exists() for p in small.settings.corpus_dir.iterdir())


def test_an_unknown_or_missing_id_is_a_clear_error(small):
    small.ingest()
    for doc_id in ("no-such-document", "", None, ["lighthouse"]):
        with pytest.raises(DossierError, match="no document|choose a document"):
            removal.remove(small, doc_id)


def test_a_document_ingested_from_elsewhere_leaves_the_index_but_its_file_stays(small, tmp_path):
    outside = tmp_path / "elsewhere" / "canal.txt"
    outside.parent.mkdir()
    outside.write_text(CANAL)
    small.ingest()
    small.ingest([outside])
    done = removal.remove(small, "canal")
    assert done.deleted_file is None and outside.exists() and found(small, "zephyr") == set()


def test_dossier_remove(small, tmp_path, monkeypatch, capsys):
    doc_id = canal(small, tmp_path)
    for name, value in (("INDEX_DIR", small.settings.index_dir), ("CORPUS_DIR", small.settings.corpus_dir),
                        ("UPLOAD_DIR", small.settings.upload_dir), ("CHUNK_SIZE", 120)):
        monkeypatch.setenv(f"DOSSIER_{name}", str(value))
    monkeypatch.delenv("DOSSIER_CHROMA_URL", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["remove", doc_id])
    assert done.value.code == 0 and f"removed {doc_id}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["remove", "lighthouse"])
    assert done.value.code == 1 and "comes from the corpus folder" in capsys.readouterr().err


def test_uploads_and_removals_are_logged_for_the_operator(small, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dossier")
    doc_id = canal(small, tmp_path)
    removal.remove(small, doc_id)
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"PK\x03\x04")
    with pytest.raises(DossierError):
        uploads.add(small, bad)
    lines = [r.getMessage() for r in caplog.records if r.name == "dossier"]
    assert any(line.startswith("upload of canal-history.txt: Added") for line in lines)
    assert any(line.startswith(f"removed {doc_id} (1 passages, its file deleted)") for line in lines)
    assert any(line.startswith("upload not added: notes.docx") for line in lines)

