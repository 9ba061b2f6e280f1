"""Question analysis as one stage: a question (and the conversation) becomes a typed ``Query``.

Retrieval and answering both read the Query; neither re-tokenises the question. The patterns
here are general English question forms ("who wrote", "summarize", "how many"), never words of
one corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.chunking import split_sentences
from app.conversation import ANAPHORA, MORE, listed_names, new_topic, owners_inside, standalone_query
from app.injection import is_override
from app.intents import AUTHOR_QUESTION, intent_of
from app.lexical import LexicalIndex
from app.text import (COUNTRIES, FRAMING, NAMED_KINDS, OPENING, STOPWORDS, TITLED_KINDS, WORD,
                      digits_as_words, fold, known_word, names, normal, question_word, stem, swapped_function_word,
                      time_frames, tokens, unabbreviated, words)

BYLINE = re.compile(r"^By\s+[A-Z]", re.M)  # a line that opens "By Jeanne Whalen"
SPEECH = r"(said|says|saying|wrote|writes|told|stated|opposes|opposed|respond|responded|comment|commented|declined|added|denied)"
PRONOUNS = frozenset(("It", "He", "She", "They", "We", "I", "The", "This", "That"))
SPEECH_TOKENS = tuple(dict.fromkeys(tokens("said says statement wrote")))
# "What did X say ...", "How did the company respond?", "did she say anything else?", "anything else
# he said?": the first group that matched is the speaker asked about.
# "What was X's reply?", "what was the reaction from X to ...": the same asked with a noun.
SAY_QUESTION = re.compile(rf"^\s*(?:{OPENING}\W+)?" r"(?:(?:what|how)\s+(?:else\s+)?(?:did|does|do|has|have)\s+"
                          r"(?:the\s+)?(.+?)\s+(?:say|said|respond|reply|react|write|state|comment|push\s+back|hit\s+back|"
                          r"answer)\b|"
                          r"what(?:['’]s|\s+(?:was|is|were|are))\s+(?:the\s+)?(.+?)['’]s?\s+(?:reply|response|reaction|"
                          r"answer|comment|statement)\b|"
                          r"what(?:['’]s|\s+(?:was|is|were|are))\s+the\s+(?:official\s+)?(?:reply|response|reaction|answer|comment)\s+"
                          r"(?:of|from|by)\s+(?:the\s+)?(.+?)(?=\s+(?:to|on|about|regarding|over|after)\b|\W*$)|"
                          r"(?:did|has|have)\s+(?:the\s+)?(.+?)\s+(?:say|said|add|added|mention|mentioned)\s+anything\s+else\b|"
                          # "did X comment on ...?", "has X responded?": whether X spoke, and what X said ("did they
                          # comment?" stays a yes/no question: who "they" are is a guess)
                          r"(?:did|has|have|does|do)\s+(?!(?:they|he|she|it|we|you)\b)(?:the\s+)?(.+?)\s+(?:comment|commented|respond|responded|reply|replied|"
                          r"react|reacted|(?:give|provide|offer)\s+(?:\w+\s+){0,2}comment|say\s+anything)\b|"
                          r"anything\s+else\s+(?:the\s+)?(.+?)\s+(?:said|says|say|added|mentioned)\b|"
                          # "and SenseTime's answer to that?": the noun alone
                          r"(?:the\s+)?([^\s?]+(?:\s+[^\s?]+)?)['’]s?\s+(?:reply|response|reaction|answer|comment)"
                          r"(?:\s+(?:to|on|about)\b[^?]*)?\W*$)", re.I)
# "Who spoke for the company?", "who was the person speaking on behalf of X?": X's spokesperson is
# found where X speaks ("X spokeswoman Y said").
SPOKE_FOR = re.compile(rf"^\W*(?:{OPENING}\W+)?" r"who(?:'s|s)?\s+(?:(?:is|was|were|are)\s+)?(?:(?:the|a)\s+\w+\s+)?"
                       r"(?:speaking|spoke|speaks|talking|talked|talks)\s+(?:(?:for|on\s+behalf\s+of)\s+(?:the\s+)?(.+?)|"
                       r"on\s+(?:the\s+)?(.+?)['’]s?\s+behalf)\W*$", re.I)  # "who spoke on the firm's behalf?" too
# A person quoted in an earlier answer: "... spokeswoman June Jin said", "..., Jin wrote."
QUOTED_PERSON = re.compile(rf"\b((?-i:[A-Z])[\w'’-]+(?:\s+(?-i:[A-Z])[\w'’-]+)*)\s+{SPEECH}\b")
# "Where did the info on X come from?", "what's the source of those figures?": who says so.
_INFO = r"(info|information|data|figures?|numbers?|details?|facts?|claims?|stats|statistics)"
ATTRIBUTION = re.compile(rf"\b(where|how)\b.{{0,60}}\b{_INFO}\b.{{0,40}}\b(come|came|comes|coming) from\b|"
                         rf"\bwhere\b.{{0,40}}\b(get|got|find|found|learn|learned)\b.{{0,40}}\b{_INFO}\b|"
                         rf"\bsources? (of|for|behind) (the|this|that|these|those|their|its) {_INFO}\b", re.I)
# Words that only frame such a question; the passage need not hold them.
ATTRIBUTION_FRAMING = frozenset(tokens("info information data figure figures number numbers detail details fact facts "
                                       "claim claims stats statistics come came comes coming source sources get got "
                                       "find found learn learned"))
# Questions that ask for more than their type's usual answer: "which month" is not answered by a
# year or a season, "how old" not by any number.
GRAINS = {
    "month": re.compile(r"\b(which|what) (month|date)\b|\bexact (date|day|month)\b|\bwhen exactly\b|"
                        r"\bexactly when\b", re.I),
    "age": re.compile(r"\bhow old\b|\bwhat age\b|\b(his|her|their) age\b", re.I),
    # "what time does the bridge close?", "at what hour ...": a time of day, not a date
    "clock": re.compile(r"\b(what|which) (time(?! (frame|period|span|limit|line|zone)\b)|hour)\b|\bhow early\b|"
                        r"\bhow late\b(?! (is|was|are|were|can|may|could)\b)", re.I),
    # "what term has X used for Y?", "what did X call Y?": a sentence that labels Y ("has labeled ... a genocide")
    "label": re.compile(r"\bwhat (term|word|label|phrase|words)\b.*\b(use|used|uses|using|call|called|calls|give|gave|"
                        r"given|apply|applied|put)\b|\bwhat (do|does|did|has|have) .+ (call|calls|called|label|labeled|"
                        r"labelled|term|termed|dub|dubbed)\b", re.I),
    # "what's the name of the vendor", "what's the company called": a name the question doesn't give
    "name": re.compile(r"\b(the |its |their |his |her |a |full |official |exact )?name of\b|\b(company|firm|business|vendor|"
                       r"brand|product|person|official)['’]?s? name\b|\bwhat( is|'s|’s| was) (it|that|the \w+) called\b|"
                       r"\bwhat (is|was) (its|their|his|her) name\b|"
                       # "which agency", "which US company": a kind of thing that goes by a name
                       rf"\bwhich (\w+ )?{NAMED_KINDS}\b", re.I),
}
# "Which bakery handed out ...?", "on which exchange ...?": one thing, picked out by its name (not "a
# local bakery"). Not a kind of thing ("which type of ...") or a part of one; several ("which
# improvements") make a list, which any words may give.
WHICH_ONE = re.compile(rf"^\W*(?:{OPENING}\W+)?" r"(?:(?:on|in|at|from|to|for|by|with|under|of)\s+)?which\s+"
                       r"(?!(?:kind|kinds|type|types|sort|sorts|way|ways|one|ones|form|version|part|parts|aspect|"
                       r"reason|reasons|year|month|day|date|time|of)\b)[a-z]", re.I)
# An analyst's request ("Identify the two instruments ...", "Please outline the consequences ...") and a
# pointer to the document asked about ("... identified in the status memo", "the article prints"): they
# frame the question; the passage that answers needn't hold these words.
REQUEST = re.compile(r"^\W*(?:please\s+)?(identify|specify|enumerate|characteri[sz]e|summari[sz]e|outline|describe|"
                     r"explain|state|indicate|provide|detail|clarify|list|name|spell out|set out|elaborate on)\b", re.I)
DOC_REFERENCE = re.compile(r"\b(?:in|by|according to|from|of|for) (?:the|this|that|its|their) (?:[\w-]+ ){0,2}?"
                           r"(article|document|story|piece|memo|report|faq|page|write-?up|text)s?\b|"
                           r"\b(?:the|this|that) (article|document|story|piece|memo|report|faq|page|write-?up|text) "
                           r"(?:print|say|state|report|describe|mention|give|note|list|name|use|call|cite|quote)s?\b",
                           re.I)


def framing_tokens(question: str) -> frozenset[str]:
    """The tokens of a question that only frame it: an opening request verb and the noun naming the document."""
    found = [m.group(1) for m in [REQUEST.match(question)] if m]
    found += [m.group(1) or m.group(2) for m in DOC_REFERENCE.finditer(question)]
    return frozenset(tokens(" ".join(found)))


LABEL_FRAMING = frozenset(tokens("use used uses using call called calls give gave given apply applied put term word "
                                 "words label phrase officially formally publicly"))
# "Is Germany one of the countries in the pact?", "was X among those sanctioned?": whether something
# belongs to a group the sources may list in full
# A demonym describing what a yes/no question asks about ("a Chinese organization", "an American company")
_DEMONYM_IN = re.compile(r"\b(?:a|an)\s+([A-Z]\w+)\s+[a-z]")
MEMBERSHIP = re.compile(r"\b(one of|among|part of|included in|on the list|a member of|members of|in the group|"
                        r"(signed|joined|sign|join)( \w+){0,4} (too|as well|also))\b", re.I)
# "Which Nordic countries are in the pact?": the members of a group, picked by a kind the question names
# ("Nordic"); where no source says which members are of that kind, the ones they name are what it holds
WHICH_OF_KIND = re.compile(r"^\W*(?i:so\s+|and\s+)?(?i:which|what)\s+(?i:of the\s+)?([A-Z][\w-]*|[a-z]+ern)\s+"
                           r"(?:[a-z]+\s+)?([a-z]+s)(?=\s*[,?]|\s+(?:are|were|have|had|did|do|can|could|will|would|also|"
                           r"still|in|on|of|among|from|that|who|which|took|signed|joined)\b)")
NAME_MODIFIER = re.compile(r"\b(official|full|exact|proper|formal|real|actual|complete|correct)\s+(?:name|title)\b", re.I)
NUMBER = re.compile(r"\b\d[\d,.]*\b")
# The asker speaking of themselves within the few words before a number ("my kid is", "I found it about")
OWN_CASE = re.compile(r"\b(my|i|i'm|im|i’m|i'd|i’d|i've|me|we|our|mine|hes|he's|she's|shes)\b(?:\W+\w+){0,5}\W*$", re.I)
OTHER_NAME_CHUNKS = 50  # chunks read to see whether a word of a name occurs only inside other names
BACKGROUND_WEIGHT = 0.35  # weight of a term the conversation supplied, relative to the question's own
AUX = r"(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|should|kind|sort|type)"
# The thing asked for: "what stake ...", "which department ...", "SenseTime's revenue"
FOCUS = re.compile(rf"^\W*(?:what|which)\s+(?!{AUX}\b)(?:\w+\s+)??(\w+)\s+(?:{AUX}|of)\b"
                   r"|^\W*(?:who|what)\s+(?:is|was|are|were)\s+the\s+(?:[\w'’-]+\s+)*?(\w+)\s*(?:\?|$|(?:of|in|at|for|on)\b)"
                   # a possessive, not a contraction ("who's speaking", "what's new")
                   # (not after "of": in "uses of SenseTime's camera tech" the uses are asked for)
                   r"|(?<!\bof )(?<!\bof the )\b(?!(?:who|what|it|that|there|he|she|where|how|when|here|let)['’]s\b)\w+['’]s\s+(?:\w+\s+)??(\w+)"
                   r"\s*(?:\?|$|(?:in|on|at|for|of|today|now|this|that|and)\b)"
                   # a follow-up on the same subject: "and what about their revenue?"
                   r"|^\W*(?:and\s+)?(?:what|how)\s+about\s+(?:their|its|his|her)\s+(?:\w+\s+)??(\w+)\W*$", re.I)
# The event of a passive "when" question: "When was X founded?" asks for the founding, not any date about X
WHEN_PASSIVE = re.compile(r"^\W*(?:when|(?:in\s+)?(?:what|which)\s+year|where)\s+(?:was|were|is|are|will\s+be|has\s+been|had\s+been)\s+"
                          r".+?\s+(\w+(?:ed|en)|built|made|held|set up|born|sold|bought|hit|put)\W*$", re.I)
# The deed of "Who founded X?", "who owns it?": founding, building or owning a thing is a fact a
# passage states in so many words (or near ones), not one that any sentence naming X and a person
# answers. Verbs told in many ways ("runs": oversees, is in charge of) are left to the other checks.
WHO_DID = re.compile(r"^\W*who\s+(?:first\s+|originally\s+|actually\s+|really\s+)?(found(?:ed|s)?|creat(?:ed|es)|"
                     r"establish(?:ed|es)|buil(?:t|ds)|invent(?:ed|s)|own(?:ed|s)|head(?:ed|s))\b", re.I)
# Verbs that only report an event ("when was the ban announced?"): the event is the thing asked about.
REPORTED = re.compile(r"(announc|report|reveal|unveil|declar|disclos|releas|confirm)\w*|stated|made public", re.I)
# What is counted: "how many employees", "how many outdoor units" (a plural right after wins)
COUNTED = re.compile(rf"\bhow many\s+(?:of\s+(?:the|its|their)\s+)?(\w+)(?:\s+(?!{AUX}\b)(\w{{3,}}s)\b)?", re.I)
# "how much did it cost / did they pay / was invested": the answer is an amount of money
MONEY_QUESTION = re.compile(r"\bhow much\b(?!\s+(time|longer|later|more time)\b)(?=.*\b(cost|costs|pay|paid|price|priced|spend|"
                            r"spent|fees?|money|cash|worth|invest|invested|put into|raise|raised|budget|charge|charged|"
                            r"fines?|earn|earned|revenues?|sales|profits?|income|earnings|salary|salaries)\b)",
                            re.I)
# "what did they pay", "what was its revenue", "what is the share price": also an amount of money
MONEY_WHAT = re.compile(r"^\W*(what|whats|wat)\b.*\b(pay|paid|spend|spent|cost|costs|price|prices|valuation|worth|revenues?|"
                        r"sales|profits?|income|earnings|salary|salaries|wages?|budget|fees?|fines?|dollar amount|valued|"
                        r"trading at|trades at|trade at)\b", re.I)
# The kind of thing whose name is asked for: "which department", "the name of the list".
KIND = re.compile(rf"\bwhich\s+(?:[\w-]+\s+)??{TITLED_KINDS}\b|\bname\s+of\s+(?:the|that|this|its|their)\s+"
                  rf"{TITLED_KINDS}\b", re.I)
GENERIC_COUNTED = frozenset(normal(w) for w in ("people", "persons", "times", "ways", "things", "ones"))
QUOTED = re.compile(r"[\"“]([^\"”]{3,80})[\"”]")


@dataclass
class Query:
    """What a question asks, as every later stage needs it."""

    question: str  # as typed
    standalone: str  # rewritten with the conversation, when it is a follow-up
    intent: str  # content | smalltalk | help | summary | author | published | source | title | quoted
    qtype: str  # the kind of sentence that answers: when, count, who, why, where, attribution, list, yesno, say, what
    premises: list[str] = field(default_factory=list)  # names, numbers, quotes taken as given that no source holds
    names: list[list[str]] = field(default_factory=list)  # each name's distinctive tokens: an answer's passage holds them
    focus: str = ""  # the token of the thing asked for ("revenue" in "what was its revenue"), if the form shows it
    # the word that says which one ("price" in "the price tag", "coast" in "which stretch of coast"): the thing
    # is met when the passage holds either, as a compound's head may be a frame the source never uses
    focus_with: str = ""
    terms: dict[str, float] = field(default_factory=dict)  # corrected content tokens -> weight
    surface: dict[str, str] = field(default_factory=dict)  # token -> the word the user typed
    missing: list[str] = field(default_factory=list)  # tokens no source uses
    background: frozenset = frozenset()  # tokens the conversation added, not the question itself
    said: str = ""  # what the assistant already answered in this conversation
    said_stems: frozenset = frozenset()  # the conversation's tokens: a sentence made mostly of them adds nothing
    injection: bool = False
    more: bool = False  # "what else ...": what the conversation already gave is left out
    points_back: bool = False  # refers to the conversation ("how are they fixing that?"), not a new question
    # what a rewritten follow-up brings in ("a regular book" in "and a regular book?" after "how long can I
    # keep a DVD?"): a sentence given before that holds it answers anew
    brought: frozenset = frozenset()
    money: bool = False  # a "how much" question about money: the answer holds an amount
    grain: str = ""  # finer than the type: "month" (which month, the exact date), "age" (how old), "name"
    kind: str = ""  # for a name asked for, the kind of thing named ("department" in "which department ...")
    frames: dict = field(default_factory=dict)  # periods the question names relative to others ("next year")
    membership: bool = False  # "is X one of the countries ...?": answered by the members the sources name
    members_kind: str = ""  # "countries" in "which Nordic countries ...?": what the members named must be

    @property
    def search_terms(self) -> list[str]:
        """The tokens the lexical retriever looks for: for "how did X react?", also words that report speech,
        as the answer is what X said, which may share no other word with the question."""
        return list(self.terms) + (list(SPEECH_TOKENS) if self.qtype == "say" else [])


CLAIM_CHECK = re.compile(r"[-,–—:]\s*(true|right|correct|accurate|is (that|this|it) (true|right|correct|so)|"
                         r"am i right|yes or no)\W*$")


def question_type(question: str) -> str:
    """A coarse type that says what kind of sentence answers the question."""
    q = re.sub(rf"^{OPENING}\W+", "", question.lower().strip())
    if CLAIM_CHECK.search(q):  # "my prof said X signed the pledge too - true?": whether the claim holds
        return "yesno"
    if AUTHOR_QUESTION.search(q):
        return "author"
    if SAY_QUESTION.match(q):
        return "say"
    if re.match(r"^when\b", q) or re.search(r"\b(what|which) (year|date|day|month|time)\b|\bhow long\b", q) \
            or re.search(r"\b(what|which)('s| is| was)? (the )?([\w-]+ )?(period|window|deadline|timeframe|time frame|"
                         r"timeline|duration)\b", q):  # "what divestment period is afforded ...?"
        return "when"
    # "how big a deal is it" asks for a degree, not a number
    if re.search(r"\b(how (many|much|old)|how (big|large)(?! an?\b)|number of|what number|what (amount|percentage|share))\b", q):
        return "count"
    if re.match(r"^(who|whom|whose|whos)\b", q):
        return "who"
    if re.match(r"^why\b", q) or re.search(r"\b(reasons?|justification|rationale|motives?|motivation|explanation|"
                                             r"for what( (reason|purpose|cause)|\W*$)|on what (grounds|basis))\b", q):
        return "why"
    if ATTRIBUTION.search(q):
        return "attribution"
    if re.match(r"^where\b", q):
        return "where"
    # Lists: "list/name the ...", or which/what with a plural noun ("which companies", "which other
    # Chinese firms are ..."); "what happens" and "which department oversees" are not lists.
    plural = r"(?!(?:happens|means|does|goes|comes|makes|seems|matters)\b)(\w{3,}(?<!s)s|people)"
    if re.match(r"^(list|name|enumerate|itemi[sz]e)\b", q) or re.search(rf"\b(which|what) (other )?{plural}\b", q) \
            or re.search(rf"\b(which|what) (other )?\w+ {plural} (are|were|was|is|have|had|did|do|does)\b", q) \
            or re.match(rf"^what (are|were) the (\w+ )?{plural}\b", q):
        return "list"
    if re.match(r"^(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must)\b", q):
        return "yesno"
    return "what"


# "Who wrote the memo and who is it addressed to?", "which list, and what does it restrict?": two
# questions in one. A question word (or, after a comma, a verb opening a yes/no question) after
# "and" starts the second.
COMPOUND = re.compile(r",?\s+and\s+(?=(?:when|where|who|whom|whose|what|which|why|how)\b)|"
                      r",\s+and\s+(?=(?:is|are|was|were|does|do|did|can|could|will|has|have)\b)", re.I)


def compound_parts(question: str) -> list[str]:
    """The two questions a question joins with "and", each to be answered on its own; [] for one question."""
    parts = COMPOUND.split(question.strip(), maxsplit=1)
    if len(parts) != 2:
        return []
    first, second = parts[0].strip().rstrip(",;") + "?", parts[1].strip()
    if min(len(words(first)), len(words(second))) < 2 or "content" not in (intent_of(first), intent_of(second)):
        return []  # "when and where?", "hi, and what can you do?"
    return [first, second]


def premises(question: str) -> list[str]:
    """Names, numbers, quoted phrases and "today" the question takes as given: each must occur in the sources."""
    folded = fold(question)  # "U.S." is one name, not the letter U
    found = [n for n in names(folded) if n.lower() not in STOPWORDS]
    first = words(question)[:1]
    found += [w for w in first if w.isupper() and len(w) > 1 and w.lower() not in STOPWORDS]
    # a country typed in lower case is still a name ("is japan one of the countries ...?")
    found += [w.capitalize() for w in words(question) if w.islower() and w.capitalize() in COUNTRIES]
    # a brand written with an inner capital is a name wherever it stands ("iPhone", "eBay")
    found += [w for w in words(question) if re.fullmatch(r"[a-z]+[A-Z][\w’'-]*", w)]
    # a number of the asker's own case ("my 9-year-old", "I'm 45 days late") is no claim about the sources
    found += [m.group(0) for m in NUMBER.finditer(question) if not OWN_CASE.search(question[max(0, m.start() - 40):m.start()])]
    found += [f"“{q}”" for q in QUOTED.findall(question)]
    # "today" is a date too: sources written before it can't say what holds on it, unless they speak of it
    found += [m.group(0).lower() for m in re.finditer(r"\btoday\b", question, re.I)][:1]
    return list(dict.fromkeys(found))


def missing_premises(found: list[str], lexical: LexicalIndex, dictionary: frozenset[str]) -> list[str]:
    """The premises no source holds (allowing plurals, possessives, case, aliases and typos).

    A name of several words holds when each of its uncommon words occurs ("President Biden"
    holds through "Biden"; "Dr. Smith" does not); an acronym or a single word must occur itself.
    """
    absent = []
    for premise in found:
        if premise.startswith("“"):
            if not _quoted_somewhere(premise.strip("“”"), lexical):
                absent.append(premise)
            continue
        parts = [w for w in words(premise) if w.lower() not in STOPWORDS] or words(premise)
        held = [_held(w, lexical) for w in parts]
        if all(held):
            continue
        common = [w.lower() in dictionary and not w.isupper() for w in parts]
        if len(parts) > 1 and any(held) and all(h or c for h, c in zip(held, common)) \
                and not _only_in_other_names(parts, held, lexical, dictionary):
            continue
        absent.append(premise)
    return absent


def _only_in_other_names(parts: list[str], held: list[bool], lexical: LexicalIndex, dictionary: frozenset[str]) -> bool:
    """Whether the name's held words occur only inside other names: "South Korea" is not held by "North
    Korea", whereas "President Biden" is held by "Biden" (which no other capitalised word comes before).
    A first name before it ("John Smith" for "Governor Smith") may be the same person; a capitalised
    common word ("North") makes another name."""
    first = next((w for w, h in zip(parts, held) if h), None)
    if first is None or first == parts[0]:
        return False
    before = parts[parts.index(first) - 1]
    token = normal(first)
    texts = [c.text for c in lexical.holding(token, k=OTHER_NAME_CHUNKS)]
    found = [m.group(1) for t in texts for m in re.finditer(rf"(\S+)\s+{re.escape(first)}\b", t)]
    return bool(found) and all(w[:1].isupper() and w.lower() != before.lower() and w.lower() in dictionary
                               and w not in PRONOUNS and not re.match(r"[A-Z][a-z]*\.$", w) for w in found)


def _quoted_somewhere(phrase: str, lexical: LexicalIndex) -> bool:
    """Whether some chunk holds the phrase. Only the chunks holding its rarest word are read (the
    BM25 postings list them), not every chunk of a large index."""
    phrase = phrase.lower()
    own = [t for t in tokens(phrase) if t]
    if own:
        rarest = min(own, key=lambda t: lexical.doc_freq.get(t, 0))
        chunks = lexical.holding(rarest, k=len(lexical.chunks)) if lexical.doc_freq.get(rarest) else []
    else:
        chunks = lexical.chunks  # only function words: nothing narrows the search
    return any(phrase in c.text.lower() for c in chunks)


def name_tokens(name: str, lexical: LexicalIndex) -> list[str]:
    """The token of a name that a passage about it must hold: its last word, since later mentions
    keep the surname or head noun ("Zakir" for "Shohrat Zakir", "Biden" for "President Biden")."""
    # a compound's lower-case tail is no part of the name: "Uyghur-alert software" names the Uyghurs
    parts = [w for w in words(re.sub(r"(?<=\w)-[a-z][\w-]*", "", name)) if w.lower() not in STOPWORDS]
    return [lexical.speller.correct(w, normal(w)) for w in parts[-1:]]


def _held(word: str, lexical: LexicalIndex) -> bool:
    token = stem(word)
    if token in lexical.all_stems:
        return True
    return lexical.speller.correct(word, normal(word)) in lexical.vocabulary


# Set phrases that carry no subject: "why was it shut in the first place?" is not about a place.
IDIOMS = re.compile(r"\b(in the first place|at all|these days|right now|at the moment|in general|in particular|"
                    r"for that matter|by the way|of course|after all|in practice|all in all)\b", re.I)


def weighted_terms(text: str, lexical: LexicalIndex) -> tuple[dict[str, float], dict[str, str], list[str]]:
    """Content tokens (typos corrected, framing and set phrases dropped) weighted by rarity, their typed
    words, and the unknown ones.

    A token no source uses weighs as much as the rarest one: it is what the question is most
    specifically about, so a sentence lacking it covers the question less well.
    """
    surface: dict[str, str] = {}
    for word in words(IDIOMS.sub(" ", text)):
        if word.lower() in STOPWORDS:
            continue
        token = lexical.speller.correct(word, normal(word))
        if token not in FRAMING and token not in surface:
            surface[token] = word.lower()
    idf = {t: lexical.idf(t) for t in surface}
    missing = [t for t, w in idf.items() if w == 0.0]
    top = max([w for w in idf.values() if w] or [1.0])
    return {t: (top if t in missing else w) for t, w in idf.items()}, surface, missing


def spelled(text: str, lexical: LexicalIndex, dictionary: frozenset[str] = frozenset()) -> str:
    """The text with each misspelt word replaced by the corpus word it was corrected to.

    Typos hurt most in the embedding: "wat is the entitty list" is far from every sentence, while
    the corrected words are close. The corrected word is taken from a passage that holds it, so it
    is a real word, not a stem. A real word is kept as typed: "administers" is not a typo of
    "administration", though both count as one token.
    """
    def fix(match: re.Match) -> str:
        word = match.group(0)
        token = normal(word)
        if word.lower() in STOPWORDS or known_word(word, dictionary) or token in lexical.vocabulary:
            return word
        common = swapped_function_word(word)
        if common:
            return common
        fixed = lexical.speller.correct(word, token)
        if fixed == token:
            return word
        for chunk in lexical.holding(fixed):
            for candidate in words(chunk.text):
                if normal(candidate) == fixed:
                    return candidate if candidate.lower() in lexical.proper else candidate.lower()
        return word
    return WORD.sub(fix, text)


def _content_turns(history: list[dict]) -> list[dict]:
    """The conversation without its turns about the documents themselves or small talk ("who is quoted in
    the article?", "thanks!") and their replies: they give a follow-up no topic ("what about Hikvision?"
    after them still swaps the subject of the question before)."""
    kept, skipping = [], False
    for turn in history:
        if turn["role"] == "user":
            skipping = intent_of(turn["content"]) != "content"
        if not skipping:
            kept.append(turn)
    return kept


def analyze(question: str, history: list[dict], lexical: LexicalIndex,
            dictionary: frozenset[str] = frozenset()) -> Query:
    """The Query for a question asked after ``history`` (already validated)."""
    typed, question = question, spelled(question_word(unabbreviated(question)), lexical, dictionary)
    question = digits_as_words(question, lambda digit: not missing_premises([digit], lexical, dictionary))
    fresh = new_topic(question)
    if fresh:  # the user says the subject changes: the conversation before no longer applies
        question, history = fresh, []
    history = [dict(t, content=spelled(question_word(unabbreviated(t["content"])), lexical, dictionary))
               if t["role"] == "user" else t for t in _content_turns(history)]
    intent = intent_of(question)
    # Small talk and questions about the documents stand on their own ("summarize" after a question
    # is not "summarize (that question's words)").
    standalone = standalone_query(question, history, lexical.proper) if intent == "content" else question
    terms, surface, missing = weighted_terms(standalone, lexical)
    background: frozenset = frozenset()
    if standalone.startswith(question + " (") and standalone.endswith(")"):
        # Context the conversation appended ("they" -> the people just named) helps find passages but
        # is not what is asked: it weighs less, and a sentence need not hold all of it.
        # A word of the conversation no source uses finds nothing, so it is left out rather than
        # weighed: "can't US folks put money" before "who was the spokesperson?" made every sentence
        # look as if it missed half the question.
        own = weighted_terms(question, lexical)[0]
        background = frozenset(t for t in terms if t not in own)
        terms = {t: w * BACKGROUND_WEIGHT if t in background else w for t, w in terms.items()
                 if t in own or t not in missing}
        missing = [t for t in missing if t in own]
    said = " ".join(t["content"] for t in history if t["role"] == "assistant")
    said_stems = frozenset(tokens(said))
    qtype = question_type(standalone)
    if qtype == "attribution":
        terms = {t: w for t, w in terms.items() if t not in ATTRIBUTION_FRAMING}
        missing = [t for t in missing if t not in ATTRIBUTION_FRAMING]
    framing = framing_tokens(question)
    if framing and set(terms) - framing:  # (a question of nothing but them keeps them)
        terms = {t: w for t, w in terms.items() if t not in framing}
        missing = [t for t in missing if t not in framing]
    query = Query(typed, standalone, intent, qtype, terms=terms, surface=surface,
                  missing=missing, background=background, said=said, said_stems=said_stems,
                  more=bool(history) and bool(MORE.search(question)), injection=is_override(question),
                  points_back=bool(history) and (bool(background) or (bool(ANAPHORA.search(typed))
                                                                  and not owners_inside(typed))))
    if standalone != question and not standalone.startswith(question + " ("):
        query.brought = frozenset(tokens(question)) & frozenset(terms) - frozenset(missing)
    if intent == "content" and not terms:
        # Nothing left to search for ("when did this happen?", "explain"): it asks about the documents.
        query.intent = "published" if query.qtype == "when" else "summary"
    if query.intent == "content":
        given = premises(question)
        query.premises = missing_premises(given, lexical, dictionary)
        # "Is the group a Chinese organization?", "is it an American company?": whether the thing is of
        # that country is what is asked, not a name its passage must hold
        # (a word the aliases fold is a demonym: "Chinese" reads "China Chinese", "American" reads "US")
        adjectives = [m.group(1) for m in _DEMONYM_IN.finditer(question)] if query.qtype == "yesno" else []
        described = {w for a in adjectives if fold(a).split() != [a] for w in fold(a).split()}
        predicate = {n for n in given if described and set(n.split()) <= described}
        # "Which European nations ...?": the kind of member asked for, not a name the passage must hold
        of_kind = WHICH_OF_KIND.match(question)
        predicate |= {n for n in given if of_kind and of_kind.group(1) in n.split()}  # ("Europe European")
        query.names = [name_tokens(n, lexical) for n in given
                       if n not in query.premises and not n.startswith("“") and not NUMBER.fullmatch(n)
                       and n not in predicate]
        query.names = [n for n in query.names if n]
        # "What year was X founded?" asks for the founding (the date is the answer's form), not for "year"
        found = WHEN_PASSIVE.search(question) or FOCUS.search(question) or COUNTED.search(question) \
            or WHO_DID.search(question)
        if found is not None and found.re in (WHEN_PASSIVE, WHO_DID) and REPORTED.fullmatch(found.group(1)):
            found = None  # "when was the ban announced?" asks when the ban came, not for the word "announced"
        word = next((g for g in reversed(found.groups()) if g), "") if found else ""
        token = lexical.speller.correct(word, normal(word)) if word and word.lower() not in STOPWORDS else ""
        query.money = (query.qtype == "count" and bool(MONEY_QUESTION.search(question))) or \
            (query.qtype == "what" and bool(MONEY_WHAT.search(question)))
        query.frames = time_frames(question)
        query.membership = (query.qtype == "yesno" and bool(MEMBERSHIP.search(question))) or bool(of_kind)
        query.members_kind = of_kind.group(2) if of_kind else ""
        query.grain = next((g for g, pattern in GRAINS.items() if pattern.search(question)), "")
        if query.grain == "label":  # "what term has X used for ...": the verb only frames it, the label answers
            query.terms = {t: w for t, w in query.terms.items() if t not in LABEL_FRAMING}
        elif query.grain == "name":  # "the official name of the list": "official" says which name, not what of
            framing = {stem(m.group(1)) for m in NAME_MODIFIER.finditer(question)}
            query.terms = {t: w for t, w in query.terms.items() if t not in framing}
        if not query.grain and query.qtype not in ("list", "when", "count") and WHICH_ONE.match(question):
            query.grain = "name"
        kind = KIND.search(question) if query.grain == "name" else None
        query.kind = next((g.lower() for g in kind.groups() if g), "") if kind else ""
        # Nothing to look for: "how many people" (any group of people can be meant), or an unknown
        # non-word, a typo the speller could not place ("unts")
        vague = token in GENERIC_COUNTED or (token in query.missing and not known_word(word, dictionary))
        query.focus = token if token in terms and token not in FRAMING and not vague else ""
        if query.focus:
            query.focus_with = _compound_word(question, word, terms, {t for n in query.names for t in n}, lexical.proper)
    return query


def _compound_word(question: str, word: str, terms: dict, named: set, proper: frozenset) -> str:
    """The term joined to the focus word in a compound: the word before it ("price tag") or the noun its
    "of" gives ("stretch of coast"); "" when neither is a term of the question."""
    before = re.search(rf"\b([\w-]+)\s+{re.escape(word)}\b", question, re.I)
    after = re.search(rf"\b{re.escape(word)}\s+of\s+(?:the\s+|a\s+|an\s+|its\s+|their\s+)?([\w-]+)", question, re.I)
    for m in (before, after):
        token = normal(m.group(1)) if m else ""
        # not a name ("SenseTime founded", "the CEO of sensetime"): whose thing it is, not which thing
        if token in terms and not m.group(1)[:1].isupper() and token not in named \
                and not (m is after and m.group(1).lower() in proper):
            return token
    return ""


# Words that say only that someone speaks for what the words before them name
SOMEONE = frozenset("guy guys person people man woman lady dude folks rep reps representative representatives "
                    "official officials spokesman spokeswoman spokesperson spokespeople".split())


def speaker_words(query: Query, explicit_only: bool = False) -> list[str]:
    """For "what did X say": the words of X ([] when the question asks of no one); X is matched by its last.

    ``explicit_only``: [] when X is a pronoun the conversation resolved ("what did they say?"),
    which is a guess.
    """
    subject = SAY_QUESTION.match(query.standalone) or SPOKE_FOR.match(query.standalone)
    if not subject:
        return None
    speaker = next(g for g in subject.groups() if g)
    names_ = [w for w in words(speaker) if w.lower() not in STOPWORDS]
    # as written, when folding only added words ("White House" reads "White House administration"): the
    # source writes who speaks as it names them, "the White House said"
    written = [w for w in WORD.findall(speaker) if w.lower() not in STOPWORDS]
    if written and set(written) <= set(names_):
        names_ = written
    # "the treasury guy", "the company's rep": the one who speaks for what the words before name
    while len(names_) > 1 and names_[-1].lower() in SOMEONE:
        names_ = names_[:-1]
    names_ = [re.sub(r"['’]s$", "", w) for w in names_]  # "SenseTime's spokeswoman" speaks as "SenseTime spokeswoman ..."
    if not names_ and speaker.lower() in ("he", "she"):
        # "what else did she say?": the person quoted last in the conversation's answers (not a guess
        # like "they", which may be any group just named)
        quoted = [m.group(1) for m in QUOTED_PERSON.finditer(query.said) if m.group(1).split()[0] not in PRONOUNS]
        names_ = words(quoted[-1]) if quoted else []
    if not names_ and query.background and not explicit_only:  # "what else did they say?": who was just named
        context = names(query.standalone[query.standalone.find(" (") + 2:])
        names_ = words(context[-1]) if context else []
    return names_


def speaker_pattern(query: Query, explicit_only: bool = False):
    """For "what did X say": a pattern for sentences in which X speaks, or None.

    X is matched by its last word, as sources add first names and titles ("Deputy Treasury
    Secretary Adeyemo" is written "Deputy Treasury Secretary Wally Adeyemo"), before the verb, even
    across an apposition ("The Treasury Department, which oversees the list, said"), or after it
    ("..., said Mayor X."). ``explicit_only`` as for ``speaker_words``.
    """
    found = speaker_words(query, explicit_only)
    if not found:
        return None
    name = re.escape(found[-1])
    # A role is often named once ("Mayor Helen Voss cut ...") and the person quoted by surname
    # later ("... Voss said"): the third form links the two.
    cap = r"(?-i:[A-Z])[\w'’-]+"
    # Words between X and the verb may not be another speaker: in "a company that it said supports ...", "it" speaks.
    return re.compile(rf"\b{name}\b(?:\W+(?!(?:it|he|she|they|we|i)\b)\w+){{0,10}}?\W+{SPEECH}\b|\b{SPEECH}\W+(?:\w+\W+){{0,3}}?{name}\b(?:\W+{cap}){{0,3}}\s*[.,;]"
                      rf"|\b{name}\W+(?:{cap}\W+){{0,2}}(?P<person>{cap})\b.*?\b(?P=person)\b(?:\W+\w+){{0,3}}?\W+{SPEECH}\b",
                      re.I | re.S)


# A sentence that is all quotation, with no one named as saying it
QUOTE_ONLY = re.compile(r"^\s*[“\"][^”\"]+[”\"]\s*$")
PRONOUN_SPEAKS = re.compile(rf"^\W*(It|He|She|They)\s+(?:\w+\s+)?{SPEECH}\b")
# "Those investors did not immediately respond": a group the sentence before named
GROUP_SPEAKS = re.compile(rf"^\W*(?:Those|These)\s+\w+\s+(?:\w+\s+){{0,3}}?{SPEECH}\b")


def speaks(pattern, sentence: str, passage: str = "", name: str = "") -> bool:
    """Whether the speaker of ``pattern`` (whose last word is ``name``) speaks in ``sentence``, also by
    the surname the passage gives them or as one of a group it named just before."""
    if pattern.search(sentence):
        return True
    at = passage.find(sentence) if passage else -1
    if at > 0 and PRONOUN_SPEAKS.match(sentence) and pattern.search(passage[max(0, at - 400):at]):
        return True  # "It added that ...", right after the speaker's own sentence
    if at > 0 and QUOTE_ONLY.match(sentence):
        # “We regret ...” standing alone right after “...,” Jin wrote: the same speaker goes on
        before = split_sentences(passage[:at])
        if before and pattern.search(before[-1].text) and re.search(rf"[”\"][^“”\"]{{0,60}}?\b{SPEECH}\b", before[-1].text):
            return True
    # "... including Tiger Global and Glade Brook. Those investors did not respond.": one of the group the
    # sentence before lists (not any name in it: "funds invested in SenseTime" puts SenseTime in no group)
    before = split_sentences(passage[:at]) if at > 0 and name and GROUP_SPEAKS.match(sentence) else []
    if before and any(re.search(rf"\b{re.escape(name)}\b", member, re.I) for member in listed_names(before[-1].text)):
        return True
    found = pattern.search(passage) if passage else None
    person = found.group("person") if found else None
    if not person:
        return False
    name = re.escape(person)
    return bool(re.search(rf"\b{name}\b(?:\W+\w+){{0,3}}?\W+{SPEECH}\b|\b{SPEECH}\W+{name}\s*[.,;]", sentence))
