from pathlib import Path

import pytest

from app.loaders import LoadError, doc_id_for, load
from tests.conftest import CORPUS, FIXTURES

DOCS, BAD = FIXTURES / "docs", FIXTURES / "bad"


def test_markdown_front_matter_becomes_metadata_and_is_not_text():
    doc = load(DOCS / "lighthouse.md", DOCS)
    assert doc.title == "The Harbor Lighthouse Report"
    assert (doc.publisher, doc.author, doc.published, doc.doc_type) == (
        "Harbor Gazette", "Ada Keeper", "2020-05-04", "news_article")
    assert doc.text.startswith("The Harbor Lighthouse was built in 1871")
    assert "publisher:" not in doc.text


def test_html_keeps_main_text_and_meta_tags_and_drops_scripts_and_navigation():
    doc = load(DOCS / "museum.html")
    assert (doc.title, doc.publisher, doc.author) == ("City Museum Opens Glass Wing", "Metro Daily", "Lee Curator")
    assert (doc.published, doc.url) == ("2022-03-15", "https://example.org/museum-glass")
    assert "The wing holds 300 pieces of blown glass." in doc.text
    for chrome in ("tracking", "Menu items", "Copyright footer"):
        assert chrome not in doc.text


def test_pdf_keeps_text_per_page_with_page_offsets():
    doc = load(DOCS / "bridge.pdf")
    assert doc.title == "Bridge Inspection Memo"
    assert [n for _, n in doc.pages] == [1, 2]
    assert doc.page_at(doc.text.index("Inspectors found")) == 1
    assert doc.page_at(doc.text.index("Repairs to the girders")) == 2


def test_plain_text_title_falls_back_to_file_name():
    doc = load(DOCS / "orchard.txt", DOCS)
    assert doc.title == "orchard" and doc.doc_id == "orchard"
    assert doc.text.startswith("The Valley Orchard grows eleven varieties")


@pytest.mark.parametrize("opening, title, published", [
    ("Riverside lab notes\n3 March 2025\n\nThe lab bought a printer.", "Riverside lab notes", "2025-03-03"),
    ("3 March 2025\nThe lab bought a printer.", "notes", "2025-03-03"),  # a date alone is no title
    ("Budget memo, March 14, 2024\nThe budget grew.", "Budget memo, March 14, 2024", "2024-03-14"),
    ("The lab bought a printer.\nIt cost 2025 euros.", "notes", ""),  # a sentence is no title, a number no date
])
def test_plain_text_takes_title_and_date_from_its_opening_lines(tmp_path, opening, title, published):
    path = tmp_path / "notes.txt"
    path.write_text(opening + "\n", encoding="utf-8")
    doc = load(path, tmp_path)
    assert (doc.title, doc.published) == (title, published) and doc.text.startswith(opening.split("\n")[0])


@pytest.mark.parametrize("name, reason", [
    ("corrupt.pdf", "not a PDF"),
    ("truncated.pdf", "the PDF is damaged or incomplete and cannot be read"),
    ("latin1.txt", "not UTF-8"),
    ("archive.docx", "unsupported file type '.docx'"),
])
def test_bad_files_raise_a_clear_error_naming_file_and_reason(name, reason):
    with pytest.raises(LoadError) as err:
        load(BAD / name)
    assert reason in str(err.value) and name in str(err.value)


def test_pdf_content_under_a_text_name_and_empty_files_are_refused(tmp_path):
    disguised = tmp_path / "report.txt"
    disguised.write_bytes((DOCS / "bridge.pdf").read_bytes())
    with pytest.raises(LoadError, match="content is a PDF"):
        load(disguised)
    empty = tmp_path / "empty.md"
    empty.write_text("   \n")
    with pytest.raises(LoadError, match="empty"):
        load(empty)


def test_doc_ids_are_relative_to_the_ingest_root_so_a_clone_elsewhere_gets_the_same_ids(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "My Notes.md"
    path.write_text("x")
    assert doc_id_for(path, tmp_path) == "sub/my-notes"


def test_the_real_corpus_article_keeps_its_sentences_and_drops_page_chrome():
    seed = FIXTURES / "seed" / "000_92ae885abba4528e.txt"  # the web capture the article came from
    doc = load(CORPUS / "wapo-sensetime-investment-ban.md", CORPUS)
    assert doc.publisher == "The Washington Post" and doc.published == "2021-12-10"
    assert doc.url.endswith("/us-investment-ban-sensetime/")
    for chrome in ("top of page", "bottom of page", "Kiyoshi Ota/Bloomberg",
                   "Who are the Uyghurs and what is happening", "Biden bans investment in Chinese companies linked"):
        assert chrome not in doc.text
    source = seed.read_text(encoding="utf-8")
    paragraphs = doc.text.split("\n\n")
    assert len(paragraphs) == 22
    for paragraph in paragraphs:
        assert paragraph.strip() in source
