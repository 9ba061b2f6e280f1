from app import render
from app.records import Answer, Citation


def citation(marker=1, sentence='The payload <script>alert("xss")</script> sits here.',
             text='Before. The payload <script>alert("xss")</script> sits here. After <img src=x onerror=alert(1)>.'):
    return Citation(marker, "doc:abc", "doc", 'Unsafe <b>title</b>', "Pub", "2020-01-02", "javascript:alert(1)",
                    "news_article", 3, text, 10, 20, sentence)


def test_document_text_is_escaped_everywhere_html_is_made():
    answer = Answer("q?", "q?", "x [1]", False, [citation()])
    for html in (render.chat_html(answer, 1), render.sources_html([("q?", answer)])):
        assert "<script>" not in html and "<img" not in html and "<b>title" not in html
        assert "&lt;script&gt;" in html
    panel = render.sources_html([("q?", answer)])
    assert "javascript:" not in panel  # only http(s) links are made clickable
    assert "<mark>The payload &lt;script&gt;" in panel and 'id="src-1-1"' in panel and "p. 3" in panel


def test_markers_link_to_their_passage_and_abstentions_look_different():
    answer = Answer("q?", "q? (ctx)", "x [1]", False, [citation(sentence="Plain sentence.", text="Plain sentence.")])
    chat = render.chat_html(answer, 2)
    assert 'href="#src-2-1"' in chat and "Searched for: q? (ctx)" in chat
    abstained = Answer("q?", "q?", "The sources don't say.", True, [], [citation()])
    assert 'class="abstain"' in render.chat_html(abstained, 1)
    assert "do not answer the question" in render.sources_html([("q?", abstained)])


def test_markdown_export_quotes_each_source_with_title_date_and_url():
    answer = Answer("Why?", "Why?", "Because. [1]", False,
                    [citation(sentence="Because.", text="Because.")])
    md = render.markdown([("Why?", answer)])
    assert "## Q1: Why?" in md and "Because. [1]" in md
    assert "- [1] [Unsafe <b>title</b>](javascript:alert(1)), Pub, 2020-01-02" in md and "  > Because." in md


def test_near_misses_are_not_highlighted_as_support():
    near = Citation(1, "d:1", "d", "T", "", "", "", "", None, "A b. C d.", 0, 4, "A b.")
    panel = render.sources_html([("q?", Answer("q?", "q?", "The sources don't say.", True, [], [near]))])
    assert "<mark>" not in panel and 'class="closest"' in panel


def test_composed_answers_show_their_own_text_with_linked_markers():
    meta = Answer("who wrote this?", "who wrote this?", "“T” was written by A <b>B</b>. [1] (from the document's details)",
                  False, [citation(sentence="By A B", text="By A B")], composed=True)
    chat = render.chat_html(meta, 3)
    assert "was written by A &lt;b&gt;B&lt;/b&gt;." in chat and 'href="#src-3-1"' in chat
    hello = Answer("hello", "hello", "Hello! I answer questions from 1 document.", False, composed=True)
    assert render.chat_html(hello, 1) == "Hello! I answer questions from 1 document."


def doc(title, publisher="", published="", doc_id="d"):
    return {"doc_id": doc_id, "title": title, "publisher": publisher, "published": published}


def test_the_corpus_intro_names_count_publishers_dates_and_titles():
    one = render.corpus_intro([doc("Ban *news*", "The Post", "2021-12-10")])
    assert one == "**In the index:** 1 document from The Post, dated December 10, 2021: “Ban \\*news\\*”."
    many = render.corpus_intro([doc("A", "P1", "2021-12-16"), doc("B", "P2", "2019-05-01T10:00"), doc("", "P1", "", "memo"),
                                doc("C", "P3"), doc("D", "P4"), doc("E")])
    assert many.startswith("**In the index:** 6 documents (5 from P1, P2, P3 and 1 more publisher, 1 without a named "
                           "publisher), dated from May 1, 2019 to December 16, 2021 (4 without a date): ")
    assert many.endswith("“A”, “B”, “memo”, “C” and 2 more documents (the Corpus tab lists them all).")
    assert "Corpus" in render.corpus_intro([]) and "empty" in render.corpus_intro([])
    assert render.corpus_intro([doc("<b>x</b>")]) == "**In the index:** 1 document: “&lt;b&gt;x&lt;/b&gt;”."
    # an upload without publisher or date is never credited to the article's
    mixed = render.corpus_intro([doc("Ban", "The Post", "2021-12-10"), doc("Canal notes")])
    assert mixed.startswith("**In the index:** 2 documents (1 from The Post, 1 without a named publisher), "
                            "dated December 10, 2021 (1 without a date): ")


def test_the_timeline_is_escaped_and_each_event_folds_out_to_its_highlighted_passage():
    from app.records import Event

    stated = Event("2019", "year", "2019", False, "", "in 2019", citation().sentence, citation())
    friday = Event("2020-01-03", "day", "3 Jan 2020", True, "“on Friday”: the Friday <i>before</i>", "on Friday",
                   "Plain sentence.", citation(2, sentence="Plain sentence.", text="Plain sentence. More."))
    page = render.timeline_html([stated, friday])
    assert "<script>" not in page and "<img" not in page and "<b>title" not in page and "<i>" not in page
    assert "javascript:" not in page and page.count("<details>") == 2
    assert "<mark>The payload &lt;script&gt;" in page and "<mark>Plain sentence.</mark> More." in page
    assert page.count("inferred from publication date") == 1 and "2 dated events from 1 document" in page
    assert 'data-date="2019"' in page and page.index("2019") < page.index("3 Jan 2020")
    assert "No dated events" in render.timeline_html([]) and "No dated events" in render.timeline_text([])
    assert "3 Jan 2020 (inferred)" in render.timeline_text([friday])


def test_the_conversation_s_words_shown_as_searched_for_are_cut_short():
    from app.records import Answer

    long = "Who else? (" + " ".join(["Treasury Department added officials Xinjiang region"] * 8) + ")"
    shown = render.searched_for(Answer("who else?", long, "…", False, [], []))
    assert shown.startswith("Who else? (Treasury Department") and shown.endswith(" …)")
    assert len(shown) <= len("Who else? ()") + render.SEARCHED_CONTEXT_CHARS + 2
    short = "and when? (Trump administration 2019)"
    assert render.searched_for(Answer("and when?", short, "…", False, [], [])) == short


def test_a_pasted_page_as_a_question_is_shown_as_its_start_and_end():
    pasted = "Treasury said this. " * 1000 + "So what did Treasury say?"
    answer = Answer(pasted, pasted.replace("this", "that"), "…", True, [], [])
    shown = render.searched_for(answer)
    assert len(shown) <= render.LABEL_CHARS + 10 and shown.endswith("So what did Treasury say?") and " … " in shown
    panel = render.sources_html([(pasted, answer)])
    assert len(panel) < 1000 and "So what did Treasury say?" in panel
    exported = render.markdown([(pasted, answer)])
    heading = next(line for line in exported.splitlines() if line.startswith("## Q1"))
    assert len(heading) < render.LABEL_CHARS + 20 and f"> {pasted}" in exported  # the record keeps it whole
    assert render.searched_for(Answer("why?", "why was it banned?", "…", False, [], [])) == "why was it banned?"


def test_a_documents_further_cards_in_one_answer_keep_its_title_to_one_line():
    first, second = citation(1), citation(2)
    other = Citation(3, "other:1", "other", "Other title", "", "", "", "", None, "A b. C d.", 0, 4, "A b.")
    panel = render.sources_html([("q?", Answer("q?", "q?", "x [1] y [2] z [3]", False, [first, second, other], []))])
    assert 'class="source" id="src-1-1"' in panel and 'class="source again" id="src-1-2"' in panel
    assert 'class="source" id="src-1-3"' in panel  # another document's first card shows its title whole
    assert 'title="Unsafe &lt;b&gt;title&lt;/b&gt;"' in panel  # whole on hover, escaped
