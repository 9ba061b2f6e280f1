import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from app.ingest import writer_lock
from app.pipeline import Pipeline
from app.records import DossierError
from tests.conftest import FIXTURES, make_settings


def ids_by_doc(pipeline):
    return {d: s.chunk_ids for d, s in pipeline.store.doc_states().items()}


def test_ingest_loads_every_supported_format_and_reports_counts(small):
    report = small.ingest()
    assert sorted(report.added) == ["bridge", "lighthouse", "museum", "orchard"]
    assert report.chunks_embedded == small.store.count() > 0 and not report.errors
    assert small.stats()["document_count"] == 4


def test_ingesting_twice_changes_nothing_and_embeds_nothing(small):
    small.ingest()
    before = ids_by_doc(small)
    generation = small.store.generation()
    again = small.ingest()
    assert again.unchanged and not again.changed and again.chunks_embedded == 0
    assert ids_by_doc(small) == before and small.store.generation() == generation


def test_editing_a_document_replaces_only_its_changed_chunks(small):
    small.ingest()
    before = ids_by_doc(small)
    path = small.settings.corpus_dir / "orchard.txt"
    path.write_text(path.read_text() + "\nA cider press opened in 2021. It presses apples from the orchard.\n")
    report = small.ingest()
    after = ids_by_doc(small)
    assert report.updated == ["orchard"] and sorted(report.unchanged) == ["bridge", "lighthouse", "museum"]
    assert {d: after[d] for d in after if d != "orchard"} == {d: before[d] for d in before if d != "orchard"}
    assert after["orchard"] != before["orchard"]
    assert report.chunks_reused >= 1  # the untouched opening passage kept its vector
    texts = [c.text for c in small.store.chunks("orchard")]
    assert any("cider press" in t for t in texts) and len(texts) == len(set(texts))


def test_a_document_removed_from_the_folder_is_removed_from_the_index(small):
    small.ingest()
    (small.settings.corpus_dir / "museum.html").unlink()
    report = small.ingest()
    assert report.removed == ["museum"] and "museum" not in ids_by_doc(small)


def test_a_bad_file_is_reported_and_the_rest_is_ingested(small):
    for name in ("corrupt.pdf", "latin1.txt", "archive.docx"):
        shutil.copy(FIXTURES / "bad" / name, small.settings.corpus_dir / name)
    report = small.ingest()
    reasons = dict((p.rsplit("/", 1)[-1], r) for p, r in report.errors)
    assert set(reasons) == {"corrupt.pdf", "latin1.txt", "archive.docx"}
    assert "not UTF-8" in reasons["latin1.txt"] and "unsupported" in reasons["archive.docx"]
    assert len(report.added) == 4


def test_a_second_writer_gets_a_clear_error_and_the_index_is_untouched(small):
    small.ingest()
    before = ids_by_doc(small)
    with writer_lock(small.settings):
        with pytest.raises(DossierError, match="another process is writing"):
            small.ingest()
    assert ids_by_doc(small) == before


def test_a_half_finished_ingest_is_repaired_by_the_next_run(small):
    small.ingest()
    before = ids_by_doc(small)
    # What a kill mid-write leaves: some chunks of a document missing, a stale one still there.
    lost = sorted(before["lighthouse"])[:1]
    small.store.delete(lost)
    report = small.ingest()
    assert "lighthouse" in report.updated and ids_by_doc(small) == before


def _dossier(args, env, code=None):
    """Run the real CLI in its own process, as a user would."""
    import os

    full = {**os.environ, **env}
    return subprocess.run([sys.executable, *(["-c", code] if code else ["-m", "app.cli"]), *args],
                          capture_output=True, text=True, env=full, cwd=str(FIXTURES.parent.parent))


def test_a_killed_ingest_process_leaves_an_index_the_next_run_completes(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    env = {"DOSSIER_INDEX_DIR": str(tmp_path / "index"), "DOSSIER_CORPUS_DIR": str(docs),
           "DOSSIER_CHUNK_SIZE": "120"}
    assert _dossier(["ingest"], env).returncode == 0
    (docs / "orchard.txt").write_text("The orchard now grows plums. Plums ripen in August.\n")
    dies_mid_write = textwrap.dedent("""
        import os
        from app import store
        real_write = store.Store.write
        def write(self, chunks, vectors, **kw):
            real_write(self, chunks[:1], vectors, **kw)  # the first chunk lands...
            os._exit(9)                                  # ...then the process is killed
        store.Store.write = write
        from app.cli import main
        main(["ingest"])
    """)
    killed = _dossier([], env, code=dies_mid_write)
    assert killed.returncode == 9, killed.stderr
    repaired = _dossier(["ingest"], env)
    assert repaired.returncode == 0 and "1 updated" in repaired.stdout, repaired.stdout + repaired.stderr
    check = _dossier([], env, code=textwrap.dedent("""
        from app.pipeline import Pipeline
        p = Pipeline()
        print([c.text for c in p.store.chunks("orchard")], p.ingest().changed)
    """))
    assert check.stdout.strip() == "['The orchard now grows plums. Plums ripen in August.'] False", check.stderr


def test_changed_chunking_settings_force_a_rebuild_instead_of_mixing_vectors(small, tmp_path, embedder):
    small.ingest()
    other = Pipeline(make_settings(tmp_path, small.settings.corpus_dir, chunk_size=300), embedder)
    report = other.ingest()
    assert report.rebuilt and len(report.added) == 4
    assert other.store.info()["fingerprint"] == other.settings.fingerprint()


def test_changed_sentence_rules_force_a_rebuild_of_unchanged_documents(small, monkeypatch):
    # unchanged documents are not chunked again, so new splitting rules would never reach an old index
    small.ingest()
    before = small.settings.fingerprint()
    monkeypatch.setattr("app.settings.CHUNKING_VERSION", -1)
    assert small.settings.fingerprint() != before
    report = small.ingest()
    assert report.rebuilt and small.store.info()["fingerprint"] == small.settings.fingerprint()


def test_a_single_file_ingest_does_not_prune_the_rest(small, tmp_path):
    small.ingest()
    extra = tmp_path / "extra.md"
    extra.write_text("---\ntitle: Extra\n---\nThe extra note mentions a blue ferry.\n")
    report = small.ingest([extra])
    assert report.added == ["extra"] and not report.removed
    assert len(ids_by_doc(small)) == 5


def test_a_chroma_server_that_does_not_answer_is_a_clear_error(tmp_path, embedder):
    settings = make_settings(tmp_path, tmp_path).model_copy(update={"chroma_url": "http://127.0.0.1:9"})
    with pytest.raises(DossierError, match="does not answer"):
        Pipeline(settings, embedder).ingest()


def test_a_file_that_became_unreadable_is_reported_and_its_indexed_version_kept(small):
    small.ingest()
    before = ids_by_doc(small)["orchard"]
    (small.settings.corpus_dir / "orchard.txt").write_bytes(b"caf\xe9 broken now")
    report = small.ingest()
    assert [r for _, r in report.errors] == [r for _, r in report.errors if "not UTF-8" in r] != []
    assert report.removed == [] and ids_by_doc(small)["orchard"] == before


def _age(folder, seconds=120):
    """Make every file look last modified ``seconds`` ago (well outside the racy window)."""
    for path in folder.rglob("*"):
        if path.is_file():
            past = time.time() - seconds
            os.utime(path, (past, past))


def _counting_loads(monkeypatch):
    import app.ingest

    loaded = []
    real = app.ingest.load

    def load(path, root=None):
        loaded.append(path.name)
        return real(path, root)
    monkeypatch.setattr(app.ingest, "load", load)
    return loaded


def test_unchanged_files_are_not_read_again(small, monkeypatch):
    _age(small.settings.corpus_dir)
    small.ingest()
    loaded = _counting_loads(monkeypatch)
    report = small.ingest()
    assert loaded == [] and sorted(report.unchanged) == ["bridge", "lighthouse", "museum", "orchard"]
    assert not report.changed


def test_a_changed_file_is_read_and_re_indexed_even_with_the_same_size(small, monkeypatch):
    _age(small.settings.corpus_dir)
    small.ingest()
    path = small.settings.corpus_dir / "orchard.txt"
    text = path.read_text()
    path.write_text(text.replace("orchard", "ORCHARD", 1))  # same size, new text
    os.utime(path, (time.time() - 60, time.time() - 60))
    loaded = _counting_loads(monkeypatch)
    report = small.ingest()
    assert loaded == ["orchard.txt"] and report.updated == ["orchard"]
    assert any("ORCHARD" in c.text for c in small.store.chunks("orchard"))


def test_a_file_modified_just_before_it_was_seen_is_read_again(small, monkeypatch):
    _age(small.settings.corpus_dir, 0)  # modified now: within the racy window of this run
    small.ingest()
    loaded = _counting_loads(monkeypatch)
    report = small.ingest()
    assert sorted(loaded) == ["bridge.pdf", "lighthouse.md", "museum.html", "orchard.txt"]
    assert not report.changed


def test_a_deleted_file_is_pruned_when_the_rest_are_known_from_the_manifest(small, monkeypatch):
    _age(small.settings.corpus_dir)
    small.ingest()
    (small.settings.corpus_dir / "museum.html").unlink()
    loaded = _counting_loads(monkeypatch)
    report = small.ingest()
    assert loaded == [] and report.removed == ["museum"] and "museum" not in ids_by_doc(small)


def test_without_a_manifest_files_are_read_and_the_next_run_trusts_them_again(small, monkeypatch):
    _age(small.settings.corpus_dir)
    small.ingest()
    (small.settings.index_dir / f"manifest-{small.settings.collection}.json").unlink()
    loaded = _counting_loads(monkeypatch)
    assert not small.ingest().changed and len(loaded) == 4
    loaded.clear()
    assert not small.ingest().changed and loaded == []


def test_a_file_known_from_the_manifest_but_half_missing_from_the_index_is_repaired(small, monkeypatch):
    _age(small.settings.corpus_dir)
    small.ingest()
    before = ids_by_doc(small)
    small.store.delete(sorted(before["lighthouse"])[:1])  # a kill mid-write: no new generation, no new manifest
    loaded = _counting_loads(monkeypatch)
    report = small.ingest()
    assert loaded == ["lighthouse.md"] and report.updated == ["lighthouse"] and ids_by_doc(small) == before


def test_the_same_files_ingested_from_another_root_are_read_for_their_new_ids(small, monkeypatch):
    _age(small.settings.corpus_dir)
    small.ingest()
    loaded = _counting_loads(monkeypatch)
    report = small.ingest([small.settings.corpus_dir.parent])  # ids are relative to the folder ingested
    assert len(loaded) == 4 and sorted(report.added) == ["docs/bridge", "docs/lighthouse", "docs/museum", "docs/orchard"]
