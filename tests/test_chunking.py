import pytest

from app.chunking import chunk_document, split_sentences, standalone, unlabelled
from app.loaders import load
from app.records import Chunk, Document
from tests.conftest import CORPUS, FIXTURES


def test_sentences_respect_abbreviations_quotes_and_offsets():
    text = ('The U.S. Treasury acted on Friday. It said the firm "has developed programs." '
            'Existing investors have one year.\nA heading without a period')
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "The U.S. Treasury acted on Friday.", 'It said the firm "has developed programs."',
        "Existing investors have one year.", "A heading without a period"]
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_chunks_are_verbatim_slices_with_overlap_and_stable_ids():
    doc = load(CORPUS / "wapo-sensetime-investment-ban.md", CORPUS)
    chunks = chunk_document(doc, chunk_size=480, overlap=1)
    assert len(chunks) > 10
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert chunk.chunk_id == Chunk.make_id(doc.doc_id, chunk.text)
        assert chunk.meta["n_chunks"] == len(chunks)
    overlapping = sum(1 for a, b in zip(chunks, chunks[1:]) if b.start < a.end)
    assert overlapping >= len(chunks) // 2
    assert [c.chunk_id for c in chunk_document(doc)] == [c.chunk_id for c in chunks]


def test_an_edit_changes_only_the_ids_of_chunks_whose_text_changed():
    doc = load(CORPUS / "wapo-sensetime-investment-ban.md", CORPUS)
    before = chunk_document(doc)
    edited_text = doc.text.replace("bottom", "bottom") + "\n\nA new closing paragraph was added."
    after = chunk_document(Document(**{**doc.__dict__, "text": edited_text}))
    kept = {c.chunk_id for c in before} & {c.chunk_id for c in after}
    assert len(kept) >= len(before) - 1


def test_pdf_chunks_carry_their_page_and_never_cross_pages():
    doc = load(FIXTURES / "docs" / "bridge.pdf")
    chunks = chunk_document(doc, chunk_size=1000)
    assert {c.page for c in chunks} == {1, 2}
    assert all(doc.page_at(c.start) == doc.page_at(c.end - 1) == c.page for c in chunks)


def test_an_faq_label_is_not_part_of_a_quoted_sentence():
    text = "Q: Is there a fee?\nA: Basic forecasts are free. Answer: yes.\nA:"
    plain = [unlabelled(s) for s in split_sentences(text)]
    assert [s.text for s in plain] == ["Is there a fee?", "Basic forecasts are free.", "yes.", "A:"]
    assert all(text[s.start:s.end] == s.text for s in plain)
    assert unlabelled(split_sentences("Area: 51 square miles.")[0]).text == "Area: 51 square miles."


@pytest.mark.parametrize("sentence, previous, alone", [
    ("The project is building a buoy.", "Project Larkspur is led by Dr. Ada Lund.", "Project Larkspur is building a buoy."),
    ("It does not measure pollen.", "The Nimbus station measures rain.", "Nimbus station does not measure pollen."),
    ("Its battery lasts a week.", "The Nimbus station measures rain.", "Nimbus station's battery lasts a week."),
    ("It applies to every branch.", "It takes effect on February 1.", "It applies to every branch."),  # a date is no one
    ("He said it was fine.", "Then Mayor Ada Lund met Ines Calder.", "He said it was fine."),  # two people: which one?
    ("It added a fee.", "The Treasury Department, which runs the list, said Acme broke it.",
     "Treasury Department added a fee."),  # the subject of the sentence before
    ("It also fined Acme.", "The Biden administration announced the move.", "Biden administration also fined Acme."),
    ("He said yes.", "Public works director Anil Mehta said no.", "He said yes."),  # "Public" is no one
    ("The company said no.", "Project Larkspur is led by Dr. Ada Lund.", "The company said no."),
    ("The bridge was shut.", "The Riverside footbridge reopened on Tuesday.", "Riverside footbridge was shut."),
    ("It is new.", "## Project Larkspur", "It is new."),  # after a heading
])
def test_a_sentence_reads_on_its_own_with_the_name_it_refers_back_to(sentence, previous, alone):
    assert standalone(sentence, previous) == alone


def test_a_time_abbreviation_before_a_quotation_ends_the_sentence():
    text = 'The mayor cut a ribbon shortly after 8 a.m. "People have been patient," she said. It opened at 9 a.m. Tuesday.'
    assert [s.text for s in split_sentences(text)] == [
        "The mayor cut a ribbon shortly after 8 a.m.", '"People have been patient," she said.',
        "It opened at 9 a.m. Tuesday."]
