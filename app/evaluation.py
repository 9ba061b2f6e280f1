"""Evaluating: a dataset of grounded Q&A pairs through the pipeline, with metrics, thresholds and a report.

No LLM judge: correctness is "every expected fact is in the answer", evidence is "a cited passage
holds the gold passage", and validity is checked against the documents' own text.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from app.loaders import LoadError, load
from app.pipeline import Pipeline
from app.records import Answer, DossierError
from app.settings import Settings

RECALL_K = 5
REQUIRED = {"id": str, "question": str, "answerable": bool, "expected_facts": list, "evidence": list}


def norm(text: str) -> str:
    """Lower case, straight quotes, single spaces: how facts and passages are compared."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip()


def holds(text: str, alternatives: str) -> bool:
    """Whether text contains one of the '|'-separated alternatives."""
    return any(norm(a) in norm(text) for a in alternatives.split("|") if a.strip())


@dataclass
class Case:
    """One dataset line."""

    line: int
    id: str
    question: str
    answerable: bool
    expected_facts: list[str]
    evidence: list[str]
    history: list = field(default_factory=list)
    notes: str = ""


def load_dataset(path: Path, corpus_text: str) -> tuple[list[Case], list[str]]:
    """Valid cases, and one message per malformed line (with its line number)."""
    cases, problems, ids = [], [], set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DossierError(f"cannot read dataset {path}: {err}") from None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as err:
            problems.append(f"line {number}: not valid JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        bad = [k for k, kind in REQUIRED.items() if not isinstance(row.get(k), kind)]
        if bad:
            problems.append(f"line {number}: missing or mistyped field(s): {', '.join(bad)}")
            continue
        if row["id"] in ids:
            problems.append(f"line {number}: duplicate id '{row['id']}'")
            continue
        absent = [e for e in row["evidence"] if not any(a in corpus_text for a in str(e).split("|"))]
        if absent:
            problems.append(f"line {number}: evidence not found verbatim in the corpus: {absent[0][:80]!r}")
            continue
        if row["answerable"] and not (row["evidence"] and row["expected_facts"]):
            problems.append(f"line {number}: an answerable question needs expected_facts and evidence")
            continue
        ids.add(row["id"])
        cases.append(Case(number, row["id"], row["question"], row["answerable"], row["expected_facts"],
                          row["evidence"], row.get("history") or [], row.get("notes", "")))
    return cases, problems


def citations_valid(answer: Answer, texts: dict[str, str]) -> bool:
    """Every cited sentence is the document text at its offsets, inside the cited passage."""
    for c in answer.citations:
        doc = texts.get(c.doc_id)
        if doc is None or doc[c.start:c.end] != c.sentence or c.sentence not in c.text or c.text not in doc:
            return False
    return True


def answer_words(text: str) -> int:
    """Words of an answer, markers excluded."""
    return len(re.sub(r"\[\d+\]", "", text).split())


def judge(case: Case, answer: Answer, retrieved: list[str], texts_by_chunk: dict[str, str]) -> dict:
    """Per-question verdicts."""
    verdict: dict = {"abstained": answer.abstained}
    if not case.answerable:
        verdict["abstention_correct"] = answer.abstained
        return verdict
    cited = [c.text for c in answer.citations]
    verdict["correct"] = not answer.abstained and all(holds(answer.answer, f) for f in case.expected_facts)
    verdict["evidence_cited"] = any(holds(t, e) for t in cited for e in case.evidence)
    rank = next((i for i, cid in enumerate(retrieved, start=1)
                 if any(holds(texts_by_chunk[cid], e) for e in case.evidence)), None)
    verdict["evidence_rank"] = rank
    return verdict


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def metrics(rows: list[dict], cases: list[Case]) -> dict:
    """Dataset-level figures from per-question verdicts."""
    ans = [r for r, c in zip(rows, cases) if c.answerable]
    una = [r for r, c in zip(rows, cases) if not c.answerable]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else 0.0
    answered = [r for r in rows if not r["verdict"]["abstained"]]
    ranks = [r["verdict"]["evidence_rank"] for r in ans]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "correctness": mean([r["verdict"]["correct"] for r in ans]),
        "evidence_cited": mean([r["verdict"]["evidence_cited"] for r in ans]),
        "citation_validity": mean([r["citation_valid"] for r in rows]),
        f"recall@{RECALL_K}": mean([bool(k and k <= RECALL_K) for k in ranks]),
        "mrr": mean([1.0 / k if k else 0.0 for k in ranks]),
        "abstention_accuracy": mean([r["verdict"]["abstention_correct"] for r in una]),
        "false_abstention_rate": mean([r["verdict"]["abstained"] for r in ans]),
        "mean_answer_words": mean([answer_words(r["answer"]) for r in answered]),
        "latency_p50_ms": round(percentile([r["latency_ms"] for r in rows], 50), 1),
        "latency_p95_ms": round(percentile([r["latency_ms"] for r in rows], 95), 1),
    }


def check_thresholds(summary: dict, path: Path) -> list[str]:
    """Messages for every metric outside its bound in thresholds.toml ([min] and [max] tables)."""
    if not path.exists():
        return []
    bounds = tomllib.loads(path.read_text(encoding="utf-8"))
    failed = [f"{k} = {summary.get(k)} is below {v}" for k, v in bounds.get("min", {}).items()
              if summary.get(k, 0) < v]
    failed += [f"{k} = {summary.get(k)} is above {v}" for k, v in bounds.get("max", {}).items()
               if summary.get(k, 0) > v]
    return failed


def run(pipeline: Pipeline, cases: list[Case], texts: dict[str, str]) -> list[dict]:
    """Every case through ``pipeline.ask``; one results row each. ``texts``: document id -> text."""
    chunks = {c.chunk_id: c.text for c in pipeline.store.chunks()}
    rows = []
    for case in cases:
        answer = pipeline.ask(case.question, case.history)
        retrieved = [h.chunk.chunk_id for h in answer.hits]
        rows.append({"id": case.id, **answer.to_json(), "retrieved": retrieved,
                     "citation_valid": citations_valid(answer, texts), "diagnostics": answer.diagnostics,
                     "verdict": judge(case, answer, retrieved, chunks)})
    return rows


def run_baseline(pipeline: Pipeline, cases: list[Case]) -> dict:
    """The textbook LangChain set-up: dense-only Chroma top-4, the answer being the top chunk."""
    vectorstore = pipeline.store.langchain_vectorstore(pipeline.embedder.lc)
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        docs = vectorstore.similarity_search(case.question, k=4)
        latency = (time.perf_counter() - t0) * 1000
        top = docs[0].page_content if docs else ""
        retrieved = [d.id for d in docs]
        texts = {d.id: d.page_content for d in docs}
        fake = Answer(case.question, case.question, top, False)
        verdict = judge(case, fake, retrieved, texts)
        if case.answerable:
            verdict["evidence_cited"] = any(holds(top, e) for e in case.evidence)
        rows.append({"answer": top, "latency_ms": latency, "citation_valid": True, "verdict": verdict})
    return metrics(rows, cases)  # it retrieves 4, so its recall@5 is a recall@4


def _document_texts(pipeline: Pipeline) -> dict[str, str]:
    texts = {}
    for state in pipeline.store.doc_states().values():
        try:
            texts[state.doc_id] = load(state.source).text
        except LoadError:
            continue  # a file gone since ingest: its citations count as unverifiable
    return texts


def report(summary: dict, baseline: dict | None, failed: list[str], problems: list[str],
           rows: list[dict], cases: list[Case]) -> str:
    """The Markdown report: metrics beside the baseline, threshold verdicts, then the failures."""
    out = ["# Dossier evaluation", "", f"{summary['questions']} questions "
           f"({summary['answerable']} answerable, {summary['unanswerable']} unanswerable).", "",
           "| metric | Dossier | dense top-4 baseline |", "|---|---|---|"]
    for key, value in summary.items():
        if key in ("questions", "answerable", "unanswerable"):
            continue
        out.append(f"| {key} | {value} | {baseline.get(key, '') if baseline else ''} |")
    out += ["", "Baseline: LangChain Chroma `similarity_search(k=4)`, the answer being the top chunk; it never "
            "abstains, so its abstention accuracy is 0 by construction.", ""]
    out += ["## Thresholds", ""] + ([f"- FAILED: {f}" for f in failed] or ["All thresholds met."]) + [""]
    if problems:
        out += ["## Dataset problems (lines skipped)", ""] + [f"- {p}" for p in problems] + [""]
    out += ["## Failures", ""]
    for row, case in zip(rows, cases):
        v = row["verdict"]
        bad = (not v.get("correct", True)) or (not v.get("evidence_cited", True)) \
            or (not v.get("abstention_correct", True)) or not row["citation_valid"]
        if bad:
            gold = " / ".join(case.expected_facts) if case.answerable else "(should abstain)"
            out += [f"### {case.id}", f"- question: {case.question}", f"- searched for: {row['standalone_query']}",
                    f"- answer: {row['answer']}", f"- gold facts: {gold}",
                    f"- verdict: {json.dumps(v)}", ""]
    return "\n".join(out) + "\n"


def main(settings: Settings, dataset: Path, out: Path, thresholds: Path, baseline: bool = True) -> int:
    """``dossier eval``: run, write results.jsonl, summary.json and report.md; 1 below thresholds."""
    pipeline = Pipeline(settings)
    if not pipeline.store.exists():
        pipeline.ingest()
    texts = _document_texts(pipeline)
    cases, problems = load_dataset(dataset, "\n".join(texts.values()))
    for p in problems:
        print(f"dataset {dataset}: {p}", file=sys.stderr)
    if not cases:
        raise DossierError(f"no usable questions in {dataset}")
    pipeline.warm_up()
    rows = run(pipeline, cases, texts)
    summary = metrics(rows, cases)
    base = run_baseline(pipeline, cases) if baseline else None
    failed = check_thresholds(summary, thresholds)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps({"dossier": summary, "baseline": base, "failed": failed,
                                                  "dataset_problems": problems}, indent=2))
    (out / "report.md").write_text(report(summary, base, failed, problems, rows, cases), encoding="utf-8")
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}" + (f"   (baseline {base.get(key)})" if base else ""))
    print(f"report: {out / 'report.md'}")
    for f in failed:
        print(f"below threshold: {f}", file=sys.stderr)
    return 1 if failed else 0
