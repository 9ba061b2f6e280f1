"""Intents: small talk, help and questions about the documents told from questions about their content."""

import pytest

from app.intents import intent_of


@pytest.mark.parametrize("question, intent", [
    ("hello", "smalltalk"), ("thanks!", "smalltalk"), ("what can you do?", "help"), ("help", "help"),
    ("what documents do you have?", "help"), ("summarize the article", "summary"), ("tl;dr", "summary"),
    ("what happened", "summary"), ("What is the FAQ document about?", "summary"),
    ("who wrote the larkspur memo?", "author"), ("when was this published", "published"),
    ("which office sent out the larkspur memo?", "author"), ("who authored the update?", "author"),
    ("who is this memo from?", "author"), ("who signed the order?", "content"),
    ("yo whats good", "smalltalk"), ("that'll do, have a good one", "smalltalk"), ("whats up with the ban", "content"),
    ("explain this story so my grandma would get it", "summary"), ("explain the ban", "content"),
    ("a short paragraph about what this piece covers, please", "summary"),
    ("give me the two-line version of the lending rules", "summary"),
    ("morning :) what is this tool for?", "help"), ("what's this app for", "help"), ("morning", "smalltalk"),
    ("what's the dateline on this article?", "published"), ("give me three bullet points", "summary"),
    ("what are the key facts about the ban?", "content"),
    ("what is the source", "source"), ("What happened to the IPO?", "content"),
    ("What happened in developer mode?", "content"), ("what's the headline on this piece", "title"),
    ("What is the memo's title?", "title"), ("what's his exact title?", "content"),
    ("which documents have you got access to?", "help"), ("what kind of stuff can you answer questions about?", "help"),
    ("good morning! can you help me with something", "help"), ("ok cheers, bye", "smalltalk"),
    ("hi! who leads the project?", "content"), ("What is the main topic of this document?", "summary"),
    ("what's the subheading under the title", "title"), ("which news outlet published this?", "source"),
    ("What is the source of the information on the budget?", "content"),
    ("whats this doc", "summary"), ("what is this article", "summary"),
    ("good morning! what's in your documents?", "help"), ("hello there, what kind of questions can i ask you", "help"),
    ("what's in the documents about the bridge?", "content"),
    ("hello there - how does this work, can I just ask questions?", "help"), ("can i ask you anything?", "help"),
    ("in a few words whats the main topic here", "summary"),
    ("what date did the memo come out?", "published"), ("which day does the piece carry", "published"),
    ("what date did the memo say the permit arrives?", "content"),
    ("thx so much, that's just what i was after", "smalltalk"), ("thanks, what about the budget", "content"),
    ("thanks what did they decide", "content"),
    ("In one line, what's the main news here?", "summary"), ("what's the main takeaway of this story?", "summary"),
    ("what was the main reason for the ban?", "content"),
    # who speaks in the documents, when the question names nothing else
    ("Which people get quoted by name in this report?", "quoted"), ("who does the story quote", "quoted"),
    ("Whose voices does the reporter put on the record here?", "quoted"),
    ("who's the treasury guy they quote", "content"), ("Who spoke for the company?", "content"),
    # whether and when a document was revised, or of which year it is: its dates
    ("Is the version I'm reading the original or a later edit?", "published"), ("Is this a 2022 article?", "published"),
    ("was this piece revised after it went up?", "published"), ("Was the bridge revised?", "content"),
    ("Is it a new policy?", "content"),
    ("boil this article down for me", "summary"), ("Which gadget is the FAQ page about?", "summary"),
    # whom a document is addressed to, or whether it comes from someone: the line naming its author and addressee
    ("who is the memo addressed to", "author"), ("is the memo from Okafor himself or someone else?", "author"),
    ("what year is this article from", "published"), ("what year was that?", "content"),
    ("which year was this announced?", "content"),
    ("what actually happened here, news-wise, in a sentence", "summary"),
    # whom the reporter cites is the content's source, not the author
    ("Whose findings does the reporter cite for the camera claim?", "content"), ("which reporter wrote this", "author"),
])
def test_intents_tell_questions_about_the_documents_from_questions_about_their_content(question, intent):
    assert intent_of(question) == intent


@pytest.mark.parametrize("question, intent", [
    ("what does the article say about Hikvision?", "content"),
    ("What about Hikvision, what does the article say about it?", "content"),
    ("summarize what the memo says about the budget", "content"),
    ("what does the article say?", "summary"),
    ("what does the article say about it?", "summary"),
    ("what is this document about", "summary"),
])
def test_what_a_document_says_about_one_subject_is_a_question_not_a_summary(question, intent):
    assert intent_of(question) == intent
