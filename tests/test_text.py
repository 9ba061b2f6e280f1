"""Text normalisation: stems, aliases, names and the indexed spelling corrector."""

import pytest

from app.text import Speller, digits_as_words, names, other_frame, question_word, stem, time_frames, tokens, unabbreviated


def test_stems_fold_inflections_and_silent_e():
    assert stem("banned") == stem("bans") == "ban"
    assert stem("companies") == "company"
    assert stem("hire") == stem("hired") == stem("hiring")


def test_role_words_are_one_token_whoever_holds_the_role():
    assert stem("spokesperson") == stem("spokeswoman") == stem("spokesman") == stem("spokeswomen")
    assert stem("chairman") == stem("chairwoman") != stem("chair")
    assert stem("Freeman") != stem("free") and stem("woman") == "woman" and stem("human") == "human"


def test_aliases_fold_spellings_and_demonyms():
    assert tokens("U.S. investors") == tokens("United States investor") == tokens("American investors")
    assert tokens("initial public offering") == tokens("IPO")
    assert "ban" in tokens("prohibited")
    # A capital for its government, and the EU's institutions written out
    assert tokens("What did Beijing say?") == tokens("What did China say?")
    # a country's adjective names the country too, and is kept
    assert {"china", "chines"} <= set(tokens("Chinese officials")) and "dutch" in tokens("the Dutch court")
    assert tokens("Washington labeled it") == tokens("the US labeled it")
    assert tokens("The Washington Post") != tokens("The US Post")
    assert set(tokens("the EU's parliament")) <= set(tokens("the European Parliament"))
    assert "european" in tokens("European lawmakers") and "european" in tokens("the European Parliament")
    assert tokens("America") == tokens("the United States")
    assert "europ" in tokens("the European Parliament") and "asia" in tokens("Asian markets")  # continents too
    assert tokens("a DC advocacy group") == tokens("a US advocacy group")  # the capital by its district
    # the seat of a government for its administration, as written too
    assert {"whit", "hous", "administr"} <= set(tokens("the previous White House"))
    assert tokens("spent by Q1") == tokens("spent by first quarter") and tokens("FY") == tokens("fiscal year")


def test_names_skip_the_sentence_opening_word():
    assert names("Who are Shohrat Zakir and Erken Tuniyaz?") == ["Shohrat Zakir", "Erken Tuniyaz"]
    assert names("The Entity List requires a license.") == ["Entity List"]


def test_the_speller_corrects_misspellings_but_never_bends_a_real_word():
    speller = Speller({stem("sensetime"), stem("label"), stem("fund"), stem("uyghurs")},
                      dictionary=frozenset({"founded", "label"}))
    assert speller.correct("SenseTme", stem("SenseTme")) == stem("sensetime")
    assert speller.correct("labled", stem("labled")) == stem("label")
    assert speller.correct("uighurs", stem("uighurs")) == stem("uyghurs")
    assert speller.correct("founded", stem("founded")) == stem("founded")  # real word: not "fund"
    assert speller.correct("zebra", stem("zebra")) == stem("zebra")


@pytest.mark.parametrize("typed, meant", [
    ("wich countries signed", "which countries signed"),
    ("waht is it accused of", "what is it accused of"),
    ("wht countries r in the deal", "what countries r in the deal"),  # a left-out letter beats a changed one (why)
    ("wher is it", "where is it"),
    ("and wen was that?", "and when was that?"),
    ("hw many", "how many"),
])
def test_a_hurried_question_word_is_written_out(typed, meant):
    assert question_word(typed) == meant


@pytest.mark.parametrize("text", ["that is all", "were they banned?", "now what?", "two companies?",
                                  "hwo many", "who is it", "Hikvision too?"])
def test_real_words_and_ties_are_left_as_typed(text):
    assert question_word(text) == text  # "hwo" is one swap from both "who" and "how"


@pytest.mark.parametrize("typed, meant", [
    ("how long 2 divest", "how long to divest"),
    ("how long do investors have 2 sell", "how long do investors have to sell"),
    ("what happens 2 ppl who own shares", "what happens to people who own shares"),
    ("y was sensetime banned", "why was sensetime banned"),
    ("can u tell me who runs it", "can you tell me who runs it"),
    ("wat r they accused of", "wat are they accused of"),
    ("is it legal 4 me", "is it legal for me"),
    ("company resp to the fine", "company response to the fine"), ("where were they tryna sell", "where were they trying to sell"),
    ("who put $ in n when", "who put $ in and when"), ("dates & places", "dates and places"),
])
def test_text_speak_is_written_out(typed, meant):
    assert unabbreviated(typed) == meant


@pytest.mark.parametrize("text", ["they sanctioned 2 people", "investors have 2 years", "a 2 day wait", "it has 4 more",
                                  "the top 2 firms", "What did the U.S. say?", "R&D spend", "Plan R", "phase 2 trial",
                                  "AT&T", "Q&A", "n/a"])
def test_numbers_abbreviations_and_capitals_are_not_text_speak(text):
    assert unabbreviated(text) == text


def test_periods_named_relative_to_others_are_read_by_unit():
    assert time_frames("the budget for next fiscal year and the previous quarter") == {"year": {"next"}, "quarter": {"last"}}
    asked = time_frames("what is the budget for the coming year?")
    assert other_frame(asked, "The budget for the current year is 4 million.")
    assert not other_frame(asked, "The plan is open until May.")  # no period named relative to another
    assert not other_frame(asked, "The budget for the following year is 5 million.")  # the same period, other words
    # a period offered as one choice does not narrow the question
    assert time_frames("did it happen this year or earlier?") == {} == time_frames("last year, or this year?")


def test_a_lone_digit_no_source_holds_is_read_as_a_word():
    assert digits_as_words("what does it do 4 drivers", lambda d: False) == "what does it do for drivers"
    assert digits_as_words("did it fine 4 firms", lambda d: d == "4") == "did it fine 4 firms"  # the sources have 4
    assert digits_as_words("how many in 2019", lambda d: False) == "how many in 2019"


def test_a_greeting_is_no_content_word():
    assert tokens("yo what did the treasury say") == tokens("what did the treasury say")


def test_a_word_in_any_script_is_one_word():
    from app.text import words

    # "Kråkøy" was cut into "Kr", "k", "y": a question naming the place matched any "y"
    assert words("near Kråkøy, Zürich and São Paulo") == ["near", "Kråkøy", "Zürich", "and", "São", "Paulo"]
    assert words("it's the company’s") == ["it's", "the", "company’s"]
