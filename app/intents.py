"""Intents: whether a question is small talk, help, about the documents themselves, or about their content.

The patterns are general English forms of those requests ("summarize", "who wrote this", "is anyone
there?", "who is quoted?"), never words of one corpus. Question analysis (``app.query``) asks
``intent_of`` first: only a content question is searched for.
"""

from __future__ import annotations

import re

from app.text import OPENING, QUESTION_WORDS, tokens, words

# "who wrote it", "which reporter ...": a reporter who is merely mentioned ("did they say anything to the
# reporter?", "where did the reporter get this?") makes no question about the author.
AUTHOR_QUESTION = re.compile(r"\b(who wrote|authors?|written by|byline)\b|\b(who|whom|whose|which|name of)\b.{0,30}"
                             r"\b(writer|reporter|journalist)s?\b(?!\s+(?:cite|cites|cited|quote|quotes|quoted|credit|credits|"
                             r"rel(?:y|ies|ied) on|draw|draws|get|gets|got|source|sources|attribute|attributes)\b)|"
                             r"\b(writer|reporter|journalist)['’]?s? name\b", re.I)

_DOC_NOUN = (r"(the|this|that) ([\w-]+ )?(article|document|story|piece|memo|text|report|source|doc|file|faq|note|policy|page|"
             r"update|bulletin|newsletter|write-?up)s?")
_DOC = rf"({_DOC_NOUN}|this|it|that)"
# Who a document comes from, asked with other verbs than "wrote": "who signed the memo?", "which office
# sent out the update?", "who is the memo from?". Only of a document: "who signed the order?" asks the content.
PROVENANCE = re.compile(rf"\b(who|which [\w-]+)\s+(authored|penned|signed|sent( out)?|issued|drafted|put out|prepared)\s+"
                        rf"{_DOC_NOUN}|\b(who|which [\w-]+)\s+(is|was)\s+{_DOC_NOUN}\s+(coming\s+|sent\s+)?from\b|"
                        rf"\b(authored|penned)\b|"
                        # whom it is addressed to, and "is the memo from X or someone else?": the line that
                        # names its author often names its addressee too ("To the committee, from X")
                        rf"\b(who|whom|which [\w-]+)\s+(is|was)\s+{_DOC_NOUN}\s+(addressed|sent|directed|written)\s+to\b|"
                        rf"\b{_DOC_NOUN}\s+(is|was)\s+(addressed|directed)\s+to\b|"
                        rf"^\W*(is|was)\s+{_DOC_NOUN}\s+(from|by|written by)\b", re.I)
# Leave-taking: "that'll do, have a good one", "that's all for now, take care" (answered with a goodbye)
_FAREWELL = (r"bye|goodbye|see (you|ya)( later| soon)?|take care|have a (good|nice|great|lovely) (one|day|night|evening|"
             r"weekend)|that'?ll do|that'?s (all|it)( for (now|today))?|signing off|done for (now|today)")
FAREWELL = re.compile(rf"\b({_FAREWELL})\b", re.I)
# Conversation that is not a question about the content: answered with what the corpus holds.
_GREETING = (r"(hi|hello|hey|yo|hiya|greetings|(good )?(morning|afternoon|evening)|good day|thanks?( you)?( so much| a lot)?|"
             r"thx|ty|cheers|ok(ay)?|cool|great|nice|awesome|how are you( doing)?|"
             r"(what'?s|whats|wh?at is) (up|good|new|happening)|sup|how'?s it going|how are things|"
             rf"{_FAREWELL}|all good|i'?m (done|good|all set))( there)?")
SMALL_TALK = re.compile(rf"^\W*{_GREETING}(\W+{_GREETING})*\W*$", re.I)  # "ok cheers, bye" too
# Thanks that go on ("thank you, that was really helpful") is still small talk, unless it asks something.
THANKS = re.compile(r"^\W*(thanks|thank you|thx|ty|cheers|much appreciated|appreciate it)\b(?![^?]*\?)"
                    # a question opening a clause of its own ("thanks, what about X"), not "that's what i needed"
                    r"(?!(?:.*(?:[,.;:!-]|\band|\bbut|\bso))?\s*(who|what|when|where|why|how|which|whose)\b)", re.I)
HELP = re.compile(
    r"^\W*(help|\?|what can you do|what do you do|how (do|does) (this( thing| tool| app)?|it|you) work|"
    r"what('s| is) (this|the) (tool|app|thing|bot|assistant|site|service) (for|about)|"
    r"what (can|should) i ask( you)?|who are you|what are you|(what|how) can you help( me)?( with)?|"
    r"are you (a |an )?(real )?(bot|robot|person|human|ai|machine|chatbot|computer)( or (a |an )?(real )?"
    r"(bot|robot|person|human|ai|machine|chatbot|computer))?|am i (talking|chatting) (to|with) (a |an )?\w+|"
    r"can you help( me)?( with (something|this|a question|some questions))?( please)?|"
    r"can i (just |simply )?ask (you )?(questions?|anything|things|stuff|whatever)( i (like|want))?|"
    r"(what|which) (documents?|sources?|files?|docs|articles?) (do you have|have you got|are (there|available|loaded|indexed)|"
    r"can you (see|read|access|search))( access to)?|"
    r"what (kind of |kinds of |sort of |type of |types of )?(stuff|things|topics|subjects|questions) (can|do|could|should) "
    r"(you|i) (answer|ask|cover|know)( you)?( questions)?( about)?|"
    r"what do you know( about)?|what('s| is) in (the|your) (corpus|index|collection|database|documents|docs|sources|files)|"
    r"list (the )?(documents|sources))"
    r"\W*$", re.I)

SUMMARY = re.compile(
    rf"\b(summar\w*|tl;? ?dr|gist|overview|main (points?|idea|topic|subject|theme|news|story|message|takeaways?)|"
    rf"key (points?|takeaways?)|in a nutshell|recap|"
    rf"what('s| is| was) {_DOC} (all )?about|what does {_DOC} (say|cover|talk about)|"
    rf"(what|which) [\w-]+ (is|was) {_DOC} (all |mainly |mostly |really )?about|"
    rf"(main |central )?(topic|subject|theme) of {_DOC}|"
    rf"(give|tell) me (the|a) (short|quick|brief|simple|[\w]+-(line|sentence|minute)) version|"
    # "explain this story so my grandma gets it", "a paragraph on what this piece covers"
    rf"(explain|describe|break down|sum up|boil down|condense|digest) {_DOC_NOUN}|boil {_DOC} down|"
    rf"(rundown|run-down|synopsis|breakdown|run-through) (of|on) {_DOC_NOUN}|what {_DOC_NOUN} (covers|says|reports|is about|talks about)|"
    rf"(bullet points?|in bullets|(main|key) facts)(?!\s+(about|on|of|regarding|for)\s+(?!{_DOC}\b)))\b"
    r"|^\W*(so )?what (actually |really )?(happened|is going on|went on|'s going on)( here)?"
    r"(,? (news-?wise|in (a|one) (sentence|line|word|nutshell)|briefly|in short|in brief))*\W*$"
    rf"|^\W*(what|wat|wut)('s|s| is) {_DOC}\W*$", re.I)  # "whats this doc": the document itself
# "what does the article say about Hikvision?", "what about Huawei, what does the memo say about it?":
# a question on one subject, not a request for a summary of the whole document.
ABOUT_SOMETHING = re.compile(rf"\b(say|says|said|cover|covers|talk|talks|tell|tells|mention|mentions|write|writes)\s+"
                             rf"(?:\w+\s+)?about\s+(?!(?:it|this|that|them|itself|{_DOC})\W*$)\w|"
                             r"^\W*(?:and\s+)?(?:what|how)\s+about\s+\w", re.I)
# "Summarize the Treasury's stated rationale for the designation", "recap the risks the memo lists": a
# summary of one thing the documents say, a question about it, not about a whole document
SUMMARY_OF_SOMETHING = re.compile(
    rf"^\W*(?:please\s+)?(?:summar\w*|recap|outline|give me (?:a |the )?(?:summary|overview|gist|rundown) of)\s+"
    rf"(?!(?:(?:the|this|that|these|those|its|their)\s+)?(?:[\w-]+\s+)?(?:article|document|story|piece|memo|text|report|"
    rf"source|doc|file|faq|note|policy|page|news|sources|documents|corpus|everything|all|it|this|that|them|"
    rf"points?|ideas?|takeaways?|highlights|gist|basics|situation|findings)s?\b)"
    rf"(?:the|this|that|its|their|a)\s+\w+", re.I)
# Asking for brevity ("..., in a nutshell?", "briefly, why ...?") is no request for a summary when the
# rest is a question about something the documents say.
BREVITY = re.compile(r"\b(in a nutshell|in short|in brief|briefly)\b", re.I)
_DOC_WORDS = frozenset(tokens("article document story piece memo text report source doc file faq note page news "
                              "main point idea topic subject theme about happened"))
PUBLISHED = re.compile(
    rf"\b(when (was|is) {_DOC} (published|written|posted|released|dated|from|updated|revised|edited)|publication date|"
    rf"dateline|(what|which) (date|day) (was|is) {_DOC}|how (old|recent) is {_DOC}|"
    rf"(what|which) (year|month) (was|is) ({_DOC_NOUN}|this)\b(?! (\w+ )?(happen|announc|creat|start|add|ban|pass|made)))\b"
    # "was this piece revised after it went up?", "is this the original or a later edit?", "is this a 2022 article?"
    rf"|\b(was|has|have|is|were) {_DOC} (been |ever |later |since )?(revised|updated|edited|amended|corrected)\b"
    rf"|\b(original|latest|updated|revised|first) (version|edit|edition)\b|\blater (edit|version)\b"
    rf"|^\W*(is|was) (this|it|that) (an? )?\d{{4}}\b"
    rf"|^\W*(is|was) {_DOC} (still )?(recent|current|up[- ]to[- ]date|old|outdated)\W*$"
    # "what date did this story run?", "what date does the story carry?": the date and a verb at most
    rf"|^\W*(on )?(what|which) (date|day) (did|does|do|was|is) {_DOC}( \w+){{0,2}}\W*$", re.I)
SOURCE = re.compile(
    rf"\b(what('s| is| are) (the|your) sources?(?=\s*(\?|$|(of|for|behind) {_DOC}))|where (is|does|did) {_DOC} (from|come from)|"
    r"who published|"
    r"(what|which) (\w+ )?(publication|outlet|newspaper|paper|publisher|site|website)|"
    r"is (this|it) (reliable|trustworthy))\b",
    re.I)
# The document's own headline or subtitle (a person's "title" is a content question)
TITLE = re.compile(rf"\b(head ?line|sub-?head(line|ing)?|sub-?title|dek)\b|\btitle of {_DOC}|\b{_DOC}(['’]s)? title\b|"
                   rf"\bwhat(['’]s| is) {_DOC} (called|titled)\b", re.I)
# "Which people get quoted by name in this report?", "whose voices does the reporter put on the record?": who
# speaks in the documents. Only when the question names nothing else: "who's the Treasury official quoted?"
# asks the content, as "who spoke for the company?" does.
QUOTE_WORDS = re.compile(r"\b(quot\w*|interview\w*|on the record|voices|speak|speaks|spoke|comment(s|ed)?|cite[sd]?|"
                    r"talk(s|ed)? to|hear(d)? from)\b", re.I)
QUOTED_ASKS = re.compile(r"\b(who|whom|whose|which|list|name)\b", re.I)
QUOTED_FRAMING = _DOC_WORDS | frozenset(tokens(
    "people person persons individuals individual names name named quoted quote quotes quoting cited cite cites voices "
    "voice record interviewed interview interviews speak speaks spoke comment comments commented sources source "
    "officials experts get gets got put puts reporter journalist writer author list give gives gave directly by here "
    "actually anyone anybody someone everyone talk talked hear heard"))


def asks_who_is_quoted(question: str) -> bool:
    """Whether a question asks who is quoted in the documents, naming nothing else."""
    return bool(QUOTE_WORDS.search(question) and QUOTED_ASKS.search(question)) \
        and not set(tokens(question)) - QUOTED_FRAMING

def intent_of(question: str) -> str:
    """Whether the question is small talk, help, about the documents themselves, or about their content."""
    q = question.strip()
    if SMALL_TALK.match(q) or THANKS.match(q):
        return "smalltalk"
    if HELP.match(q):
        return "help"
    # Several bits of small talk and help in one message ("good morning! can you help me?", "ok
    # cheers, bye"): each part is one or the other.
    parts = [p for p in re.split(r"[!?.,;]+\s*|\s+-\s+|\s+[:;]-?[()DPp]\s*", q) if p.strip()]
    if len(parts) > 1 and all(SMALL_TALK.match(p) or THANKS.match(p) or HELP.match(p) for p in parts):
        return "help" if any(HELP.match(p) for p in parts) else "smalltalk"
    if AUTHOR_QUESTION.search(q) and (re.search(rf"\b{_DOC}\b", q, re.I) or len(words(q)) <= 4) or PROVENANCE.search(q):
        return "author"
    if PUBLISHED.search(q):
        return "published"
    if asks_who_is_quoted(q):
        return "quoted"
    if TITLE.search(q):
        return "title"
    if SOURCE.search(q):
        return "source"
    if (SUMMARY.search(q) or SUMMARY.search(BREVITY.sub(" ", q))) and not ABOUT_SOMETHING.search(q) \
            and not SUMMARY_OF_SOMETHING.match(q) and not _brief_question(q):
        return "summary"
    return "content"


def _brief_question(question: str) -> bool:
    """Whether a question asks for brevity of an answer about something ("what was the summit meant to
    do, in a nutshell?"), not for a summary of the documents ("what's the article about, in short?")."""
    rest = BREVITY.sub(" ", question)
    asks = re.match(rf"\W*(?:{OPENING}\W+)?(?:{'|'.join(QUESTION_WORDS)}|whom|whose|is|are|was|were|do|does|did|can|"
                    r"could|will|has|have)\b", rest, re.I)
    return rest != question and not SUMMARY.search(rest) and bool(asks) and bool(set(tokens(rest)) - _DOC_WORDS)
