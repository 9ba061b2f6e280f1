"""The store's manifest: document states saved beside the index, never trusted over the chunks."""

import json

import pytest

from app.store import Store


def full_read(pipeline) -> dict:
    """Document states as every chunk's metadata says, with no manifest involved."""
    return {d: (s.source, s.title, s.hashes, s.chunk_ids, s.expected)
            for d, s in Store(pipeline.settings)._read_states().items()}


def states(pipeline) -> dict:
    return {d: (s.source, s.title, s.hashes, s.chunk_ids, s.expected) for d, s in pipeline.store.doc_states().items()}


def manifest(pipeline):
    return pipeline.settings.index_dir / f"manifest-{pipeline.settings.collection}.json"


def test_an_ingest_saves_a_manifest_that_answers_without_reading_chunk_metadata(small, monkeypatch):
    small.ingest()
    expected = full_read(small)
    assert manifest(small).exists() and set(expected) == {"bridge", "lighthouse", "museum", "orchard"}

    def no_metadata(self, doc_ids=None):
        raise AssertionError(f"read chunk metadata of {doc_ids or 'every document'}")
    monkeypatch.setattr(Store, "_read_states", no_metadata)
    assert states(small) == expected


def test_a_missing_manifest_means_reading_every_chunk_and_saving_it_again(small):
    small.ingest()
    expected = full_read(small)
    manifest(small).unlink()
    assert states(small) == expected
    assert set(json.loads(manifest(small).read_text())["documents"]) == set(expected)


def test_a_manifest_from_another_generation_is_not_used(small):
    small.ingest()
    expected = full_read(small)
    saved = json.loads(manifest(small).read_text())
    saved["stamp"]["generation"] -= 1
    saved["documents"]["orchard"]["title"] = "A title the chunks never had"
    manifest(small).write_text(json.dumps(saved))
    assert states(small) == expected


def test_a_manifest_that_disagrees_with_the_chunks_is_corrected_from_them(small):
    small.ingest()
    expected = full_read(small)
    saved = json.loads(manifest(small).read_text())
    del saved["documents"]["bridge"]  # a document the manifest lacks
    saved["documents"]["phantom"] = {**saved["documents"]["museum"], "doc_id": "phantom"}  # one the store lacks
    saved["documents"]["orchard"]["chunk_ids"] = ["orchard:0000"]  # one whose chunks changed
    manifest(small).write_text(json.dumps(saved))
    assert states(small) == expected
    assert set(json.loads(manifest(small).read_text())["documents"]) == set(expected)  # saved corrected


def test_chunks_changed_without_a_new_generation_are_seen(small):
    small.ingest()
    lost = sorted(small.store.doc_states()["lighthouse"].chunk_ids)[:1]
    small.store.delete(lost)  # what a process killed before bump_generation leaves
    assert states(small) == full_read(small) and not set(lost) & small.store.doc_states()["lighthouse"].chunk_ids


def test_a_new_title_alone_reaches_the_manifest(small):
    small.ingest()
    path = small.settings.corpus_dir / "lighthouse.md"
    text = path.read_text()
    assert text.startswith("---\n") and "\ntitle:" in text
    path.write_text("\n".join("title: The Lighthouse Renamed" if line.startswith("title:") else line
                              for line in text.split("\n")))
    before = small.store.doc_states()["lighthouse"].chunk_ids
    small.ingest()
    after = small.store.doc_states()["lighthouse"]
    assert after.chunk_ids == before and after.title == "The Lighthouse Renamed"
    assert states(small) == full_read(small)


@pytest.mark.parametrize("garbage", ["", "not json", "[1, 2]", '{"stamp": {}, "documents": 3}'])
def test_an_unreadable_manifest_is_ignored(small, garbage):
    small.ingest()
    expected = full_read(small)
    manifest(small).write_text(garbage)
    assert states(small) == expected
