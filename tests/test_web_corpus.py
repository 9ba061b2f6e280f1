"""The Corpus tab and `dossier stats`: plain upload messages, titles from a Markdown heading."""

import pytest

from app import cli, uploads
from app.loaders import load


def test_a_markdown_file_without_front_matter_is_titled_from_its_first_heading(tmp_path):
    memo = tmp_path / "larkspur-memo.md"
    memo.write_text("# Memo: Larkspur ferry schedule #\n\nThe ferry leaves at nine.\n")
    assert load(memo).title == "Memo: Larkspur ferry schedule"
    setext = tmp_path / "setext.md"
    setext.write_text("Harbour Notes\n=============\n\nThe harbour opens at six.\n")
    assert load(setext).title == "Harbour Notes"
    # a section heading after the opening text is not the document's title; nor is a #hashtag
    plain = tmp_path / "plain-notes.md"
    plain.write_text("#harbour The harbour opens at six.\n\n## Background\n\nIt was built in 1901.\n")
    assert load(plain).title == "plain notes"
    titled = tmp_path / "titled.md"
    titled.write_text("---\ntitle: From Front Matter\n---\n# A Heading\n\nText here.\n")
    assert load(titled).title == "From Front Matter"


def test_an_upload_is_reported_in_plain_words(small, tmp_path):
    memo = tmp_path / "larkspur-memo.md"
    memo.write_text("# Memo: Larkspur\n\nThe ferry leaves at nine. It returns at five.\n")
    message = uploads.add(small, memo)
    assert message.startswith("Added **larkspur-memo.md** as document `larkspur-memo`: 1 passage, searchable now.")
    for jargon in ("updated", "unchanged", "removed", "embedded", "reused"):
        assert jargon not in message
    assert [d["title"] for d in small.stats()["documents"] if d["doc_id"] == "larkspur-memo"] == ["Memo: Larkspur"]


def test_stats_never_prints_empty_parentheses(small, tmp_path, capsys, monkeypatch):
    memo = tmp_path / "larkspur-memo.md"
    memo.write_text("# Memo: Larkspur\n\nThe ferry leaves at nine.\n")
    small.ingest()
    uploads.add(small, memo)
    for name in ("index_dir", "corpus_dir", "upload_dir"):
        monkeypatch.setenv(f"DOSSIER_{name.upper()}", str(getattr(small.settings, name)))
    monkeypatch.delenv("DOSSIER_CHROMA_URL", raising=False)
    with pytest.raises(SystemExit) as done:
        cli.main(["stats"])
    lines = capsys.readouterr().out.splitlines()
    assert done.value.code == 0 and "  larkspur-memo: Memo: Larkspur, 1 chunks" in lines
    assert not [line for line in lines if "(, " in line or ", )" in line or "()" in line]
    assert [line for line in lines if "(Harbor Gazette, 2020-05-04)" in line], lines  # both known: both shown
