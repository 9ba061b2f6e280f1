"""The ``dossier`` command: ingest, ask, stats, timeline, serve, eval. Thin over the pipeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app import render
from app.limits import LimitError, parse_json
from app.records import DossierError
from pydantic import ValidationError

from app.settings import Settings

COMMANDS = {
    "ingest": ("Add, update and prune documents in the index.",
               "examples:\n  dossier ingest                 # the corpus/ folder\n"
               "  dossier ingest notes/ memo.pdf  # more files and folders"),
    "add": ("Fetch web pages or PDFs by URL and add them to the index (each version kept).",
            "examples:\n  dossier add https://example.gov/news/statement\n"
            "  dossier add --manifest corpus/sources.toml   # the official records listed there\n"
            "  dossier add https://example.org/report.pdf --type official_statement"),
    "ask": ("Answer a question from the index, citing its sources.",
            'examples:\n  dossier ask "why was SenseTime banned?"\n'
            '  dossier ask "What positions do they hold?" --history chat.json --json'),
    "stats": ("Show the documents and chunks in the index.", "example:\n  dossier stats --json"),
    "remove": ("Remove an uploaded or fetched document (and Dossier's copy of its file) from the index; "
               "corpus documents are refused.",
               "example:\n  dossier remove canal-history   # the id that `dossier stats` lists"),
    "timeline": ("List the dated events the documents state, in date order, each with its cited sentence.",
                 "examples:\n  dossier timeline\n  dossier timeline --json   # dates, how each was inferred, citations"),
    "serve": ("Serve the chat page and the HTTP API.",
              "example:\n  dossier serve --port 7860   # then open http://127.0.0.1:7860"),
    "eval": ("Run a dataset of grounded Q&A pairs and write a report.",
             "examples:\n  dossier eval --dataset evals/test.jsonl --out evals/runs/test\n"
             "  dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test.jsonl \\\n"
             "      --thresholds evals/thresholds-corpus2.toml"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dossier", description="Answers questions from source documents, every claim cited.",
        epilog='example:\n  dossier ingest && dossier ask "why was SenseTime banned?"',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmd = {}
    for name, (help_text, example) in COMMANDS.items():
        cmd[name] = sub.add_parser(name, help=help_text, description=help_text, epilog=example,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd["ingest"].add_argument("paths", nargs="*", type=Path, help="files or folders (default: corpus/)")
    cmd["ingest"].add_argument("--no-prune", action="store_true",
                               help="keep indexed documents whose files are gone from the folder")
    cmd["add"].add_argument("urls", nargs="*", metavar="URL", help="http or https address of a page or PDF")
    cmd["add"].add_argument("--manifest", type=Path, help="TOML file of [[source]] entries (url, title, publisher, "
                                                          "published, type)")
    cmd["add"].add_argument("--type", dest="doc_type", help="document type for every URL (default: "
                                                            "official_statement for government hosts, else news_article)")
    cmd["ask"].add_argument("question", help="the question, in quotes")
    cmd["ask"].add_argument("--json", action="store_true", help="print the answer record as JSON")
    cmd["ask"].add_argument("--history", type=Path,
                            help='JSON file: [{"role": "user"|"assistant", "content": "..."}, ...]')
    cmd["stats"].add_argument("--json", action="store_true", help="print JSON")
    cmd["remove"].add_argument("doc_id", metavar="DOC_ID", help="the document's id, as `dossier stats` lists it")
    cmd["timeline"].add_argument("--json", action="store_true", help="print the events as JSON")
    cmd["serve"].add_argument("--host", help="address to bind (default 127.0.0.1)")
    cmd["serve"].add_argument("--port", type=int, help="port (default 7860)")
    cmd["eval"].add_argument("--dataset", type=Path, default=Path("evals/test.jsonl"), help="JSONL dataset")
    cmd["eval"].add_argument("--corpus", type=Path,
                             help="evaluate over this folder instead of corpus/ (indexed on its own, beside the index)")
    cmd["eval"].add_argument("--out", type=Path, default=Path("evals/runs/latest"), help="report folder")
    cmd["eval"].add_argument("--thresholds", type=Path, default=Path("evals/thresholds.toml"),
                             help="metric floors; the run fails below them ('none' to only report)")
    cmd["eval"].add_argument("--no-baseline", action="store_true", help="skip the dense-only baseline")
    return parser


def _history(path: Path | None, settings: Settings):
    """The --history file's JSON, read within the request size limit (the pipeline checks its shape)."""
    if path is None:
        return None
    try:
        with path.open("rb") as f:
            data = f.read(settings.max_request_kb * 1024 + 1)
        return parse_json(data, settings, "the file")
    except OSError as err:
        raise DossierError(f"cannot read history file {path}: {err.strerror or err}") from None
    except LimitError as err:
        raise DossierError(f"cannot read history file {path}: {err}") from None


def run(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        from app.web import serve

        return serve(settings.model_copy(update={k: v for k, v in
                                                 {"host": args.host, "port": args.port}.items() if v}))
    if args.command == "eval":
        from app.evaluation import main as run_eval

        thresholds = None if str(args.thresholds) == "none" else args.thresholds
        return run_eval(settings, args.dataset, args.out, thresholds, baseline=not args.no_baseline,
                        corpus=args.corpus)

    from app.pipeline import Pipeline

    if args.command == "add":
        from app import sources

        entries = [{"url": url} for url in args.urls] + (sources.read_manifest(args.manifest) if args.manifest else [])
        if not entries:
            raise DossierError("give one or more URLs, or --manifest FILE")
        results = sources.add_urls(Pipeline(settings), entries, doc_type=args.doc_type)
        for result in results:  # one line per URL; offline, every URL gets its own "could not add" line
            print(result.line(), file=sys.stdout if result.ok else sys.stderr)
        return 0 if any(r.ok for r in results) else 1
    pipeline = Pipeline(settings)
    if args.command == "ingest":
        report = pipeline.ingest(args.paths or None, prune=not args.no_prune)
        for path, reason in report.errors:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        for path, (wanted, given) in report.renamed.items():
            print(f"{path}: the id '{wanted}' belongs to another document; indexed as '{given}'", file=sys.stderr)
        print(report.summary())
        return 0 if not report.errors else 2
    if args.command == "ask":
        answer = pipeline.ask(args.question, _history(args.history, settings))
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2) if args.json else render.text(answer))
        return 0
    if args.command == "timeline":
        events = pipeline.timeline()
        print(json.dumps([e.to_json() for e in events], ensure_ascii=False, indent=2) if args.json
              else render.timeline_text(events))
        return 0
    if args.command == "remove":
        from app.removal import remove

        done = remove(pipeline, args.doc_id)
        print(f"removed {done.doc_id} ({done.title}): {done.chunks} chunks"
              + (f"; deleted {done.deleted_file}" if done.deleted_file else ""))
        return 0
    stats = pipeline.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print(f"index: {stats['index']}\nmodel: {stats['model']}\n"
              f"documents: {stats['document_count']}, chunks: {stats['chunk_count']}")
        for d in stats["documents"]:
            where = ", ".join(p for p in (d["publisher"], d["published"]) if p)  # either may be unknown
            print(f"  {d['doc_id']}: {d['title']}{f' ({where})' if where else ''}, {d['chunks']} chunks")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit."""
    try:
        code = run(argv)
    except DossierError as err:
        print(f"dossier: error: {err}", file=sys.stderr)
        code = 1
    except ValidationError as err:  # a DOSSIER_ variable with a bad value
        problems = "; ".join(f"DOSSIER_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors())
        print(f"dossier: error: bad setting: {problems}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `dossier ask ... | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
