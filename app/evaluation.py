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
REQUIRED = {"id": str, "question": str, "answerable": bool}
OPTIONAL = {"expected_facts": list, "evidence": list, "history": list}
SENTENCE_BASELINE_FLOOR = 0.40  # the sentence extractor abstains below this cosine


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
    kind: str = ""  # "smalltalk": any helpful reply that is not a refusal is right


def load_dataset(path: Path, corpus_text: str) -> tuple[list[Case], list[str]]:
    """Valid cases, and one message per malformed line (with its line number)."""
    cases, problems, ids = [], [], set()
    corpus = norm(corpus_text)
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
        bad += [k for k, kind in OPTIONAL.items() if k in row and not isinstance(row[k], kind)]
        if bad:
            problems.append(f"line {number}: missing or mistyped field(s): {', '.join(bad)}")
            continue
        if row["id"] in ids:
            problems.append(f"line {number}: duplicate id '{row['id']}'")
            continue
        row.setdefault("expected_facts", [])
        row.setdefault("evidence", [])
        absent = [e for e in row["evidence"] if not any(norm(a) in corpus for a in str(e).split("|"))]
        if absent:
            problems.append(f"line {number}: evidence not found verbatim in the corpus: {absent[0][:80]!r}")
            continue
        smalltalk = row.get("kind") == "smalltalk"
        if row["answerable"] and not smalltalk and not (row["evidence"] and row["expected_facts"]):
            problems.append(f"line {number}: an answerable question needs expected_facts and evidence")
            continue
        ids.add(row["id"])
        cases.append(Case(number, row["id"], row["question"], row["answerable"], row["expected_facts"],
                          row["evidence"], row.get("history") or [], row.get("notes", ""),
                          "smalltalk" if smalltalk else ""))
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
    if case.kind == "smalltalk":  # no facts to check: a reply that is not a refusal is right
        verdict.update(correct=not answer.abstained and bool(answer.answer.strip()), evidence_cited=None,
                       evidence_rank=None)
        return verdict
    cited = [c.text for c in answer.citations]
    verdict["correct"] = not answer.abstained and all(holds(answer.answer, f) for f in case.expected_facts)
    verdict["evidence_cited"] = any(holds(t, e) for t in cited for e in case.evidence)
    rank = next((i for i, cid in enumerate(retrieved, start=1)
                 if cid in texts_by_chunk and any(holds(texts_by_chunk[cid], e) for e in case.evidence)), None)
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
    grounded = [r for r, c in zip(rows, cases) if c.answerable and getattr(c, "kind", "") != "smalltalk"]
    una = [r for r, c in zip(rows, cases) if not c.answerable]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else 0.0
    answered = [r for r in rows if not r["verdict"]["abstained"]]
    ranks = [r["verdict"]["evidence_rank"] for r in grounded]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "correctness": mean([r["verdict"]["correct"] for r in ans]),
        "evidence_cited": mean([r["verdict"]["evidence_cited"] for r in grounded]),
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


def run_sentence_baseline(pipeline: Pipeline, cases: list[Case]) -> dict:
    """A plain sentence extractor: MiniLM and BM25 over sentences fused by RRF, the top two sentences,
    abstaining when no sentence reaches cosine 0.40. No conversation, no question analysis."""
    import numpy as np

    from app.chunking import split_sentences
    from app.lexical import LexicalIndex
    from app.records import Chunk
    from app.retrieval import reciprocal_rank_fusion
    from app.text import tokens

    units = {}
    for chunk in pipeline.store.chunks():
        for s in split_sentences(chunk.text, offset=chunk.start):
            units.setdefault(f"{chunk.doc_id}:{s.start}", Chunk(f"{chunk.doc_id}:{s.start}", chunk.doc_id, s.text,
                                                                s.start, s.end))
    sentences = list(units.values())
    index = LexicalIndex(sentences)
    vectors = np.asarray(pipeline.scorer.embed_cached([s.text for s in sentences]), dtype=np.float32)
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        sims = vectors @ np.asarray(pipeline.scorer.embed_query(case.question), dtype=np.float32)
        order = np.argsort(-sims)[:20]
        dense = [(sentences[i], float(sims[i])) for i in order]
        fused = reciprocal_rank_fusion(dense, index.search(tokens(case.question), 20))[:2]
        text = " ".join(h.chunk.text for h in fused)
        fake = Answer(case.question, case.question, text, bool(sims.max() < SENTENCE_BASELINE_FLOOR))
        verdict = judge(case, fake, [], {})
        if case.answerable and case.kind != "smalltalk":
            verdict["evidence_cited"] = not fake.abstained and any(holds(text, e) for e in case.evidence)
        rows.append({"answer": text, "latency_ms": (time.perf_counter() - t0) * 1000, "citation_valid": True,
                     "verdict": verdict})
    return metrics(rows, cases)


def _document_texts(pipeline: Pipeline) -> dict[str, str]:
    texts = {}
    for state in pipeline.store.doc_states().values():
        try:
            texts[state.doc_id] = load(state.source).text
        except LoadError:
            continue  # a file gone since ingest: its citations count as unverifiable
    return texts


def report(summary: dict, baseline: dict | None, failed: list[str], problems: list[str],
           rows: list[dict], cases: list[Case], sentence_baseline: dict | None = None, title: str = "") -> str:
    """The Markdown report: metrics beside the baseline, threshold verdicts, then the failures."""
    out = ["# Dossier evaluation" + (f": {title}" if title else ""), "", f"{summary['questions']} questions "
           f"({summary['answerable']} answerable, {summary['unanswerable']} unanswerable).", "",
           "| metric | Dossier | dense top-4 baseline | sentence-extractor baseline |", "|---|---|---|---|"]
    for key, value in summary.items():
        if key in ("questions", "answerable", "unanswerable"):
            continue
        out.append(f"| {key} | {value} | {baseline.get(key, '') if baseline else ''} | "
                   f"{sentence_baseline.get(key, '') if sentence_baseline else ''} |")
    out += ["", "Dense baseline: LangChain Chroma `similarity_search(k=4)`, the answer being the top chunk; it never "
            "abstains, so its abstention accuracy is 0 by construction. Sentence extractor: MiniLM and BM25 over "
            "sentences fused by reciprocal rank fusion, the top two sentences, abstaining below cosine "
            f"{SENTENCE_BASELINE_FLOOR}; it ignores the conversation.", ""]
    out += ["## Thresholds", ""] + ([f"- FAILED: {f}" for f in failed] or ["All thresholds met."]) + [""]
    if problems:
        out += ["## Dataset problems (lines skipped)", ""] + [f"- {p}" for p in problems] + [""]
    out += ["## Failures", ""]
    for row, case in zip(rows, cases):
        v = row["verdict"]
        # False, not None: small talk has no evidence to cite, so it is no failure for lacking it.
        bad = v.get("correct") is False or v.get("evidence_cited") is False \
            or v.get("abstention_correct") is False or not row["citation_valid"]
        if bad:
            gold = " / ".join(case.expected_facts) if case.answerable else "(should abstain)"
            out += [f"### {case.id}", f"- question: {case.question}", f"- searched for: {row['standalone_query']}",
                    f"- answer: {row['answer']}", f"- gold facts: {gold}",
                    f"- verdict: {json.dumps(v)}", ""]
    return "\n".join(out) + "\n"


def main(settings: Settings, dataset: Path, out: Path, thresholds: Path | None, baseline: bool = True,
         corpus: Path | None = None) -> int:
    """``dossier eval``: run, write results.jsonl, summary.json and report.md; 1 below thresholds.

    With ``corpus``, that folder is indexed into its own index beside the main one, so a second
    corpus is evaluated with the same settings without touching the main index.
    """
    if corpus is not None:
        index = settings.index_dir / f"eval-{corpus.resolve().name}"
        settings = settings.model_copy(update={"corpus_dir": corpus, "index_dir": index})
    pipeline = Pipeline(settings)
    report_ = pipeline.ingest([settings.corpus_dir])  # the corpus under test, never the uploads
    for path, reason in report_.errors:
        print(f"skipped {path}: {reason}", file=sys.stderr)
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
    sentences = run_sentence_baseline(pipeline, cases) if baseline else None
    failed = check_thresholds(summary, thresholds) if thresholds else []
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps({"dataset": str(dataset), "dossier": summary, "baseline": base,
                                                  "sentence_baseline": sentences, "failed": failed,
                                                  "dataset_problems": problems}, indent=2))
    (out / "report.md").write_text(report(summary, base, failed, problems, rows, cases, sentences, str(dataset)),
                                   encoding="utf-8")
    width = max(len(k) for k in summary)
    print(f"dataset: {dataset}")
    for key, value in summary.items():
        extra = f"   (dense baseline {base.get(key)}, sentence baseline {sentences.get(key)})" if base else ""
        print(f"{key:<{width}}  {value}{extra}")
    print(f"report: {out / 'report.md'}")
    for f in failed:
        print(f"below threshold: {f}", file=sys.stderr)
    return 1 if failed else 0
