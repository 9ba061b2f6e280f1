"""`make bench-precision`: answer quality of each embedding precision on every eval split.

Runs every `evals/*.jsonl` split (both corpora) three ways, each index built in a temp folder:
- fp32 everywhere (the reference),
- the defaults (int8 index and search, fp32 answer scoring),
- int8 everywhere.
Prints correctness, recall@5 and evidence cited per split and pooled over all answerable pairs, and
each against the reference. Asserts nothing: it is the figure behind "within 1 point of fp32".
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import evaluation  # noqa: E402
from app.pipeline import Pipeline  # noqa: E402
from app.settings import Settings  # noqa: E402

CORPUS2 = ROOT / "tests" / "fixtures" / "corpus2"
VARIANTS = {
    "fp32 everywhere": {"embedding_precision": "fp32", "answer_precision": "fp32"},
    "int8 index, fp32 answers (default)": {"embedding_precision": "int8", "answer_precision": "fp32"},
    "int8 everywhere": {"embedding_precision": "int8", "answer_precision": "int8"},
}


def verdicts(over: dict, tmp: Path) -> dict[str, list[dict]]:
    """Per split, the verdict of every pair, with the answerer at these settings."""
    out = {}
    for corpus in (ROOT / "corpus", CORPUS2):
        settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=tmp / corpus.name, chroma_url=None, **over)
        pipeline = Pipeline(settings)
        pipeline.ingest([corpus])
        pipeline.warm_up()
        texts = evaluation._document_texts(pipeline)
        for path in sorted((ROOT / "evals").glob("*.jsonl")):
            if path.name.startswith("corpus2-") != (corpus == CORPUS2):
                continue
            cases, _ = evaluation.load_dataset(path, "\n".join(texts.values()))
            rows = evaluation.run(pipeline, cases, texts)
            out[path.stem] = [dict(r["verdict"], answerable=c.answerable, smalltalk=c.kind == "smalltalk")
                              for r, c in zip(rows, cases)]
    return out


def figures(rows: list[dict]) -> tuple[float, float, float, int]:
    """Correctness, recall@5 and evidence cited over the answerable pairs of ``rows``."""
    answerable = [r for r in rows if r["answerable"]]
    grounded = [r for r in answerable if not r["smalltalk"]]
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return (mean([bool(r.get("correct")) for r in answerable]),
            mean([bool(r.get("evidence_rank") and r["evidence_rank"] <= evaluation.RECALL_K) for r in grounded]),
            mean([bool(r.get("evidence_cited")) for r in grounded]), len(answerable))


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory(prefix="dossier-precision-") as tmp:
        for name, over in VARIANTS.items():
            print(f"running: {name}", file=sys.stderr, flush=True)
            results[name] = verdicts(over, Path(tmp) / re.sub(r"\W+", "-", name))
    reference = results["fp32 everywhere"]
    print("correctness / recall@5 / evidence cited, answerable pairs; (points against fp32 everywhere)")
    for name, per_split in results.items():
        print(f"\n{name}")
        for split in list(per_split) + ["pooled"]:
            rows = [r for s in per_split.values() for r in s] if split == "pooled" else per_split[split]
            ref = [r for s in reference.values() for r in s] if split == "pooled" else reference[split]
            got, base = figures(rows), figures(ref)
            deltas = " ".join(f"{100 * (g - b):+.1f}" for g, b in zip(got[:3], base[:3]))
            print(f"  {split:16} n={got[3]:3}  {got[0]:.3f} / {got[1]:.3f} / {got[2]:.3f}   ({deltas})")


if __name__ == "__main__":
    main()
