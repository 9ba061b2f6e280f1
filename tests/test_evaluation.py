import json

import pytest

from app.evaluation import citations_valid, holds, load_dataset, main, metrics, norm, percentile
from app.loaders import load
from tests.conftest import CORPUS, FIXTURES

EVALS = CORPUS.parent / "evals"
DATASET = EVALS / "dev.jsonl"
TEST = EVALS / "test.jsonl"
TEST2 = EVALS / "test2.jsonl"  # held out from the second answerer change (see evals/README.md)
ARTICLE = load(CORPUS / "wapo-sensetime-investment-ban.md", CORPUS).text
CORPUS2 = "\n".join(load(p, p.parent).text for p in sorted((FIXTURES / "corpus2").glob("*.md"))
                     if not p.name.startswith("README"))


def test_the_committed_datasets_are_clean_and_cover_what_the_issue_asks():
    dev, dev_problems = load_dataset(DATASET, ARTICLE)
    test, test_problems = load_dataset(TEST, ARTICLE)
    assert dev_problems == [] and test_problems == []
    assert len(dev) + len(test) >= 200 and len(test) >= 100
    assert not {c.id for c in dev} & {c.id for c in test}, "a pair may not sit in both splits"
    for cases in (dev, test):
        assert sum(not c.answerable for c in cases) >= 12
        assert sum(bool(c.history) for c in cases) >= 8
        assert sum(c.kind == "smalltalk" for c in cases) >= 3
    second = [load_dataset(EVALS / f"corpus2-{split}.jsonl", CORPUS2) for split in ("dev", "test", "test2")]
    assert all(problems == [] for _, problems in second) and sum(len(c) for c, _ in second) >= 30
    held, held_problems = load_dataset(TEST2, ARTICLE)
    assert held_problems == [] and len(held) >= 100
    assert not {c.id for c in held} & ({c.id for c in dev} | {c.id for c in test})
    assert sum(not c.answerable for c in held) >= 12 and sum(bool(c.history) for c in held) >= 8


def test_every_evidence_string_occurs_in_the_corpus_up_to_quote_style():
    for path in (DATASET, TEST, TEST2):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for evidence in row.get("evidence", []):
                assert any(norm(alt) in norm(ARTICLE) for alt in evidence.split("|")), (row["id"], evidence)


def test_straight_and_curly_quotes_match_and_unanswerable_pairs_need_no_facts(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "question": "q?", "answerable": True, "expected_facts": ["China's use"],
         "evidence": ["supports China's use of repressive surveillance technology"]},
        {"id": "b", "question": "Who is the CEO?", "answerable": False},
        {"id": "c", "question": "hello", "answerable": True, "kind": "smalltalk"}]))
    cases, problems = load_dataset(path, ARTICLE)
    assert problems == [] and [c.id for c in cases] == ["a", "b", "c"] and cases[2].kind == "smalltalk"


def test_every_paragraph_of_the_article_is_covered_by_some_evidence():
    evidence = [alt for path in (DATASET, TEST) for line in path.read_text(encoding="utf-8").splitlines()
                for e in json.loads(line).get("evidence", []) for alt in e.split("|")]
    for paragraph in ARTICLE.split("\n\n"):
        assert any(e in paragraph for e in evidence), paragraph[:60]


def test_malformed_lines_are_reported_with_their_line_numbers(tmp_path):
    path = tmp_path / "qa.jsonl"
    good = {"id": "ok", "question": "q?", "answerable": True, "expected_facts": ["59"],
            "evidence": ["to a list of 59 Chinese companies"]}
    lines = [json.dumps(good), "{broken", json.dumps({"id": "x"}),
             json.dumps({**good, "id": "y", "evidence": ["not in the corpus at all"]}), json.dumps(good)]
    path.write_text("\n".join(lines))
    cases, problems = load_dataset(path, ARTICLE)
    assert [c.id for c in cases] == ["ok"]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5"]
    assert "not valid JSON" in problems[0] and "evidence not found" in problems[2] and "duplicate" in problems[3]


def test_fact_matching_accepts_alternatives_and_quote_styles():
    assert holds("Existing investors have 1 year to divest", "one year|1 year")
    assert holds("China’s use", "china's use")
    assert not holds("two years", "one year|1 year")


def test_percentile_and_metrics_on_known_rows():
    assert percentile([10, 20, 30, 40], 50) == 20 and percentile([10, 20, 30, 40], 95) == 40
    rows = [{"answer": "a b c [1]", "latency_ms": 10, "citation_valid": True,
             "verdict": {"abstained": False, "correct": True, "evidence_cited": True, "evidence_rank": 1}},
            {"answer": "x", "latency_ms": 30, "citation_valid": True,
             "verdict": {"abstained": True, "abstention_correct": True}}]
    cases = [type("C", (), {"answerable": True})(), type("C", (), {"answerable": False})()]
    m = metrics(rows, cases)
    assert (m["correctness"], m["recall@5"], m["mrr"], m["abstention_accuracy"]) == (1.0, 1.0, 1.0, 1.0)
    assert m["mean_answer_words"] == 3.0


def test_a_citation_with_wrong_offsets_is_invalid(real):
    answer = real.ask("How long do existing investors have to divest?")
    texts = {"wapo-sensetime-investment-ban": ARTICLE}
    assert citations_valid(answer, texts)
    answer.citations[0].start += 1
    assert not citations_valid(answer, texts)


def test_the_runner_writes_results_summary_and_report_and_meets_thresholds(real, tmp_path, capsys):
    code = main(real.settings, TEST, tmp_path / "run", EVALS / "thresholds.toml")
    out = capsys.readouterr().out
    assert code == 0, out
    results = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(results) >= 100 and {"id", "retrieved", "verdict", "citations"} <= set(results[0])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["dossier"]["citation_validity"] == 1.0 and summary["failed"] == []
    assert summary["baseline"]["abstention_accuracy"] == 0.0
    assert summary["sentence_baseline"]["questions"] == summary["dossier"]["questions"]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| correctness |" in report and "dense top-4 baseline" in report and "sentence-extractor" in report
    # Small talk answered well has no evidence to cite; it is not listed as a failure for that.
    failures = report.split("## Failures", 1)[1]
    chatted = [r["id"] for r in results if r["verdict"].get("correct") and r["verdict"].get("evidence_cited", 0) is None]
    assert chatted and not any(f"### {i}\n" in failures for i in chatted)


def test_the_runner_fails_below_thresholds(real, tmp_path):
    strict = tmp_path / "thresholds.toml"
    strict.write_text("[min]\ncorrectness = 1.01\n")
    small = tmp_path / "qa.jsonl"
    small.write_text("\n".join(DATASET.read_text().splitlines()[:3]))
    assert main(real.settings, small, tmp_path / "run", strict, baseline=False) == 1
    assert "below 1.01" in (tmp_path / "run" / "report.md").read_text()


def test_any_dataset_in_the_format_runs_against_its_own_corpus(small, tmp_path):
    small.ingest()
    code = main(small.settings, FIXTURES / "qa-fixtures.jsonl", tmp_path / "run", tmp_path / "none.toml",
                baseline=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())["dossier"]
    assert code == 0 and summary["questions"] == 5
    assert summary["correctness"] == 1.0 and summary["abstention_accuracy"] == 1.0
    assert summary["citation_validity"] == 1.0
