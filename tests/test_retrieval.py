from app.lexical import LexicalIndex
from app.query import analyze
from app.text import stem, tokens
from app.records import Chunk
from app.retrieval import reciprocal_rank_fusion, trim


def chunk(i: int, text: str = "") -> Chunk:
    return Chunk(f"d:{i}", "d", text or f"text {i}", 0, 1)


def test_fusion_deduplicates_and_keeps_each_retrievers_scores():
    dense = [(chunk(1), 0.9), (chunk(2), 0.8)]
    lexical = [(chunk(2), 7.0), (chunk(3), 5.0)]
    hits = reciprocal_rank_fusion(dense, lexical, k=60)
    assert [h.chunk.chunk_id for h in hits] == ["d:2", "d:1", "d:3"]
    both = hits[0]
    assert (both.dense_score, both.lexical_score, both.dense_rank, both.lexical_rank) == (0.8, 7.0, 2, 1)
    assert both.score == 1 / 62 + 1 / 61
    assert hits[2].dense_score is None and hits[2].lexical_rank == 2


def test_trim_drops_results_far_behind_the_best():
    ranked = [(chunk(1), 10.0), (chunk(2), 4.0), (chunk(3), 1.0)]
    assert [c.chunk_id for c, _ in trim(ranked, floor=0.25)] == ["d:1", "d:2"]
    dense = [(chunk(1), 0.8), (chunk(2), 0.6), (chunk(3), 0.5)]
    assert [c.chunk_id for c, _ in trim(dense, margin=0.25)] == ["d:1", "d:2"]


def test_tokens_fold_spellings_stems_and_synonyms():
    assert stem("banned") == stem("bans") == "ban"
    assert stem("companies") == "company"
    assert tokens("U.S. investors") == tokens("United States investor") == ["us", "investor"]
    assert tokens("initial public offering") == tokens("IPO")
    assert "ban" in tokens("prohibited")


def test_bm25_finds_the_chunk_and_corrects_typos_against_the_corpus_vocabulary():
    index = LexicalIndex([chunk(1, "SenseTime makes facial recognition software. Its brand was funded."),
                          chunk(2, "The orchard grows apples."), chunk(3, "Bridges need repairs.")],
                         dictionary=frozenset({"founded", "brand", "apples"}))
    terms = lambda q: list(analyze(q, [], index, index.speller.dictionary).terms)
    assert terms("SenseTme apples bramd") == [stem("SenseTime"), stem("apples"), stem("brand")]
    assert terms("When was it founded?") == [stem("founded")]  # a real word is never bent into "fund"
    assert index.search(tokens("facial recognition"), k=3)[0][0].chunk_id == "d:1"
    assert index.search(tokens("unrelated words"), k=3) == []


def test_hybrid_retrieval_on_a_real_index(small):
    small.ingest()
    question = "When was the lighthouse lamp converted to electricity?"
    query = analyze(question, [], small.retriever.lexical, small.retriever.dictionary)
    hits, vector = small.retriever.retrieve(query)
    assert len(vector) == 384
    assert hits[0].chunk.doc_id == "lighthouse" and "1932" in hits[0].chunk.text
    assert hits[0].dense_score is not None and hits[0].lexical_score is not None
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)
