import json
import shutil

import pytest

from app import render
from app.cli import run as cli_run
from app.pipeline import Pipeline
from app.records import DossierError
from app.sources import add_url, add_urls, from_ui, infer_type, read_manifest, slug_for
from tests.conftest import FIXTURES, ROOT, make_settings
from tests.web_fixture import site  # noqa: F401  (the fixture)


@pytest.fixture
def pipeline(tmp_path, embedder) -> Pipeline:
    """A pipeline over the small fixture corpus, its sources folder in tmp_path, allowed to reach 127.0.0.1."""
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    settings = make_settings(tmp_path, docs, chunk_size=240, sources_dir=tmp_path / "sources",
                             fetch_timeout_seconds=0.5, fetch_max_mb=0.1, fetch_allow_loopback=True)
    p = Pipeline(settings, embedder)
    p.ingest()
    return p


def _ids(pipeline) -> set[str]:
    return {d["doc_id"] for d in pipeline.stats()["documents"]}


def test_a_statement_is_added_with_its_record_and_the_page_s_own_metadata(pipeline, site):
    added = add_url(pipeline, site.url("/statement"), doc_type="official_statement")
    assert added.outcome == "added" and added.chunks_embedded > 0
    stored = [p for p in (pipeline.settings.sources_dir).rglob("*") if p.is_file()]
    page = next(p for p in stored if p.suffix == ".html")
    record = json.loads(page.with_name(page.name + ".source.json").read_text())
    assert page.read_bytes() == (FIXTURES / "web" / "statement.html").read_bytes()  # the original bytes
    assert (record["url"], record["status"], record["sniffed"]) == (site.url("/statement"), 200, "html")
    assert record["content_type"].startswith("text/html") and len(record["sha256"]) == 64 and record["fetched_at"]
    assert record["canonical_url"] == "https://harbor-safety.example.gov/news/night-ferries"  # recorded, not cited
    assert record["document"]["url"] == site.url("/statement")
    doc = next(d for d in pipeline.stats()["documents"] if d["doc_id"] == added.doc_id)
    assert (doc["title"], doc["publisher"], doc["published"], doc["type"]) == (
        "Harbor Office Sets New Rules for Night Ferries", "Office of Harbor Safety", "2023-04-18",
        "official_statement")


def test_a_question_is_answered_with_a_citation_carrying_the_page_s_url_and_type(pipeline, site):
    add_url(pipeline, site.url("/statement"), doc_type="official_statement")
    answer = pipeline.ask("How many lookouts must a night ferry carry?")
    assert not answer.abstained
    cited = [c for c in answer.citations if c.url == site.url("/statement")]
    assert cited and "two lookouts" in " ".join(c.sentence for c in cited)
    c = cited[0]
    assert (c.publisher, c.published, c.doc_type) == ("Office of Harbor Safety", "2023-04-18", "official_statement")
    assert "official statement" in render.sources_html([("q", answer)])  # the type label in the sources panel
    assert "official statement" in render.text(answer)  # and in `dossier ask`
    assert any(j["url"] == site.url("/statement") and j["doc_type"] == "official_statement"
               for j in answer.to_json()["citations"])


def test_re_adding_an_unchanged_page_re_embeds_nothing(pipeline, site):
    first = add_url(pipeline, site.url("/statement"))
    again = add_url(pipeline, site.url("/statement"))
    assert (again.outcome, again.doc_id, again.chunks_embedded) == ("unchanged", first.doc_id, 0)
    assert len(list(pipeline.settings.sources_dir.rglob("*.html"))) == 1
    record = json.loads(next(pipeline.settings.sources_dir.rglob("*.source.json")).read_text())
    assert record["checked_at"] >= record["fetched_at"]  # the first fetch is kept, the last check added


def test_a_changed_page_is_a_new_version_and_the_old_one_stays_citable(pipeline, site):
    v1 = add_url(pipeline, site.url("/notice"))
    site.notice = 2
    v2 = add_url(pipeline, site.url("/notice"))
    assert (v1.outcome, v2.outcome) == ("added", "new version") and v2.earlier == [v1.doc_id]
    assert v1.doc_id != v2.doc_id and {v1.doc_id, v2.doc_id} <= _ids(pipeline)
    old = pipeline.ask("Where are lantern passes for the evening tours sold?")
    assert any(c.doc_id == v1.doc_id and "lantern passes" in c.sentence for c in old.citations)
    new = pipeline.ask("Are the evening tours of the old harbor cancelled?")
    assert any(c.doc_id == v2.doc_id and "cancelled" in c.sentence for c in new.citations)
    # A restart (ingest of the default folders) keeps both versions and prunes neither.
    report = pipeline.ingest()
    assert not report.removed and {v1.doc_id, v2.doc_id} <= _ids(pipeline)


def test_a_pdf_is_added_through_the_pdf_loader(pipeline, site):
    added = add_url(pipeline, site.url("/download?id=7"))
    assert added.outcome == "added"
    assert next(pipeline.settings.sources_dir.rglob("*.pdf")).read_bytes()[:5] == b"%PDF-"
    doc = next(d for d in pipeline.stats()["documents"] if d["doc_id"] == added.doc_id)
    assert doc["title"] == "Annual Ferry Report"
    answer = pipeline.ask("How many ferries are licensed to sail after dark?")
    assert any(c.doc_id == added.doc_id and c.page == 1 for c in answer.citations)


def test_a_redirected_url_is_cited_at_the_address_it_reached(pipeline, site):
    added = add_url(pipeline, site.url("/old-address"), doc_type="official_statement")
    record = json.loads(next(pipeline.settings.sources_dir.rglob("*.source.json")).read_text())
    assert (record["url"], record["final_url"]) == (site.url("/old-address"), site.url("/statement"))
    assert record["document"]["url"] == site.url("/statement") and added.ok


def test_failures_are_one_line_each_and_leave_nothing_behind(pipeline, site):
    results = add_urls(pipeline, [{"url": site.url("/missing")}, {"url": site.url("/huge")},
                                  {"url": site.url("/slow")}, {"url": site.url("/statement")}])
    assert [r.outcome for r in results] == ["failed", "failed", "failed", "added"]
    for r, why in zip(results, ["HTTP 404", "limit", "timed out"]):
        assert why in r.reason and "\n" not in r.line() and r.line().startswith("could not add " + r.url)
    assert len([p for p in pipeline.settings.sources_dir.rglob("*") if p.is_file()]) == 2  # one page, one record


def test_a_page_with_nothing_to_cite_is_refused_in_the_url_s_own_words(pipeline, site):
    [result] = add_urls(pipeline, [{"url": site.url("/empty")}])
    assert result.line() == f"could not add {site.url('/empty')}: no text found"
    assert not pipeline.settings.sources_dir.exists() or not any(pipeline.settings.sources_dir.rglob("*.html"))


def test_the_server_path_refuses_loopback_and_fetches_nothing(tmp_path, embedder, site):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    pipeline = Pipeline(make_settings(tmp_path, docs, sources_dir=tmp_path / "sources"), embedder)  # loopback not allowed
    message = from_ui(pipeline, site.url("/statement") + "\n" + site.url("/notice").replace("127.0.0.1", "localhost"))
    assert message.count("**Not added:**") == 2 and "loopback" in message
    assert site.requests == [] and not (tmp_path / "sources").exists()
    with pytest.raises(DossierError, match="at most"):
        from_ui(pipeline, " ".join(f"https://example.org/{i}" for i in range(11)))


def test_type_is_inferred_from_the_host():
    assert infer_type("https://home.example.gov/news/1") == "official_statement"
    assert infer_type("https://www.gov.example/x") == "official_statement"
    assert infer_type("https://www.example.com/2021/story") == "news_article"
    assert infer_type("https://governance.example.org/") == "news_article"  # a label, not a substring


def test_slugs_are_safe_folder_names_and_distinct_per_query():
    assert slug_for("https://www.example.gov/news/press-releases/ab0526") == "example.gov-news-press-releases-ab0526"
    a, b = slug_for("https://example.org/view?id=1"), slug_for("https://example.org/view?id=2")
    assert a != b and "/" not in a and ".." not in a


def test_the_repository_manifest_is_valid_and_lists_only_official_records():
    entries = read_manifest(ROOT / "corpus" / "sources.toml")
    assert entries and all(e["url"].startswith("https://") and e["type"] == "official_statement" for e in entries)
    assert all(e.get("title") and e.get("publisher") for e in entries)


def test_a_malformed_manifest_is_a_clear_error(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text('[[source]]\ntitle = "no url"\n')
    with pytest.raises(DossierError, match="source 1 has no url"):
        read_manifest(bad)
    bad.write_text('[[source]]\nurl = "https://example.org"\ncolour = "red"\n')
    with pytest.raises(DossierError, match="unknown fields"):
        read_manifest(bad)


def test_cli_add_from_a_manifest_reports_each_url_and_fails_only_if_nothing_was_added(tmp_path, site, monkeypatch,
                                                                                       capsys):
    for name, value in {"INDEX_DIR": tmp_path / "index", "CORPUS_DIR": tmp_path / "empty",
                        "UPLOAD_DIR": tmp_path / "uploads", "SOURCES_DIR": tmp_path / "sources",
                        "FETCH_TIMEOUT_SECONDS": "0.5"}.items():
        monkeypatch.setenv(f"DOSSIER_{name}", str(value))
    monkeypatch.delenv("DOSSIER_CHROMA_URL", raising=False)
    manifest = tmp_path / "sources.toml"
    manifest.write_text(f'[[source]]\nurl = "{site.url("/missing")}"\n\n'
                        f'[[source]]\nurl = "{site.url("/statement")}"\ntype = "official_statement"\n')
    assert cli_run(["add", "--manifest", str(manifest)]) == 0
    out, err = capsys.readouterr()
    assert err.strip() == f"could not add {site.url('/missing')}: the server answered HTTP 404 Not Found"
    assert out.startswith(f"added {site.url('/statement')} as ") and "official statement" in out
    assert cli_run(["add", site.url("/missing"), site.url("/slow")]) == 1  # nothing added: non-zero
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_the_manifest_and_sidecars_are_not_ingested_as_documents(tmp_path, embedder, site):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / "sources.toml", corpus / "sources.toml")
    shutil.copy(FIXTURES / "docs" / "orchard.txt", corpus / "orchard.txt")
    pipeline = Pipeline(make_settings(tmp_path, corpus, sources_dir=tmp_path / "sources",
                                      fetch_allow_loopback=True), embedder)
    add_url(pipeline, site.url("/statement"))
    report = pipeline.ingest()
    assert not report.errors and len(_ids(pipeline)) == 2


def _ui_handler(pipeline, name):
    from app.web import build_ui

    ui = build_ui(pipeline, pipeline.settings)
    handlers = [f.fn for f in ui.fns.values() if getattr(f.fn, "__name__", "") == name]
    return ui, handlers[0] if handlers else None


def test_the_corpus_tab_has_no_url_box_unless_the_setting_is_on(pipeline):
    ui, handler = _ui_handler(pipeline, "add_by_url")
    assert handler is None and "add-url" not in {getattr(b, "elem_id", None) for b in ui.blocks.values()}


def test_the_corpus_tab_url_box_adds_a_public_page_and_refuses_this_machine(tmp_path, embedder, site):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    pipeline = Pipeline(make_settings(tmp_path, docs, sources_dir=tmp_path / "sources", ui_add_urls=True), embedder)
    ui, handler = _ui_handler(pipeline, "add_by_url")
    assert "add-url" in {getattr(b, "elem_id", None) for b in ui.blocks.values()}
    message, table, box, intro = handler(site.url("/statement"))
    assert "Not added" in message and "loopback" in message and site.requests == []
    message, *_ = handler("")
    assert message.startswith("**Not added.**")


def test_the_corpus_tab_url_box_adds_a_page_and_lists_it(tmp_path, embedder, site):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "docs", docs)
    pipeline = Pipeline(make_settings(tmp_path, docs, sources_dir=tmp_path / "sources", ui_add_urls=True,
                                      fetch_allow_loopback=True), embedder)
    _, handler = _ui_handler(pipeline, "add_by_url")
    message, table, box, intro = handler(site.url("/statement"))
    assert message.startswith("added ") and "Not added" not in message and box == ""
    assert any(row[0] == "Harbor Office Sets New Rules for Night Ferries" for row in table)


def test_an_answer_quoting_a_news_article_and_a_statement_lists_both_with_their_own_metadata(pipeline, site):
    add_url(pipeline, site.url("/statement"), doc_type="official_statement")
    answer = pipeline.ask("List the facts about lamps.")
    kinds = {c.doc_type: c for c in answer.citations}
    assert set(kinds) == {"news_article", "official_statement"}
    news, statement = kinds["news_article"], kinds["official_statement"]
    assert (news.publisher, news.url) == ("Harbor Gazette", "https://example.org/harbor-lighthouse")
    assert (statement.publisher, statement.url) == ("Office of Harbor Safety", site.url("/statement"))
    panel = render.sources_html([("List the facts about lamps.", answer)])
    assert "news article" in panel and "official statement" in panel


def test_re_adding_with_another_type_updates_the_same_version(pipeline, site):
    first = add_url(pipeline, site.url("/statement"))
    again = add_url(pipeline, site.url("/statement"), doc_type="official_statement")
    assert (first.doc_type, again.doc_type, again.outcome, again.doc_id) == (
        "news_article", "official_statement", "updated", first.doc_id)
    doc = next(d for d in pipeline.stats()["documents"] if d["doc_id"] == first.doc_id)
    assert doc["type"] == "official_statement" and len(_ids(pipeline)) == 5  # four fixture documents and this one


def test_re_adding_with_another_type_long_after_the_last_check_still_updates_it(pipeline, site):
    import os
    import time

    first = add_url(pipeline, site.url("/statement"))
    past = time.time() - 120
    for path in pipeline.settings.sources_dir.rglob("*"):
        os.utime(path, (past, past))
    assert add_url(pipeline, site.url("/statement")).outcome == "unchanged"  # now known by size and mtime
    again = add_url(pipeline, site.url("/statement"), doc_type="official_statement")  # rewrites the sidecar alone
    doc = next(d for d in pipeline.stats()["documents"] if d["doc_id"] == first.doc_id)
    assert (again.outcome, doc["type"]) == ("updated", "official_statement")


def test_a_removed_fetched_page_is_gone_with_its_record_and_does_not_come_back(pipeline, site):
    from app import removal

    added = add_url(pipeline, site.url("/statement"), doc_type="official_statement")
    title, own = removal.check(pipeline, added.doc_id)
    assert own and removal.inside(own, pipeline.settings.sources_dir)
    done = removal.remove(pipeline, added.doc_id)
    assert done.deleted_file == own and not list(pipeline.settings.sources_dir.rglob("*.source.json"))
    pipeline.ingest()  # the next start reads sources/ again: nothing brings the page back
    assert added.doc_id not in _ids(pipeline)
