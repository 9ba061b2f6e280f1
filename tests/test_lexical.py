"""The BM25 index: Okapi scores, updates one document at a time, and staying in step with the store."""

from __future__ import annotations

import math
import threading

import pytest

from app.lexical import LexicalIndex
from app.records import Chunk
from app.retrieval import sync
from app.text import stem, tokens

TEXTS = {
    "a:0": "SenseTime makes facial recognition software for police.",
    "a:1": "The Treasury banned investment in SenseTime.",
    "b:0": "The orchard grows apples and pears. Apples ripen in September.",
    "c:0": "Bridges need repairs after the winter floods.",
}


def chunk(chunk_id: str, text: str | None = None, title: str = "") -> Chunk:
    doc_id, n = chunk_id.split(":")
    return Chunk(chunk_id, doc_id, text or TEXTS[chunk_id], int(n) * 100, int(n) * 100 + 50,
                 meta={"title": title, "doc_hash": f"h-{doc_id}"})


def okapi(docs: list[list[str]], query: list[str], k1=1.5, b=0.75, eps=0.25) -> list[float]:
    """BM25 Okapi written out plainly (rank_bm25's definition, with its floor for common terms)."""
    n, avgdl = len(docs), sum(map(len, docs)) / len(docs)
    df = {t: sum(t in d for d in docs) for d in docs for t in d}
    idf = {t: math.log(n - f + 0.5) - math.log(f + 0.5) for t, f in df.items()}
    floor = eps * sum(idf.values()) / len(idf)
    idf = {t: floor if v < 0 else v for t, v in idf.items()}
    return [sum(idf.get(q, 0) * d.count(q) * (k1 + 1) / (d.count(q) + k1 * (1 - b + b * len(d) / avgdl))
                for q in query) for d in docs]


def test_scores_are_bm25_okapi_with_the_floor_for_common_terms():
    chunks = [chunk(c) for c in TEXTS]
    index = LexicalIndex(chunks)
    for query in (tokens("SenseTime investment"), tokens("apples apples"), tokens("SenseTime")):
        expected = okapi([tokens(c.text) for c in chunks], query)
        got = {c.chunk_id: s for c, s in index.search(query, k=10)}
        assert got == {c.chunk_id: pytest.approx(s, rel=1e-12) for c, s in zip(chunks, expected) if s > 0}


def same(got, expected) -> bool:
    """Same chunks in the same order with the same scores (to rounding: sums may run in another order)."""
    return [c.chunk_id for c, _ in got] == [c.chunk_id for c, _ in expected] and \
        [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-12)


def test_top_k_keeps_ties_in_document_order():
    chunks = [chunk(f"d:{i}", "Lighthouse keepers.") for i in (3, 1, 2)] + [chunk("b:0"), chunk("c:0")]
    index = LexicalIndex(chunks)
    assert [c.chunk_id for c, _ in index.search(tokens("lighthouse"), k=2)] == ["d:1", "d:2"]


def test_replacing_a_document_updates_scores_vocabulary_names_and_stems():
    index = LexicalIndex([chunk(c) for c in TEXTS])
    assert "Treasury".lower() in index.proper and stem("orchard") in index.all_stems
    index.replace_documents(["b"], [chunk("b:0", "The vineyard grows grapes.", title="Harvest")])
    assert stem("apples") not in index.vocabulary and stem("grapes") in index.vocabulary
    assert stem("harvest") in index.all_stems and stem("orchard") not in index.all_stems
    assert index.search(tokens("apples"), k=3) == []
    assert index.search(tokens("grapes"), k=3)[0][0].chunk_id == "b:0"
    index.replace_documents(["a"], [])
    assert "treasury" not in index.proper and len(index.chunks) == 2
    fresh = LexicalIndex([chunk("b:0", "The vineyard grows grapes.", title="Harvest"), chunk("c:0")])
    for query in (tokens("grapes repairs"), tokens("winter vineyard")):
        assert same(index.search(query, k=5), fresh.search(query, k=5))
    assert index.speller.correct("vinyard", "vinyard") == "vineyard"


def test_sync_re_reads_only_the_documents_that_changed(small):
    small.ingest()
    index = small.retriever.lexical
    reads = []
    store_chunks = small.store.chunks
    small.store.chunks = lambda doc_id=None: reads.append(doc_id) or store_chunks(doc_id)
    sync(index, small.store)
    assert reads == []  # nothing changed: no chunk text read
    page = small.settings.corpus_dir / "lighthouse.md"
    page.write_text(page.read_text().replace("96 steps", "112 steps"))
    small.ingest()
    sync(index, small.store)
    assert reads == ["lighthouse"]
    rebuilt = LexicalIndex(store_chunks())
    assert [c.chunk_id for c in index.chunks] == [c.chunk_id for c in rebuilt.chunks]
    for query in (tokens("112 steps"), tokens("lamp electricity"), tokens("orchard apples")):
        assert same(index.search(query, k=5), rebuilt.search(query, k=5))


def test_a_saved_index_loads_as_it_was_and_only_with_its_own_stamp(tmp_path):
    index = LexicalIndex([chunk(c, title="Notes") for c in TEXTS], dictionary=frozenset({"apples"}))
    path = tmp_path / "lexical.json"
    index.save(path, {"fingerprint": "f1"})
    loaded = LexicalIndex.load(path, {"fingerprint": "f1"}, index.dictionary)
    assert [c.chunk_id for c in loaded.chunks] == [c.chunk_id for c in index.chunks]
    assert loaded.chunks[0].meta == index.chunks[0].meta
    assert (loaded.vocabulary, loaded.all_stems, loaded.proper) == (index.vocabulary, index.all_stems, index.proper)
    assert same(loaded.search(tokens("SenseTime apples"), 5), index.search(tokens("SenseTime apples"), 5))
    assert LexicalIndex.load(path, {"fingerprint": "f2"}) is None
    path.write_text("{not json")
    assert LexicalIndex.load(path, {"fingerprint": "f1"}) is None


def test_a_new_process_loads_the_saved_index_instead_of_reading_every_chunk(small):
    from app.pipeline import Pipeline

    small.ingest()
    small.retriever.lexical
    for thread in threading.enumerate():  # the save runs in a thread after the first question
        if thread.name == "save-lexical":
            thread.join()
    later = Pipeline(small.settings, small.embedder)
    reads = []
    store_chunks = later.store.chunks
    later.store.chunks = lambda doc_id=None: reads.append(doc_id) or store_chunks(doc_id)
    assert len(later.retriever.lexical.chunks) == len(small.retriever.lexical.chunks) and reads == []


def test_an_index_saved_under_other_text_rules_is_rebuilt_not_read_back(small, monkeypatch):
    import re

    from app import retrieval, text
    from app.pipeline import Pipeline

    small.ingest()
    small.retriever.lexical
    for thread in threading.enumerate():
        if thread.name == "save-lexical":
            thread.join()
    before = text.analysis_key()
    monkeypatch.setattr(text, "ALIASES", text.ALIASES + [(re.compile(r"\blamp\b"), " light ")])
    monkeypatch.setattr(retrieval, "analysis_key", text.analysis_key)
    assert text.analysis_key() != before  # a new alias is a new rule
    later = Pipeline(small.settings, small.embedder)
    reads = []
    store_chunks = later.store.chunks
    later.store.chunks = lambda doc_id=None: reads.append(doc_id) or store_chunks(doc_id)
    assert later.retriever.lexical.chunks and reads  # read again from the store, not from the saved file


def test_asking_an_index_built_with_other_model_settings_is_a_clear_error(small):
    from app.pipeline import Pipeline
    from app.records import DossierError

    small.ingest()
    other = Pipeline(small.settings.model_copy(update={"embedding_precision": "fp32"}), small.embedder)
    with pytest.raises(DossierError, match="dossier ingest"):
        other.ask("When was the lamp converted?")


def test_a_new_title_with_the_same_text_reaches_the_index_through_the_store_s_change_record(small):
    from app.pipeline import Pipeline

    small.ingest()
    reader = Pipeline(small.settings, small.embedder)  # another process, say the server
    assert reader.retriever.lexical.chunks
    page = small.settings.corpus_dir / "lighthouse.md"
    page.write_text(page.read_text().replace("title: The Harbor Lighthouse Report", "title: The Harbour Beacon"))
    small.ingest()  # same chunk ids: only the document's metadata changed
    assert small.store.changed_documents(small.store.generation()) == {"lighthouse"}
    titles = {c.meta["title"] for c in reader.retriever.lexical.chunks if c.doc_id == "lighthouse"}
    assert titles == {"The Harbour Beacon"} and stem("beacon") in reader.retriever.lexical.all_stems


def _many(n: int) -> list[Chunk]:
    return [Chunk(f"d{i}:0", f"d{i}", f"Document {i} mentions harbour number {i}.", 0, 40, meta={"title": f"D{i}"})
            for i in range(n)]


def _state(index: LexicalIndex):
    return sorted((c.chunk_id, c.text) for c in index.chunks), index.vocabulary, index.all_stems, index.proper


def test_a_small_change_is_appended_to_the_journal_and_loads_back(tmp_path):
    path = tmp_path / "lexical.json"
    index = LexicalIndex(_many(30))
    index.save(path, {"fingerprint": "f", "generation": 1})
    base = path.read_bytes()
    index.replace_documents({"d3"}, [Chunk("d3:9", "d3", "Document 3 now speaks of a lighthouse.", 0, 40, meta={})])
    index.replace_documents({"d4"}, [])  # a removed document
    index.save(path, {"fingerprint": "f", "generation": 2})
    assert path.read_bytes() == base  # the 30 chunks were not written again
    assert len(path.with_name("lexical.json.changes").read_text().splitlines()) == 1
    loaded = LexicalIndex.load(path, {"fingerprint": "f"})
    assert loaded.generation == 2 and _state(loaded) == _state(index)
    assert same(loaded.search(tokens("lighthouse"), 3), index.search(tokens("lighthouse"), 3))
    assert LexicalIndex.load(path, {"fingerprint": "other"}) is None


def test_a_large_change_rewrites_the_file_and_drops_the_journal(tmp_path):
    path = tmp_path / "lexical.json"
    index = LexicalIndex(_many(10))
    index.save(path, {"fingerprint": "f", "generation": 1})
    index.replace_documents({"d1"}, [Chunk("d1:5", "d1", "A small edit.", 0, 12, meta={})])
    index.save(path, {"fingerprint": "f", "generation": 2})
    assert path.with_name("lexical.json.changes").exists()
    index.replace_documents({f"d{i}" for i in range(5)}, [])  # half the chunks
    index.save(path, {"fingerprint": "f", "generation": 3})
    assert not path.with_name("lexical.json.changes").exists()
    loaded = LexicalIndex.load(path, {"fingerprint": "f"})
    assert loaded.generation == 3 and _state(loaded) == _state(index)


def test_journal_lines_from_another_generation_or_torn_are_not_applied(tmp_path):
    path = tmp_path / "lexical.json"
    index = LexicalIndex(_many(30))
    index.save(path, {"fingerprint": "f", "generation": 1})
    at_one = _state(index)
    index.replace_documents({"d2"}, [])
    index.save(path, {"fingerprint": "f", "generation": 2})
    journal = path.with_name("lexical.json.changes")
    lines = journal.read_text().splitlines()
    journal.write_text(lines[0].replace('"after": 1', '"after": 7') + "\n")  # written after a generation not on disk
    loaded = LexicalIndex.load(path, {"fingerprint": "f"})
    assert loaded.generation == 1 and _state(loaded) == at_one
    journal.write_text(lines[0][: len(lines[0]) // 2])  # a process killed mid-append
    loaded = LexicalIndex.load(path, {"fingerprint": "f"})
    assert loaded.generation == 1 and _state(loaded) == at_one


def test_a_loaded_index_keeps_journaling_and_a_new_process_sees_every_change(tmp_path):
    path = tmp_path / "lexical.json"
    LexicalIndex(_many(30)).save(path, {"fingerprint": "f", "generation": 1})
    first = LexicalIndex.load(path, {"fingerprint": "f"})
    first.add([Chunk("new:0", "new", "A new note about ferries.", 0, 25, meta={})])
    first.save(path, {"fingerprint": "f", "generation": 2})
    second = LexicalIndex.load(path, {"fingerprint": "f"})
    second.replace_documents({"new"}, [Chunk("new:1", "new", "The note now covers trains.", 0, 27, meta={})])
    second.save(path, {"fingerprint": "f", "generation": 3})
    third = LexicalIndex.load(path, {"fingerprint": "f"})
    assert third.generation == 3 and _state(third) == _state(second)
    assert [c.chunk_id for c, _ in third.search(tokens("trains"), 3)] == ["new:1"]
    assert third.search(tokens("ferries"), 3) == []


def test_the_speller_follows_changes_without_being_rebuilt():
    from app.text import Speller

    index = LexicalIndex(_many(5))
    speller = index.speller
    index.replace_documents({"d1"}, [Chunk("d1:1", "d1", "The lighthouse keeper rowed ashore.", 0, 30, meta={})])
    index.replace_documents({"d1"}, [Chunk("d1:2", "d1", "The lighthouse was painted.", 0, 26, meta={})])
    assert index.speller is speller
    fresh = Speller(index.vocabulary)
    assert speller.vocabulary == set(index.vocabulary) and speller._index == fresh._index
    assert not any(t.startswith("keep") for t in speller.vocabulary)  # the first edit's words went with it
    typos = [t[:2] + t[3] + t[2] + t[4:] for t in speller.vocabulary if len(t) >= 5]
    assert typos and [speller.correct(t, t) for t in typos] == [fresh.correct(t, t) for t in typos]


def test_chunks_matching_a_pattern_are_found_once_per_change():
    import re

    byline = re.compile(r"^By\s+[A-Z]", re.M)
    index = LexicalIndex([chunk("a:0", "By Jeanne Whalen\nSenseTime was banned."), chunk("b:0"), chunk("c:0")])
    first = index.matching(byline)
    assert [c.chunk_id for c in first] == ["a:0"] and index.matching(byline) is first  # not scanned again
    index.replace_documents({"c"}, [chunk("c:0", "By Ellen Nakashima\nBridges need repairs.")])
    assert [c.chunk_id for c in index.matching(byline)] == ["a:0", "c:0"]


def test_words_only_written_capitalised_are_names_but_function_words_never_are():
    index = LexicalIndex([Chunk("faq:0", "faq", "Q: How long does it last? A: Larkspur lasts a week.", 0, 52, {})])
    assert "larkspur" in index.proper and "how" not in index.proper
