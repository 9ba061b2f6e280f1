"""Removing a document in the Corpus tab: an upload goes after a confirmation; corpus documents are not offered."""

from tests.test_browser import index_state, open_page, page, upload  # noqa: F401  (page: the shared browser)


def choose(tab, label_part: str):
    tab.locator("#remove-doc input").click()
    tab.get_by_role("option").filter(has_text=label_part).first.click()


def test_an_upload_is_removed_after_confirming_and_corpus_documents_are_not_offered(page, server, tmp_path):  # noqa: F811
    tab = open_page(page.context.browser, server)
    note = tmp_path / "quarry-notes.md"
    note.write_text("---\ntitle: Quarry Notes\npublisher: Stone Club\npublished: '1970-01-02'\n---\n"
                    "The Granite Quarry closed in 1931 after a flood.\n")
    upload(tab, note)
    tab.locator("#upload-status").get_by_text("Added").wait_for(timeout=60000)
    documents, chunks, files = index_state(server)
    assert "quarry-notes.md" in files

    tab.locator("#remove-doc input").click()  # only what was added here is offered, not the corpus article
    tab.get_by_role("option").filter(has_text="Quarry Notes").first.wait_for(timeout=10000)
    assert tab.get_by_role("option").filter(has_text="U.S. bans investment").count() == 0
    tab.get_by_role("option").filter(has_text="Quarry Notes").first.click()
    tab.locator("#remove").click()
    tab.locator("#remove-confirm").wait_for(state="visible", timeout=10000)
    question = tab.locator("#remove-status").inner_text()
    assert "Remove Quarry Notes?" in question and "uploaded file is deleted" in question
    assert index_state(server)[0] == documents  # nothing happens before the confirmation
    tab.locator("#remove-confirm").click()
    tab.locator("#remove-status").get_by_text("Removed").wait_for(timeout=30000)
    assert "its file was deleted" in tab.locator("#remove-status").inner_text()
    after = index_state(server)
    assert after[0] == documents - 1 and after[1] < chunks and "quarry-notes.md" not in after[2]
    assert "Quarry Notes" not in tab.locator("#corpus-intro").inner_text()
    tab.get_by_role("tab", name="Chat").click()
    tab.locator("#question textarea").fill("When did the Granite Quarry close?")
    tab.locator("#ask").click()
    tab.locator("#chat [data-testid='bot']").first.wait_for(timeout=30000)
    tab.wait_for_function("() => document.querySelector('#sources').innerText.includes('Granite Quarry')",
                          timeout=30000)
    assert "Quarry Notes" not in tab.locator("#sources").inner_text()  # no passage of it is cited
    tab.close()
