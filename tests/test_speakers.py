"""Who a document quotes: the attribution forms of news and memos, people told from organisations."""

from app.chunking import split_sentences
from app.speakers import speakers

TEXT = ("Acme Robotics was fined on Monday. The Labour Department, which enforces the rules, said the fine was "
        "overdue. “We will appeal,” Chief Executive Dana Whitfield said in a statement. The fine is small, said "
        "Whitfield. Sales rose, according to market researcher Quantix. The firm said Acme Robotics would comply. "
        "It added that no one was hurt.")


def test_people_come_first_then_organisations_each_once_with_the_sentence_they_speak_in():
    found = speakers(split_sentences(TEXT), TEXT)
    assert [(s.name, s.person) for s in found] == [("Chief Executive Dana Whitfield", True),
                                                   ("the Labour Department", False), ("Quantix", False)]
    assert found[0].sentence.text.startswith("“We will appeal,”")


def test_a_surname_alone_is_the_person_named_in_full_and_an_inverted_said_needs_a_clause_end():
    text = "Mayor Ana Ruiz opened the hall. “It is ours,” Ruiz said. Officials said Ruiz Holdings paid for it."
    found = speakers(split_sentences(text), text)
    # "said Ruiz Holdings paid" reports what the company did: Ruiz Holdings is not speaking there
    assert [(s.name, s.person) for s in found] == [("Ana Ruiz", True)]
