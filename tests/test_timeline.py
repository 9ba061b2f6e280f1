"""The timeline: dates read from sentences, relative ones resolved from the publication date."""

from datetime import date
from pathlib import Path

import pytest

from app.chunking import chunk_document
from app.loaders import load
from app.timeline import events_in, timeline
from tests.conftest import FIXTURES

HARBOR = FIXTURES / "timeline" / "harbor-notes.md"  # published Thursday 16 March 2023


def chunks_of(*paths: Path, chunk_size: int = 480) -> list:
    return [c for p in paths for c in chunk_document(load(p), chunk_size=chunk_size)]


def dated(events) -> list[tuple]:
    return [(e.date, e.label, e.inferred, e.phrase) for e in events]


def test_stated_and_inferred_dates_of_a_small_document_in_date_order():
    events = timeline(chunks_of(HARBOR))
    assert dated(events) == [
        ("1921-02-03", "3 Feb 1921", False, "3 February 1921"),
        ("1962", "1962", False, "in 1962"),
        ("1988-10", "Oct 1988", False, "October 1988"),
        ("2022-08-04", "4 Aug 2022", False, "Aug. 4, 2022"),
        ("2023-03-06", "week of 6 Mar 2023", True, "last week"),
        ("2023-03-14", "14 Mar 2023", True, "on Tuesday"),  # the Tuesday before a Thursday
        ("2023-03-20", "20 Mar 2023", True, "on Monday"),  # "will vote on Monday": the next one
        ("2023-05", "May 2023", True, "in May"),
        ("2023-06-01", "1 Jun 2023", True, "June 1"),
    ]
    assert [e.precision for e in events] == ["day", "year", "month", "day", "week", "day", "day", "month", "day"]
    tuesday = events[5]
    assert tuesday.how == "“on Tuesday”: the Tuesday on or before the publication date (16 Mar 2023)"
    assert events[8].how == "year taken from the publication date (16 Mar 2023)"
    assert [e.citation.marker for e in events] == list(range(1, 10))


def test_each_event_cites_its_verbatim_sentence_in_its_passage():
    text = load(HARBOR).text
    events = timeline(chunks_of(HARBOR, chunk_size=120))
    assert len(events) == 9
    for e in events:
        c = e.citation
        assert c.sentence == e.sentence == text[c.start:c.end] and c.sentence in c.text
        assert (c.title, c.publisher, c.published, c.url) == ("Harbor Commission Notes", "The Port Gazette",
                                                              "2023-03-16", "https://example.org/harbor-notes")


def test_headings_bylines_datelines_questions_quotes_and_recurring_days_give_no_event():
    sentences = {e.sentence for e in timeline(chunks_of(HARBOR))}
    for left_out in ("March 16, 2023", "By Ana Ruiz", "Was the pier closed to ferries in 2020?",
                     "Ferries stop at the pier on the first Wednesday of each month.",
                     "\"We finally start today,\" the harbor master said at the meeting."):
        assert left_out not in sentences
    published = date(2023, 3, 16)
    assert events_in("Updated March 16, 2023 at 10 a.m.", published) == []
    assert events_in("Inspectors may visit in March.", published)[0][0].iso == "2023-03"  # "may" is no month


@pytest.mark.parametrize("sentence, iso, precision, inferred", [
    ("The plant closed on December 10, 2021.", "2021-12-10", "day", False),
    ("The plant closed on Dec. 10, 2021, at noon.", "2021-12-10", "day", False),
    ("The plant closed on Dec. 10 at noon.", "2023-12-10", "day", True),
    ("The plant closed in October 2019 for good.", "2019-10", "month", False),
    ("The plant closed in 2019 for good.", "2019", "year", False),
    ("The plant closed yesterday for good.", "2023-03-15", "day", True),
    ("The plant closed last year for good.", "2022", "year", True),
    ("The plant closed last month for good.", "2023-02", "month", True),
    ("The plant closed on Thursday for good.", "2023-03-16", "day", True),  # the day of writing itself
    ("The plant closed last Thursday for good.", "2023-03-09", "day", True),
    ("The plant closed last September for good.", "2022-09", "month", True),
    ("The plant closed this summer for good.", "2023-06", "season", True),
    ("The plant closed on 2020-05-04 for good.", "2020-05-04", "day", False),
])
def test_one_date_is_resolved(sentence, iso, precision, inferred):
    [(when, _)] = events_in(sentence, date(2023, 3, 16))
    assert (when.iso, when.precision, bool(when.how)) == (iso, precision, inferred)


@pytest.mark.parametrize("sentence, found", [
    ("Prices rose between 2018 and 2019 in most towns.", ["2018", "2019"]),
    ("The town grew from 1990 to 2005 in size.", ["1990", "2005"]),
    ("The value runs from 1000 to 9999 inclusive.", []),  # a range of numbers
    ("It must be a value between 1024 and 65011712, inclusive.", []),
    ("The gauge counts by 1000 bytes per second.", []),  # a quantity
    ("It rose to 2000 after the vote.", []),  # "to" starts a year only after another year
    ("It happened in the last week of the term.", []),
    ("We read last week's data from the table.", []),
    ("If you omit the weekday it is assumed to be 1 (Monday).", []),
    ("Bins go out on Monday, Wednesday and Friday in most streets.", ["2023-03-13"]),  # "on Monday" only
])
def test_numbers_and_names_that_are_not_dates(sentence, found):
    assert [when.iso for when, _ in events_in(sentence, date(2023, 3, 16))] == found


def test_relative_dates_need_a_publication_date():
    assert events_in("The plant closed on Friday after a long strike.", None) == []
    assert events_in("The plant closed in 2019 after a long strike.", None)[0][0].iso == "2019"


def test_a_second_corpus_gets_its_own_events_without_rules_naming_its_words():
    corpus2 = sorted((FIXTURES / "corpus2").glob("*.md"))
    events = timeline(chunks_of(*[p for p in corpus2 if not p.name.startswith("README")]))
    found = {(e.date, e.inferred): e.sentence for e in events}
    assert found[("2024-01-15", False)] == "This policy was adopted by the Library Board of Trustees on January 15, 2024."
    assert found[("2024-05-14", True)].startswith("The Riverside footbridge over the Ashby River reopened")
    assert found[("2023-09", True)].startswith("The bridge was closed last September")
    assert [e.date for e in events] == sorted(e.date for e in events)
    assert not [e for e in events if e.sentence.startswith(("Q:", "#"))]


def test_the_timeline_is_worked_out_once_per_chunk_list():
    chunks = chunks_of(HARBOR)
    first = timeline(chunks)
    assert timeline(chunks) is first
    changed = chunks[:1]
    assert timeline(changed) is not first and len(timeline(changed)) < len(first)
    undated = [c for c in chunks_of(HARBOR, chunk_size=10) if c.text in ("By Ana Ruiz", "March 16, 2023")]
    none = timeline(undated)  # a byline and a dateline: no events, and not read again either
    assert len(undated) == 2 and none == [] and timeline(undated) is none


@pytest.mark.integration
def test_the_real_corpus_timeline_has_the_investments_the_entity_list_and_the_designation(real):
    events = real.timeline()
    sentences = [e.sentence for e in events]
    invest = sentences.index("In 2018, several U.S. venture capital funds invested in SenseTime, including Tiger "
                             "Global Management and Glade Brook Capital Partners, according to market data "
                             "provider Pitchbook.")
    entity = next(i for i, s in enumerate(sentences)
                  if s.startswith("The Trump administration began raising alarms about the company in 2019"))
    ban = next(i for i, s in enumerate(sentences)
               if s.startswith("The Biden administration on Friday banned U.S. investment"))
    assert invest < entity < ban
    assert (events[invest].date, events[invest].inferred) == ("2018", False)
    assert (events[entity].date, events[entity].inferred) == ("2019", False)
    # Published Friday 10 December 2021: "on Friday" is that day, and says it was inferred
    assert (events[ban].date, events[ban].label, events[ban].inferred) == ("2021-12-10", "10 Dec 2021", True)
    assert "publication date" in events[ban].how
    assert [e.date for e in events] == sorted(e.date for e in events)
    assert not [e for e in events if e.sentence.startswith("December 10, 2021")]  # the dateline is no event
    assert len(sentences) == len({(s, e.date) for s, e in zip(sentences, events)})
    for e in events:
        c = e.citation
        assert c.text.find(c.sentence) >= 0 and c.url.startswith("https://")
