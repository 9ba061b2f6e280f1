"""Question analysis: intents, answer types, premises, names, weighted terms and the standalone form."""

import pytest

from app.lexical import LexicalIndex
from app.query import (SPEECH_TOKENS, analyze, compound_parts, intent_of, premises, question_type, speaker_pattern,
                       speaker_words, speaks)
from app.records import Chunk
from app.text import stem


TEXT = ("Project Larkspur is led by Dr. Tomasz Okafor. The team hired 14 engineers in the first quarter. "
        "The approved budget is 4.2 million euros.")
INDEX = LexicalIndex([Chunk("memo:1", "memo", TEXT, 0, len(TEXT))],
                     dictionary=frozenset({"hire", "leads", "budget", "president", "recruit", "unit"}))


def query_of(question, history=()):
    return analyze(question, list(history), INDEX, INDEX.speller.dictionary)


def test_question_types():
    assert question_type("Why was it banned?") == "why"
    assert question_type("my prof said the team hired 20 people - true?") == "yesno"  # a claim to check
    assert question_type("How many companies?") == "count"
    assert question_type("how old is he") == "count"
    assert question_type("When did it happen?") == "when"
    assert question_type("On what date is the launch?") == "when"
    assert question_type("and when?") == "when"
    assert question_type("Who wrote the article?") == "author"
    assert question_type("What did Huawei say about it?") == "say"
    assert question_type("Which department oversees the list?") == "what"
    assert question_type("Which other Chinese companies are on it?") == "list"
    assert question_type("What happens to its IPO?") == "what"
    assert question_type("can americans still buy shares?") == "yesno"


@pytest.mark.parametrize("question", ["who is the reporter?", "which journalist wrote the piece", "whats the reporter's name",
                                      "Who wrote the article?", "who's the writer of this article"])
def test_who_the_reporter_is_asks_for_the_author(question):
    assert question_type(question) == "author"


@pytest.mark.parametrize("question", ["did they say anything to the reporter?", "did the reporter say who invested?",
                                      "where did the reporter get the info?"])
def test_a_reporter_merely_mentioned_makes_no_author_question(question):
    assert question_type(question) != "author"


def test_premises_are_names_numbers_and_quotes():
    assert premises("Why did the European Union ban SenseTime in 2030?") == ["EU", "SenseTime", "2030"]
    assert premises("Which U.S. funds invested?") == ["US"]  # "U.S." is one name, not the letter U
    assert premises('Who said "a police state"?') == ["“a police state”"]


@pytest.mark.parametrize("question", ["my kid is 9, how many things can she check out",
                                      "how many things can my 9-year-old take home?",
                                      "I found a book about 45 days late. Do I still have to pay?"])
def test_a_number_of_the_askers_own_case_is_no_premise(question):
    assert not [p for p in premises(question) if p[0].isdigit()]


def test_a_number_the_question_claims_of_the_world_stays_a_premise():
    assert "500" in premises("Did SenseTime raise 500 million in 2021?")


def test_only_premises_no_source_holds_are_missing_and_ordinary_words_never_are():
    query = query_of("Who leads Project Larkspur and how many engineers did they recruit?")
    assert query.premises == [] and query.intent == "content"
    assert query.missing == [stem("leads"), stem("recruit")]  # words the memo lacks ("led" is there) are terms, not vetoes
    assert query.terms[stem("recruit")] == max(query.terms.values())
    assert query_of("Who leads Project Bluebell?").premises == ["Project Bluebell"]
    assert query_of("Did Dr. Smith hire 14 engineers?").premises == ["Smith"]
    assert query_of("Did President Okafor hire 14 engineers?").premises == []  # a title is allowed
    assert query_of("Was the budget 5 million?").premises == ["5"]


def test_a_typo_in_a_name_is_corrected_not_reported_missing():
    query = query_of("Who leads Project Larkspr?")
    assert query.premises == [] and "larkspur" in query.terms


def test_a_question_with_nothing_to_search_for_is_about_the_documents():
    assert query_of("when did this happen?").intent == "published"
    assert query_of("explain").intent == "summary"


def test_context_from_the_conversation_weighs_less_than_the_question():
    history = [{"role": "user", "content": "Who leads Project Larkspur?"},
               {"role": "assistant", "content": "Project Larkspur is led by Dr. Tomasz Okafor. [1]"}]
    query = query_of("what about the budget?", history)
    assert query.standalone != query.question
    own = query.terms["budget"]
    assert all(query.terms[t] < own for t in query.background)


def test_the_thing_asked_for_is_found_from_the_question_form():
    assert query_of("What was the team's budget in 2024?").focus == "budget"
    assert query_of("Who leads Project Larkspur?").focus == ""
    # after "of", the possessive names whose thing it is: the uses are asked for, not the team's budget
    assert query_of("give me some everyday uses of the team's budget").focus != "budget"


def test_typos_are_corrected_in_the_text_that_is_embedded_but_real_words_are_kept():
    query = query_of("how many enginers were hired on that budjet?")
    assert query.standalone == "how many engineers were hired on that budget?"  # embedded, and shown as "searched for"
    assert query.question == "how many enginers were hired on that budjet?"  # the question stays as typed
    # "hires" is a form of a real word, so it is kept even though the memo only has "hired"
    assert query_of("Who hires engineers?").standalone == "Who hires engineers?"


def test_long_thanks_is_small_talk_but_thanks_with_a_question_is_not():
    assert intent_of("thank you, that was really helpful") == "smalltalk"
    assert intent_of("thanks! who leads the project?") == "content"


def test_an_answer_type_noun_gives_the_type_and_is_not_the_thing_looked_for():
    assert question_type("What justification did they give for the ban?") == "why"
    assert query_of("What rationale was given for the budget?").focus == ""


def test_common_abbreviations_and_chat_spellings_are_not_search_terms():
    query = query_of("wat is the budget this yr")
    assert "wat" not in query.terms and "year" in query.terms and query.missing == ["year"]
    assert premises("Did the UN comment?") == premises("Did the United Nations comment?") == ["UN"]


def test_the_thing_counted_is_what_a_count_question_looks_for():
    assert query_of("How many engineers does the team have?").focus == stem("engineers")
    assert query_of("how many outdoor units were hired?").focus == stem("units")
    assert query_of("How many people did they hire?").focus == ""  # any group of people may be meant


def test_a_word_naming_only_the_kind_of_answer_is_not_looked_for():
    # "What implications does X carry" is answered by what follows from X, which never says "implication"
    query = query_of("What implications does the budget carry for the team?")
    assert query.focus == "" and stem("implications") not in query.terms
    assert query_of("What variables does the team record?").focus == ""
    assert query_of("What was the budget of the team?").focus == stem("budget")  # a thing that is named


def test_a_name_asked_for_by_its_kind_keeps_the_kind():
    assert query_of("Which government department runs the budget?").kind == "department"
    assert query_of("what's the official name of the list they were put on").kind == "list"
    assert query_of("which list exactly were they put on?").kind == "list"
    assert query_of("Who leads the team?").kind == ""


def test_how_big_a_thing_asks_for_a_degree_not_a_number():
    assert question_type("how big a deal is the project?") != "count"
    assert question_type("How large an effect did it have?") != "count"
    assert question_type("how big is the team?") == "count"


def test_a_misspelt_counted_word_the_speller_cannot_place_is_not_looked_for():
    assert query_of("how many unts were hired?").focus == ""  # not a word: a typo, so no veto by it
    assert question_type("whos the team lead") == "who"


def test_what_questions_about_money_want_an_amount():
    assert query_of("What was the team's budget last year?").money
    assert query_of("how much did the engineers cost?").money
    assert not query_of("how much time do engineers get?").money and not query_of("What did the team build?").money
    assert query_of("How much revenue did the team make in 2024?").money  # a date in it is no amount
    # a valuation, a fee or a fine is an amount too; being "in charge" is not
    assert query_of("What was the team valued at?").money and query_of("What's the daily late fee?").money
    assert query_of("What dollar amount did the round total?").money
    assert not query_of("what about the lead, is she still in charge?").money


@pytest.mark.parametrize("question, grain", [
    ("Which month did the council vote?", "month"), ("What date was the bridge closed?", "month"),
    ("when exactly did it reopen?", "month"), ("How old is the mayor?", "age"), ("what is her age?", "age"),
    ("When did the bridge reopen?", ""), ("How many lanes does it have?", ""),
    ("What's the name of the vendor?", "name"), ("what's the company called?", "name"),
    ("which firm, company name please", "name"), ("Which US agency issues the licences?", "name"), ("Who called the meeting?", ""), ("What is the list called?", "name"),
    ("What time does the library open?", "clock"), ("at what hour did it start?", "clock"),
    ("what time frame do holders have?", ""),
])
def test_a_question_may_ask_for_more_than_its_type(question, grain):
    from app.query import GRAINS

    assert next((g for g, pattern in GRAINS.items() if pattern.search(question)), "") == grain


@pytest.mark.parametrize("question", [
    "where did the info about the backers come from?", "where'd those figures come from", "What is the source of the data?",
    "where did they get that information?",
])
def test_where_information_comes_from_asks_who_says_so(question):
    assert question_type(question) == "attribution"
    assert question_type("Where did the bridge come from?") == "where"


@pytest.mark.parametrize("question, parts", [
    ("Who wrote the Larkspur memo and who is it addressed to?", ["Who wrote the Larkspur memo?", "who is it addressed to?"]),
    ("Under which list was it designated, and what restriction does that list impose?",
     ["Under which list was it designated?", "what restriction does that list impose?"]),
    ("which stock market were they planning to use, and does this mess that up?",
     ["which stock market were they planning to use?", "does this mess that up?"]),
    ("When and where?", []), ("Who banned SenseTime and Hikvision?", []), ("hi, and what can you do?", []),
    ("What did Jin say and do?", []),
])
def test_a_question_that_asks_two_things_is_cut_in_two(question, parts):
    assert compound_parts(question) == parts


def test_the_speaker_asked_about_speaks_only_where_no_one_else_does():
    query = query_of("So how did the company react to the ruling?")
    assert query.qtype == "say"
    pattern = speaker_pattern(query)
    assert speaks(pattern, "A company spokeswoman said the company strongly opposes the ruling.")
    # in a relative clause it is someone else who speaks: "it" (the agency), not the company
    assert not speaks(pattern, "The agency fined a company that it said had broken the rules.")
    # a quotation standing alone right after the speaker's quote is the same speaker's
    passage = "“It is unfounded,” a company spokeswoman wrote. “We regret being caught in the middle.”"
    assert speaks(pattern, "“We regret being caught in the middle.”", passage)
    assert not speaks(pattern, "“We regret being caught in the middle.”", "The rules changed. “We regret it.”")


def test_a_question_about_what_was_said_also_searches_for_reported_speech():
    assert set(SPEECH_TOKENS) <= set(query_of("How did the team respond to the audit?").search_terms)
    assert not set(SPEECH_TOKENS) & set(query_of("Who leads the team?").search_terms)
    assert stem("wrote") in SPEECH_TOKENS  # "... ,” Jin wrote.": a quote given in writing


@pytest.mark.parametrize("question", ["did she say anything else?", "anything else she said?", "what else did she say?"])
def test_she_is_the_person_the_last_answer_quoted(question):
    history = [{"role": "user", "content": "who spoke for the team?"},
               {"role": "assistant", "content": "Team spokeswoman Ada Lund said the team disagrees. [1]"}]
    query = query_of(question, history)
    assert query.qtype == "say"
    pattern = speaker_pattern(query, explicit_only=True)
    assert speaks(pattern, "“We will appeal,” Lund wrote.") and not speaks(pattern, "The board said it would wait.")


def test_set_phrases_are_not_what_a_question_is_about():
    query = query_of("why was the budget cut in the first place?")
    assert stem("place") not in query.terms and stem("first") not in query.terms and stem("budget") in query.terms
    assert query_of("who leads the team these days").terms.keys() == query_of("who leads the team").terms.keys()


def test_who_made_or_leads_a_thing_looks_for_the_deed_itself():
    # "Who founded X?" is not answered by any sentence naming X and a person: it must tell of a founding
    words_ = INDEX.speller.dictionary | {"founded", "owns", "built", "year"}  # real words, not typos

    def focus(question):
        return analyze(question, [], INDEX, words_).focus

    assert focus("Who founded the team?") == stem("founded") and focus("who owns the team?") == stem("owns")
    assert focus("Who originally built the team?") == stem("built")
    assert focus("What year was the team founded?") == stem("founded")  # the year is the answer's form
    assert focus("Who hired the engineers?") == ""  # a deed told in many ways ("took on", "recruited")


def test_a_common_word_with_two_letters_swapped_is_that_word_not_a_corpus_word():
    assert query_of("how many engineers did thier team hire").standalone == "how many engineers did their team hire"
    assert query_of("what was the budjet").standalone == "what was the budget"  # corpus words are still corrected


def test_today_is_a_date_the_question_takes_as_given():
    assert "today" in premises("Is the budget still approved today?")
    assert "today" not in premises("Is the budget still approved?")


def test_a_marked_change_of_subject_drops_the_conversation():
    history = [{"role": "user", "content": "Who leads Project Larkspur?"},
               {"role": "assistant", "content": "Project Larkspur is led by Dr. Tomasz Okafor. [1]"}]
    query = query_of("different question - how many engineers were hired?", history)
    assert query.standalone == "how many engineers were hired?" and not query.background
    assert "larkspur" not in query.terms and "different" not in query.terms


def test_a_digit_typed_for_to_is_no_missing_number():
    query = query_of("how many engineers were hired 2 work on it")
    assert query.premises == [] and "2" not in query.terms


@pytest.mark.parametrize("question, speaker", [
    ("What was SenseTime's reply to the ban?", "SenseTime"),
    ("what's the reaction from the Treasury to the ruling", "Treasury"),
    ("How did the company push back on being fined?", "company"),
    ("and the Treasury's answer to that?", "Treasury"),  # the noun alone
])
def test_a_reply_asked_for_with_a_noun_or_a_phrasal_verb_asks_what_was_said(question, speaker):
    query = query_of(question)
    assert query.qtype == "say" and speaker_words(query)[-1] == speaker


def test_whether_someone_commented_is_answered_by_a_group_that_named_them_not_responding():
    query = query_of("Did Acme Ventures comment on the fine?")
    assert query.qtype == "say"
    pattern, name = speaker_pattern(query), speaker_words(query)[-1]
    passage = "Two funds backed the firm, including Acme Ventures and Birch Capital. Those investors did not respond."
    assert speaks(pattern, "Those investors did not respond.", passage, name)
    assert not speaks(pattern, "Those investors did not respond.", "Two funds backed the firm. Those investors did not respond.",
                      name)
    # named in the sentence before, but not one of the group it lists
    other = query_of("Did Acme comment on the fine?")
    passage = "Two funds, Birch Capital and Oak Partners, invested in Acme. Those investors did not respond."
    assert not speaks(speaker_pattern(other), "Those investors did not respond.", passage, speaker_words(other)[-1])


@pytest.mark.parametrize("question, grain", [
    ("Which bakery handed out the rolls?", "name"), ("On which exchange will it list?", "name"),
    ("which type of tech do they sell?", ""), ("Which improvements were made?", ""), ("which year was it?", ""),
])
def test_which_one_thing_asks_for_its_name(question, grain):
    assert query_of(question).grain == grain


def test_the_words_that_frame_a_label_or_a_name_are_not_searched_for():
    query = query_of("What term has the council used for the delay?")
    assert query.grain == "label" and not {stem("term"), stem("used")} & set(query.terms) and stem("delay") in query.terms
    query = query_of("What's the official name of the list?")
    assert query.grain == "name" and stem("official") not in query.terms and stem("list") in query.terms


def test_who_spoke_on_someones_behalf_asks_for_their_spokesperson():
    query = query_of("Who spoke on the firm's behalf?")
    assert speaker_words(query) == ["firm"] and stem("behalf") not in query.terms


@pytest.mark.parametrize("question", ["what product is the FAQ about?", "Which company is this article about?"])
def test_what_thing_a_document_is_about_asks_for_its_summary(question):
    assert intent_of(question) == "summary"


@pytest.mark.parametrize("question, intent", [
    ("Summarize the Treasury's stated rationale for the designation.", "content"),
    ("please recap the risks the memo lists", "content"),
    ("summarize the article", "summary"), ("summarize the main points", "summary"), ("summarise this", "summary"),
])
def test_a_summary_of_one_thing_the_documents_say_is_a_question_about_it(question, intent):
    assert intent_of(question) == intent


@pytest.mark.parametrize("question, intent", [
    ("What is the team building, in a nutshell?", "content"), ("briefly, why did the bridge close?", "content"),
    ("what is it in a nutshell?", "summary"), ("what happened, briefly?", "summary"),
    ("what's the memo about, in short?", "summary"),
])
def test_asking_for_brevity_is_no_request_for_a_summary_when_the_rest_asks_something(question, intent):
    assert intent_of(question) == intent


@pytest.mark.parametrize("question", ["What divestment period is afforded to holders?", "what's the deadline for the prototype"])
def test_a_period_or_deadline_asked_for_is_a_when_question(question):
    query = query_of(question)
    assert query.qtype == "when" and not {stem("period"), stem("deadline")} & set(query.terms)


@pytest.mark.parametrize("question", ["are you a bot or a person?", "am I talking to a human?", "are you an AI"])
def test_asking_what_the_assistant_is_gets_help(question):
    assert intent_of(question) == "help"


def test_a_country_typed_in_lower_case_is_a_premise_like_a_capitalised_one():
    assert "Japan" in premises("did japan join the pact?") and premises("did japan join the pact?") == premises(
        "did Japan join the pact?")
    assert premises("is the pact binding?") == []


def test_a_brand_with_an_inner_capital_is_a_premise_wherever_it_stands():
    assert premises("is the app available for iPhone?") == ["iPhone"]
    assert premises("can i sell it on eBay or in the shop") == ["eBay"]
    assert query_of("Does the memo work on iPhone?").premises == ["iPhone"]  # no source holds it
    assert premises("is it available for phones?") == []


def test_a_demonym_a_yes_no_question_asks_about_is_no_name_the_passage_must_hold():
    text = "The vendor, a Norwegian firm, has an office in Bergen."
    index = LexicalIndex([Chunk("note:1", "note", text, 0, len(text))])
    of = lambda question: analyze(question, [], index, frozenset())  # noqa: E731
    # whether the thing is Norwegian is what is asked; the passage answering may not say "Norway"
    assert of("Is the vendor a Norwegian company?").names == []
    assert of("Did the Norwegian office hire engineers?").names != []  # there it says which office


def test_the_guy_or_rep_of_something_speaks_for_it_and_a_greeting_opens_no_question():
    assert speaker_words(query_of("what did the project guy say about the budget?")) == ["project"]
    # (as the source writes it: "a team spokesman said", so "SenseTime's spokeswoman" speaks as "SenseTime spokeswoman")
    assert speaker_words(query_of("what did the team's rep say?"))[-1] == "team"
    assert speaks(speaker_pattern(query_of("What did the team's spokeswoman say?")),
                  "In an email, team spokeswoman Ann Lee said the team opposes it.")
    assert question_type("yo what did the team say?") == "say" == query_of("hey what did the team say?").qtype


def test_an_analysts_request_verb_and_the_noun_naming_the_document_only_frame_the_question():
    from app.query import framing_tokens

    assert framing_tokens("Please summarize the principal risks identified in the status memo.") == {"summariz", "memo"}
    assert framing_tokens("Identify the body that runs the list.") == {"identify"}
    assert framing_tokens("what did the report say about it?") == {"report"}
    # not a request when the verb is the question's own ("how does the camera identify faces?")
    assert framing_tokens("how does the camera identify faces?") == frozenset()


def test_a_compounds_lower_case_tail_is_no_part_of_a_name():
    # "Larkspur-alert software" names Larkspur: a passage about it need not hold "alert"
    from app.query import name_tokens

    assert name_tokens("Larkspur-alert", INDEX) == ["larkspur"] and name_tokens("Tomasz Okafor", INDEX) == ["okafor"]


def test_the_kind_of_member_asked_for_is_no_name_a_passage_must_hold():
    query = query_of("Which European nations are part of the export code?")
    assert query.names == [] and query.membership and query.members_kind == "nations"
    # a verb after the kind is no plural kind: "which US agency maintains ..." asks of the agency
    assert not query_of("Which US agency maintains the Entity List?").membership


def test_a_name_is_not_held_by_another_name_that_shares_its_last_word():
    from app.query import missing_premises

    text = "Sanctions hit North Korea. Governor John Smith spoke about it."
    index = LexicalIndex([Chunk("n:1", "n", text, 0, len(text))],
                         dictionary=frozenset({"north", "south", "governor", "sanctions", "spoke"}))
    assert missing_premises(["South Korea"], index, index.speller.dictionary) == ["South Korea"]
    # a first name may stand before the surname: "Governor Smith" may be John Smith
    assert missing_premises(["Governor Smith", "North Korea"], index, index.speller.dictionary) == []


def test_a_turn_about_the_documents_gives_a_follow_up_no_topic():
    history = [{"role": "user", "content": "who leads the team?"}, {"role": "assistant", "content": "Okafor. [1]"},
               {"role": "user", "content": "who is quoted in the memo?"}, {"role": "assistant", "content": "No one."}]
    assert query_of("and what about the budget?", history).standalone != "and what about the budget? (quoted)"
    assert "quoted" not in query_of("and when?", history).standalone
