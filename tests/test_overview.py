"""Questions about the documents themselves, small talk and help, on a second corpus of four documents."""

import pytest

from app.render import chat_html


def resolves(answer, pipeline):
    chunks = {c.chunk_id: c for c in pipeline.store.chunks()}
    for c in answer.citations:
        chunk = chunks[c.chunk_id]
        assert chunk.text[c.start - chunk.start:c.end - chunk.start] == c.sentence


@pytest.mark.parametrize("question", ["hello", "thanks!", "what can you do?", "what documents do you have?"])
def test_small_talk_and_help_say_what_the_corpus_holds_without_refusing(memos, question):
    answer = memos.ask(question)
    assert not answer.abstained and answer.citations == []
    assert "4 documents" in answer.answer and "Millbrook Public Library" in answer.answer
    assert "don't mention" not in answer.answer


@pytest.mark.parametrize("message, kind", [("morning! I'll have a question for you shortly", "smalltalk"),
                                           ("can you browse websites too, or only these files?", "help")])
def test_conversation_no_pattern_catches_is_recognised_by_the_model_not_refused(memos, message, kind):
    answer = memos.ask(message)
    assert not answer.abstained and answer.diagnostics == {"intent": kind}
    assert "4 documents" in answer.answer and "don't say" not in answer.answer


@pytest.mark.parametrize("message", ["that'll do, have a good one", "ok thanks, bye"])
def test_a_farewell_gets_a_goodbye_not_a_hello(memos, message):
    answer = memos.ask(message)
    assert not answer.abstained and "Goodbye!" in answer.answer and "Hello" not in answer.answer


def test_a_question_the_sources_fail_is_still_refused_however_short(memos):
    assert memos.ask("what colour is the buoy?").abstained  # not mistaken for conversation


def test_a_summary_is_the_lead_and_central_sentences_cited(memos):
    answer = memos.ask("summarize the larkspur memo")
    assert not answer.abstained and answer.citations[0].sentence == "Project Larkspur is led by Dr. Tomasz Okafor."
    assert {c.doc_id for c in answer.citations} == {"larkspur-status-memo"}
    title = answer.citations[0].title
    assert title and answer.answer.startswith(f"From “{title}”") and answer.composed  # the headline leads, unmarked
    assert len(answer.answer.split()) <= memos.settings.max_answer_words * 1.5 + len(title.split()) + 10
    resolves(answer, memos)


def test_a_summary_of_several_documents_names_each_and_gives_its_lead(memos):
    answer = memos.ask("tl;dr")
    assert len({c.doc_id for c in answer.citations}) == 4 and answer.answer.startswith("The 4 documents")
    for doc_id in {c.doc_id for c in answer.citations}:
        mine = [c for c in answer.citations if c.doc_id == doc_id]
        assert 1 <= len(mine) <= 2
        # each document's sentences follow its own name, in document order
        named_at = answer.answer.index(f"From “{mine[0].title}”")
        assert all(named_at < answer.answer.index(f"{c.sentence} [{c.marker}]") for c in mine)
        assert [c.start for c in mine] == sorted(c.start for c in mine)
    assert [c.marker for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    resolves(answer, memos)


def test_summarize_the_documents_in_a_conversation_about_one_of_them_covers_them_all(memos):
    first = memos.ask("who leads project larkspur?")
    history = [{"role": "user", "content": "who leads project larkspur?"},
               {"role": "assistant", "content": first.answer}]
    assert {c.doc_id for c in memos.ask("summarize it", history).citations} == {"larkspur-status-memo"}
    answer = memos.ask("Summarize the documents", history)
    assert len({c.doc_id for c in answer.citations}) == 4 and answer.answer.startswith("The 4 documents")


def test_author_date_and_source_come_from_metadata_labelled_as_such(memos):
    author = memos.ask("who wrote the larkspur memo?")
    assert "written by Priya Ramanathan" in author.answer and "document's details" in author.answer
    assert "Priya Ramanathan" in author.citations[0].sentence
    # the memo names its author in its own first line, which also says to whom it is addressed: quoted
    assert "“To the executive steering committee, from Priya Ramanathan in the program office.”" in author.answer
    date = memos.ask("when was the footbridge article published?")
    assert "May 16, 2024" in date.answer
    resolves(date, memos)


def test_whether_a_document_was_revised_gets_its_date_and_the_short_line_that_dates_it_quoted(memos):
    answer = memos.ask("has the library policy been revised since it came out?")
    assert "was published on January 15, 2024." in answer.answer
    assert "The text says: “This policy was adopted by the Library Board of Trustees on January 15, 2024.”" \
        in answer.answer
    resolves(answer, memos)


@pytest.mark.parametrize("message", ["is anyone there?", "how should I phrase questions to get the best answers?"])
def test_asking_whether_someone_is_there_or_how_to_ask_is_help(memos, message):
    answer = memos.ask(message)
    assert not answer.abstained and answer.diagnostics == {"intent": "help"} and "4 documents" in answer.answer


def test_who_a_document_comes_from_asked_with_other_verbs_names_that_document_only(memos):
    # "and", "for" are in the library policy's title and its author's name: no reason to name it too
    for question in ("Which office sent out the Larkspur memo?", "Who authored the Larkspur update, and for whom?"):
        answer = memos.ask(question)
        assert "from Priya Ramanathan in the program office" in answer.answer, question
        assert "Millbrook" not in answer.answer, question


def test_a_relative_date_gets_the_publication_date_labelled(memos):
    answer = memos.ask("When did the Riverside footbridge reopen?")
    assert "Tuesday" in answer.answer and "(its publication date)" in answer.answer
    resolves(answer, memos)


def test_the_memo_questions_from_the_issue(memos):
    assert "Tomasz Okafor" in memos.ask("Who leads Project Larkspur?").answer
    assert "14 engineers" in memos.ask("How many engineers did the team hire?").answer


def test_the_headline_comes_from_metadata_and_the_opening_line_is_quoted_and_cited(memos):
    answer = memos.ask("what's the headline of the footbridge article?")
    title = next(c.meta["title"] for c in memos.store.chunks() if c.doc_id == "riverside-footbridge-reopens")
    assert f"The headline is “{title}”" in answer.answer and len(answer.citations) == 1
    assert answer.citations[0].doc_id == "riverside-footbridge-reopens"
    assert answer.citations[0].sentence.splitlines()[0] in answer.answer
    resolves(answer, memos)


def test_a_news_lede_standing_alone_in_its_paragraph_leads_the_summary(memos):
    answer = memos.ask("summarize the footbridge article")
    assert answer.citations[0].sentence.startswith("The Riverside footbridge over the Ashby River reopened")


def test_an_faq_answer_is_quoted_without_its_label(memos):
    answer = memos.ask("what does the nimbus station measure?")
    assert not answer.abstained and answer.citations[0].sentence.startswith("The Nimbus station measures")
    assert not any(c.sentence.startswith(("A:", "Q:")) for c in answer.citations)
    resolves(answer, memos)


def test_a_summary_quotes_no_faq_question_and_no_address_line(memos):
    for question in ("summarize the nimbus faq", "summarize the larkspur memo", "Summarize the documents"):
        answer = memos.ask(question)
        assert answer.citations and not any(c.sentence.rstrip().endswith("?") for c in answer.citations), question
        assert not any(c.sentence.startswith("To the executive steering committee") for c in answer.citations)


def test_a_summary_of_several_documents_gives_each_its_own_line(memos):
    answer = memos.ask("Summarize the documents")
    lines = answer.answer.split("\n")
    assert lines[0] == "The 4 documents:" and len(lines) == 5 and all(x.startswith("From “") for x in lines[1:])
    assert chat_html(answer, 1).count("<br>") == 4


@pytest.mark.parametrize("question", ["who gets quoted?", "Which people are quoted by name in these documents?"])
def test_who_is_quoted_lists_the_speakers_each_cited_where_they_speak(memos, question):
    answer = memos.ask(question)
    assert not answer.abstained and answer.diagnostics == {"intent": "quoted"}
    # the surname quoted alone ("Voss said") is named in full, as the story names her earlier
    assert "Helen Voss [1]" in answer.answer and "Anil Mehta [2]" in answer.answer
    assert "Voss said" in answer.citations[0].sentence and "Mehta said" in answer.citations[1].sentence
    assert "The other 3 documents quote no one by name." in answer.answer
    resolves(answer, memos)


def test_a_question_about_one_speaker_is_not_a_question_about_who_is_quoted(memos):
    answer = memos.ask("who's the city official quoted about future inspections?")
    assert answer.diagnostics.get("intent") != "quoted" and "Mehta" in answer.answer


def test_a_summary_asked_for_in_bullet_points_gives_that_many_one_a_line(memos):
    answer = memos.ask("summarize the footbridge story in 2 bullet points")
    lines = answer.answer.split("\n")
    assert lines[0].startswith("From “Riverside footbridge reopens") and len(lines) == 3
    assert all(line.startswith("• ") and line.endswith(f"[{i}]") for i, line in enumerate(lines[1:], start=1))
    resolves(answer, memos)
    assert "\n" not in memos.ask("summarize the footbridge story").answer  # prose when no points are asked for
