import pytest

from app.conversation import names_own_subject, new_topic, standalone_query, validate_history
from app.records import DossierError

U = lambda c: {"role": "user", "content": c}
A = lambda c: {"role": "assistant", "content": c}


def test_a_question_that_stands_alone_is_unchanged():
    history = [U("Why was SenseTime banned?"), A("Because ... [1]")]
    assert standalone_query("Which list prohibits buying securities?", history) == \
        "Which list prohibits buying securities?"
    assert standalone_query("Why was SenseTime banned?", []) == "Why was SenseTime banned?"


def test_they_is_resolved_to_the_people_named_in_the_last_answer():
    history = [U("Which Xinjiang officials were sanctioned?"),
               A("The Treasury Department also added two Chinese Communist Party officials from the Xinjiang "
                 "region, Shohrat Zakir and Erken Tuniyaz, to a sanctions list. [1]")]
    query = standalone_query("What positions do they hold?", history)
    assert query.startswith("What positions do they hold?")
    assert "Shohrat Zakir" in query and "Erken Tuniyaz" in query and "Xinjiang" in query
    assert "Treasury Department" not in query.split("(")[1]


def test_it_and_the_company_take_the_subject_of_the_last_question():
    history = [U("Why was SenseTime banned?"), A("... [1]")]
    assert standalone_query("How did the company respond?", history) == "How did SenseTime respond?"
    assert standalone_query("What happens to its IPO?", history) == "What happens to SenseTime's IPO?"


def test_what_about_swaps_the_subject():
    history = [U("Why was SenseTime banned?"), A("... [1]")]
    assert standalone_query("What about Hikvision?", history) == "Why was Hikvision banned?"


def test_what_about_followed_by_its_own_question_asks_that_question():
    history = [U("how long are books lent for at Millbrook?"), A("Books are lent for three weeks. [1]")]
    rewritten = standalone_query("what about for kids, how many can they take?", history)
    assert rewritten.startswith("what about for kids, how many can they take?") and "Millbrook" in rewritten


def test_what_about_their_thing_asks_of_the_same_subject():
    history = [U("Who leads Project Larkspur?"), A("Project Larkspur is led by Dr. Tomasz Okafor. [1]")]
    rewritten = standalone_query("what about their budget?", history)
    assert rewritten.startswith("what about their budget? (") and "Larkspur" in rewritten


def test_what_about_swaps_the_first_name_the_question_gave_typed_in_any_case():
    history = [U("who is sensetime and why did the US ban investing in it"), A("... [1]")]
    assert standalone_query("what about Hikvision?", history, frozenset({"sensetime"})) == \
        "who is Hikvision and why did the US ban investing in it"


@pytest.mark.parametrize("bad", ["x", [1], [{"role": "system", "content": "hi"}], [{"role": "user"}]])
def test_malformed_history_is_a_clear_error(bad):
    with pytest.raises(DossierError, match="history"):
        validate_history(bad)


def test_the_second_one_is_the_second_name_the_last_answer_listed():
    history = [{"role": "user", "content": "who leads the two teams?"},
               {"role": "assistant", "content": "The teams are led by Dr. Ana Ruiz and Tomas Berg. [1]"}]
    assert standalone_query("what did the second one say?", history) == "what did Tomas Berg say?"
    assert standalone_query("and the first guy's budget?", history) == "and Ana Ruiz's budget?"
    # "first" that points at no list item is left alone
    assert "Berg" not in standalone_query("what happened the first time?", history)


def test_a_new_question_after_and_is_not_taken_for_a_new_subject():
    history = [U("who leads project larkspur?"), A("Project Larkspur is led by Dr. Tomasz Okafor. [1]")]
    query = standalone_query("and when is he presenting the new schedule?", history)
    assert query.startswith("and when is he presenting the new schedule? (")
    assert "larkspur" in query.split("(")[1]


def test_who_else_asks_past_the_subject_just_discussed():
    history = [U("Why was SenseTime banned?"), A("... [1]")]
    query = standalone_query("who else was added?", history)
    assert query.startswith("who else was added? (") and "SenseTime" not in query and "banned" in query
    # "what else did she say?" asks more of the same person, who stays in the question
    said = [U("What did June Jin say?"), A("... [1]")]
    assert "June Jin" in standalone_query("what else did she say?", said)


def test_who_else_that_says_what_it_asks_stands_alone():
    history = [U("How long do existing investors have to divest?"), A("One year. [1]")]
    assert standalone_query("Who else was added to the list?", history) == "Who else was added to the list?"


@pytest.mark.parametrize("earlier, question, topic", [
    # a question opening with "and" carries the conversation's topic
    (["Which countries agreed to the export code?"], "and what is the code actually supposed to do?", "export"),
    # "who else is on it?": "it" is not read as the subject just discussed
    (["which list was sensetime added to?"], "who else is on it?", "list"),
    # after a bare "who else?", the topic comes from the question before it
    (["what about Hikvision?", "who else?"], "what did they say?", "Hikvision"),
    # one word of its own ("the target") says too little to stand alone
    (["Did the council set a recycling goal?"], "what was the target?", "council"),
])
def test_a_follow_up_carries_the_topic_it_refers_to(earlier, question, topic):
    history = [turn for q in earlier for turn in (U(q), A("... [1]"))]
    query = standalone_query(question, history)
    assert query.startswith(question + " (") and topic in query


def test_a_question_naming_its_subject_and_pointing_back_at_nothing_stands_alone():
    assert names_own_subject("who is sensetime?", frozenset({"sensetime"}))
    assert names_own_subject("Who is Tomas Berg?")
    assert not names_own_subject("who is he?") and not names_own_subject("what did Berg say about it?")



@pytest.mark.parametrize("question, rest", [
    ("different topic - how many people showed up?", "how many people showed up?"),
    ("ok different question, how many sensors can one display handle?", "how many sensors can one display handle?"),
    ("switching topics: what list was it put on?", "what list was it put on?"),
    ("On another note, who wrote it?", "who wrote it?"),
    ("Unrelated, but when was it published?", "when was it published?"),
    # the subject a marker names stays with the question
    ("switching to the library - who handles questions about the rules there?",
     "who handles questions about the rules there? (the library)"),
    ("ok moving on to the bridge: when did it reopen?", "when did it reopen? (the bridge)"),
])
def test_a_question_that_says_the_subject_changes_is_what_follows_the_marker(question, rest):
    assert new_topic(question) == rest


@pytest.mark.parametrize("question", ["what is a different topic?", "Is there another thing I should know?",
                                      "different question", "which other companies?"])
def test_a_question_without_such_a_marker_is_left_alone(question):
    assert new_topic(question) is None


def test_a_question_with_no_words_of_its_own_takes_the_last_answer_as_its_topic():
    history = [U("who else was sanctioned?"), A("New sanctions on individuals in Bangladesh, Myanmar and North Korea. [1]")]
    assert "Bangladesh" in standalone_query("when was that?", history)
    assert "Bangladesh" not in standalone_query("when was the list created?", history)


def test_and_then_what_is_no_subject_swap():
    history = [U("What did Huawei test?"), A("Huawei had tested software that could send alarms. [1]")]
    asked = standalone_query("and then what?", history)
    assert asked.startswith("and then what?") and "Huawei" in asked


@pytest.mark.parametrize("question, alone", [
    ("whats the deadline for us funds to dump their shares", True),
    ("how long do investors have to sell their stakes", True),
    ("what did they say about their IPO", False),
    ("why did the US ban their shares?", False),
    ("can a us pension fund keep its sensetime stock", True),
    ("does every investor have to sell his shares", True),
    ("why did the US ban its shares?", False),
    ("and what's its main business?", False),
])
def test_a_possessive_whose_owner_the_question_gives_needs_no_conversation(question, alone):
    history = [U("who got sanctioned along with sensetime"), A("SenseTime joins Hikvision and Huawei. [1]")]
    assert (standalone_query(question, history) == question) is alone


def test_a_contracted_question_after_and_is_a_new_question_not_a_new_subject():
    history = [U("why was SenseTime banned?"), A("It supports surveillance. [1]")]
    asked = standalone_query("and what's its main business?", history)
    assert asked == "and what's SenseTime's main business?"


def test_the_kind_of_thing_just_asked_for_is_the_one_the_answer_named():
    history = [U("Which company did the regulator fine?"), A("The fine hit the shipping company Acme Freight. [1]")]
    assert standalone_query("and what did the company say?", history) == "and what did Acme Freight say?"
    vague = [U("Which company did the regulator fine?"), A("It fined Birch Capital and Acme Freight, both Dutch. [1]")]
    asked = standalone_query("and what did the company say?", vague)  # not "the regulator", whoever it is
    assert asked.startswith("and what did the company say?") and "regulator" not in asked.split("(")[0]


@pytest.mark.parametrize("last, question, rewritten", [
    ("How long can I borrow a laptop for?", "ok and for ordinary books?", "How long can I borrow ordinary books for?"),
    ("How many items can a child borrow at the library?", "and an adult?",
     "How many items can an adult borrow at the library?"),
    # a phrase that says which one keeps the noun it qualifies
    ("what's the biggest risk for the team?", "and the second biggest?", "what's the second biggest risk for the team?"),
])
def test_and_a_thing_swaps_the_thing_the_last_question_asked_of(last, question, rewritten):
    assert standalone_query(question, [U(last), A("... [1]")]) == rewritten


def test_the_first_of_those_two_is_the_first_name_the_last_answer_listed():
    history = [U("Were other firms already banned?"), A("SenseTime joins two other companies, Acme Vision and Borealis Tech, "
                                                        "already on the list. [1]")]
    assert standalone_query("what's the allegation about the first of those two?", history) == \
        "what's the allegation about Acme Vision?"
    # "which one of those two ...?" asks among them: the names listed come with it
    assert "Acme Vision; Borealis Tech" in standalone_query("which one of those two is bigger?", history)


def test_and_what_about_swaps_the_subject_as_what_about_does():
    history = [U("why was Acme banned?"), A("... [1]")]
    assert standalone_query("and what about Borealis?", history) == "why was Borealis banned?"


def test_a_listed_name_with_the_before_it_is_one_item_of_the_list():
    history = [U("which countries joined?"), A("The others are Australia, France, the Netherlands and the United Kingdom. [1]")]
    assert standalone_query("the first of those - is it in europe?", history) == "Australia - is it in europe?"
    assert standalone_query("and the last one?", history).startswith("and United Kingdom")
