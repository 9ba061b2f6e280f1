"""The dossier command, run in-process with the environment a user would set."""

import json

import pytest

from app.cli import main
from tests.conftest import CORPUS


@pytest.fixture
def env(monkeypatch, real):
    """Point the CLI at the session's real-corpus index."""
    monkeypatch.setenv("DOSSIER_INDEX_DIR", str(real.settings.index_dir))
    monkeypatch.setenv("DOSSIER_CORPUS_DIR", str(CORPUS))
    monkeypatch.delenv("DOSSIER_CHROMA_URL", raising=False)


def run(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_ask_prints_the_answer_and_lists_its_sources(env, capsys):
    code, out, _ = run(capsys, "ask", "why was SenseTime banned?")
    assert code == 0 and "[1]" in out and "Sources:" in out
    assert "The Washington Post, 2021-12-10" in out and "https://www.washingtonpost.com/" in out


def test_ask_json_prints_one_record_with_the_documented_fields(env, capsys):
    code, out, _ = run(capsys, "ask", "How long do existing investors have to divest?", "--json")
    record = json.loads(out)
    assert code == 0
    assert set(record) == {"question", "standalone_query", "answer", "abstained", "citations",
                           "near_misses", "latency_ms"}
    citation = record["citations"][0]
    for field in ("marker", "chunk_id", "doc_id", "title", "publisher", "published", "url", "page",
                  "text", "start", "end"):
        assert field in citation
    assert record["abstained"] is False and "one year" in record["answer"]


def test_ask_with_history_file_resolves_the_follow_up(env, capsys, tmp_path):
    history = tmp_path / "chat.json"
    history.write_text(json.dumps([{"role": "user", "content": "Why was SenseTime banned?"},
                                   {"role": "assistant", "content": "Because of facial recognition. [1]"}]))
    code, out, _ = run(capsys, "ask", "How did the company respond?", "--history", str(history), "--json")
    record = json.loads(out)
    assert code == 0 and record["standalone_query"] == "How did SenseTime respond?"
    assert "opposes" in record["answer"] or "unfounded" in record["answer"]


@pytest.mark.parametrize("question, message", [("", "question is empty"), ("x" * 2001, "limit is 2,000")])
def test_bad_questions_give_one_line_and_a_non_zero_exit(env, capsys, question, message):
    code, out, err = run(capsys, "ask", question)
    assert code == 1 and out == "" and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_index_and_an_unreachable_server_are_one_line_errors(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DOSSIER_INDEX_DIR", str(tmp_path / "nothing"))
    code, _, err = run(capsys, "ask", "why?")
    assert code == 1 and "run 'dossier ingest' first" in err and err.count("\n") == 1
    monkeypatch.setenv("DOSSIER_CHROMA_URL", "http://127.0.0.1:9")
    code, _, err = run(capsys, "stats")
    assert code == 1 and "does not answer" in err and err.count("\n") == 1


def test_a_bad_history_file_is_a_clear_error(env, capsys, tmp_path):
    bad = tmp_path / "chat.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "ask", "why?", "--history", str(bad))
    assert code == 1 and "cannot read history file" in err


def test_stats_reports_documents_chunks_model_and_location(env, capsys, real):
    code, out, _ = run(capsys, "stats", "--json")
    stats = json.loads(out)
    assert code == 0 and stats["document_count"] == 1 and stats["chunk_count"] > 10
    assert stats["model"] == "all-MiniLM-L6-v2" and stats["index"] == str(real.settings.index_dir.resolve())


def test_every_command_help_shows_an_example(capsys):
    for command in ("ingest", "ask", "stats", "timeline", "serve", "eval"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "example" in out and "dossier " + command in out.replace("\n", " ")


def test_timeline_json_lists_dated_events_in_order_with_their_citations(env, capsys):
    code, out, _ = run(capsys, "timeline", "--json")
    events = json.loads(out)
    assert code == 0 and [e["date"] for e in events] == sorted(e["date"] for e in events)
    assert set(events[0]) == {"date", "precision", "label", "inferred", "how", "phrase", "sentence", "citation"}
    friday = next(e for e in events if e["sentence"].startswith("The Biden administration on Friday banned"))
    assert (friday["date"], friday["inferred"], friday["citation"]["published"]) == ("2021-12-10", True, "2021-12-10")
    assert friday["citation"]["sentence"] == friday["sentence"] in friday["citation"]["text"]
    code, out, _ = run(capsys, "timeline")
    assert code == 0 and "2018\n    “In 2018, several U.S. venture capital funds" in out
    assert "10 Dec 2021 (inferred)" in out and "date inferred: “on Friday”" in out


def test_ingest_reports_skipped_files_and_exits_2(monkeypatch, capsys, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ok.md").write_text("A short note about a red kite.\n")
    (tmp_path / "docs" / "bad.txt").write_bytes(b"caf\xe9")
    monkeypatch.setenv("DOSSIER_INDEX_DIR", str(tmp_path / "index"))
    code, out, err = run(capsys, "ingest", str(tmp_path / "docs"))
    assert code == 2 and "1 added" in out and "bad.txt: not UTF-8" in err


def test_the_readme_documents_every_setting():
    from app.settings import Settings

    readme = (CORPUS.parent / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert f"`DOSSIER_{name.upper()}`" in readme and field.description
