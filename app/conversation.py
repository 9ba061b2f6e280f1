"""Conversation: a follow-up question becomes a standalone query, using the turns before it.

Rule-based on purpose: the default pipeline runs with no language model. A generative backend can
replace ``standalone_query`` through the same signature (LangChain's history-aware retriever does
this with a chat model).
"""

from __future__ import annotations

import re

from app.text import DEMONYMS, NAMED_KINDS, OPENING, STOPWORDS, names, words
from app.records import DossierError

ANAPHORA = re.compile(r"\b(they|them|their|theirs|it|its|he|him|his|she|her|this|that|these|those|"
                      r"the company|the firm|the officials|the list|the ban|the sanction)\b", re.I)
WHAT_ABOUT = re.compile(r"^\W*(?:(?:ok(?:ay)?|alright|right|cool|great|thanks)\W+)?"
                        r"(?:and what about|and how about|what about|how about|and)\s+(.+?)\s*\??\s*$", re.I)
# A thing the last question asked of, by its determiner: "a laptop" in "how long can I borrow a laptop for?"
_DETERMINER = r"(?:a|an|the|my|your|our|this|that|these|those)"
NOUN_PHRASE = re.compile(rf"\b{_DETERMINER}\s+[\w-]+(?:\s+[\w-]+){{0,2}}", re.I)
LEADING_PREPOSITION = re.compile(r"^(?:for|with|on|about|in|at|to|from|of)\s+", re.I)


def validate_history(history) -> list[dict]:
    """Check a history is a list of {"role": "user"|"assistant", "content": str}."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise DossierError("history must be a list of {'role', 'content'} objects")
    for i, turn in enumerate(history):
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") \
                or not isinstance(turn.get("content"), str):
            raise DossierError(f"history item {i} must be {{'role': 'user'|'assistant', 'content': str}}")
    return history


# "different question: ...", "ok switching topics - ...", "on another note, ...": what follows stands alone
TOPIC_CHANGE = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|alright|right|now|and|but)\W+)*(?:"
                          r"(?:(?:a|an|one|on|on\s+a|on\s+an)\s+)?(?:(?:totally|completely|entirely)\s+)?"
                          r"(?:different|new|other|another|unrelated|separate)\s+(?:topic|question|subject|thing|note)s?|"
                          r"(?:switching|changing|change\s+of|new)\s+(?:the\s+)?(?:topics?|subjects?|gears)|"
                          r"unrelated(?:\s+question)?|moving\s+on)\s*(?:[-–—:,.;!]+\s*(?:but\b)?|\s+but\b)\s*", re.I)


# "switching to the library - who handles ...?", "moving on to the bridge: when ...?": the new subject, then the question
TOPIC_TO = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|alright|right|now|and|but)\W+)*(?:switching|switch|moving on|moving|"
                      r"turning|changing|going back|back|shifting|over)\s+(?:over\s+)?to\s+(?P<topic>[^-–—:,;?]{2,60}?)"
                      r"\s*[-–—:,;]+\s*(?P<rest>\S.*)$", re.I)


def new_topic(question: str) -> str | None:
    """The question after a marker that it changes the subject ("different topic - how many ..."), else
    None. A subject the marker names ("switching to the library - ...") stays with the question."""
    moved = TOPIC_TO.match(question)
    if moved:
        return f"{moved.group('rest').strip()} ({moved.group('topic').strip()})"
    found = TOPIC_CHANGE.match(question)
    rest = question[found.end():].strip() if found else ""
    return rest or None


MORE = re.compile(r"\b(else|other|another|more|also|too)\b", re.I)
WH_START = re.compile(r"^(when|why|where|who|how|what|which)\b", re.I)
WH_WORD = re.compile(r"^(when|why|where|who|how|what|which)\b(\s+\w+)?\s*\??$", re.I)
FULL_QUESTION = re.compile(r"^(when|why|where|who|how|what|which|is|are|was|were|did|does|do|can|could|will|would|"
                           r"has|have|had|should)(?:['’](?:s|re)\b|\s+\w+)\s+\w+", re.I)  # "what's its ...", too
OTHER_ONES = re.compile(rf"^\W*(?:{OPENING}\W+)?" r"(?:who|whom)\s+else\b|\b(?:which|what|any)\s+(?:\w+\s+)?others?\b",
                        re.I)
WH_ONLY = re.compile(r"\b(else|other|others|more|too|also)\b", re.I)  # words a follow-up adds to a bare question word
ORG_WORDS = re.compile(r"\b(Department|Party|Administration|Region|House|List|Post|Project|Exchange|Commission)\b")
# A possessive ("its", "their", "his", "her") whose owner the question itself gives before it: someone
# indefinite ("can a pension fund keep its stock?") or, for "their", a plural noun ("how long do funds
# have to dump their shares?"). Not a name: in "why did the US ban its shares?" "its" is most likely
# what was just discussed, and no rule here can tell who owns what.
POSSESSIVE = {"its", "their", "his", "her"}
INDEFINITE = re.compile(r"\b(?:a|an|any|each|every|no|one)\s+[a-z]", re.I)
PLURAL_NOUN = re.compile(r"\b(?!(?:is|was|has|does|goes|says|this|us|its|his|yes|as|thus|plus|less|unless|"
                         r"across|perhaps|always|sometimes|towards|whereas)\b)[a-z]{3,}[^s\W]s\b")
PLURAL = re.compile(r"\b(they|them|their|theirs)\b", re.I)


def owners_inside(question: str) -> bool:
    """Whether every word of the question that points back is a possessive whose owner the question
    gives before it, so that the question needs no conversation to be understood."""
    pointers = list(ANAPHORA.finditer(question))
    for pointer in pointers:
        word, before = pointer.group(0).lower(), question[:pointer.start()]
        if word not in POSSESSIVE:
            return False
        owner = INDEFINITE.search(before) or (word == "their" and PLURAL_NOUN.search(before))
        if not owner:
            return False
    return bool(pointers)


# "the second one", "the first guy's", "the latter": one item of a list the last answer gave
ORDINAL = re.compile(r"\bthe\s+(first|second|third|fourth|last|latter|former)(?:\s+(?:one|guy|man|woman|person|"
                     r"company|firm|official|name|group)\b|\s+(?:one\s+)?of\s+(?:those|these|them|the)(?:\s+(?:two|three|"
                     r"four|\d+))?\b|(?=['’]s\b|\s*[?.!,]|\s*$))", re.I)
# "which one of those two ...?", "which of them ...?": one of the names the last answer listed
WHICH_AMONG = re.compile(r"\bwhich\s+(?:one\s+)?of\s+(?:those|these|them|the\s+(?:two|three|four))\b|\bwhich one\b", re.I)
ORDINALS = {"first": 0, "former": 0, "second": 1, "third": 2, "fourth": 3, "last": -1, "latter": -1}
_NAME = r"(?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*"  # ("the Netherlands", "the United Kingdom")
ENUMERATION = re.compile(rf"({_NAME})((?:,\s+{_NAME})*),?\s+and\s+({_NAME})")


def listed_names(reply: str) -> list[str]:
    """The names of the last "A, B and C" list in an answer, in order (markers dropped)."""
    found = list(ENUMERATION.finditer(re.sub(r"\s*\[\d+\]", "", reply)))
    if not found:
        return []
    last = found[-1]
    middle = [n.strip() for n in last.group(2).split(",") if n.strip()]
    return [re.sub(r"^the\s+", "", n) for n in (last.group(1), *middle, last.group(3))]


def _ordinal(question: str, replies: list[str]) -> str | None:
    """The question with "the second one" replaced by the second name the last answer listed."""
    found = ORDINAL.search(question)
    items = listed_names(replies[-1]) if found and replies else []
    index = ORDINALS[found.group(1).lower()] if found else 0
    if not items or index >= len(items):
        return None
    return question[:found.start()] + items[index] + question[found.end():]


ASKED_KIND = re.compile(rf"\b(?:which|what)\s+(?:\w+\s+)?{NAMED_KINDS}\b", re.I)  # "which company ...?"


def _answered_kind(question: str, last: str, replies: list[str]) -> str | None:
    """ "and what did the company say?" after "Which company did the US ban?": "the company" is the one
    the answer named, not the last question's subject. The question with that name, or None."""
    kind = ASKED_KIND.search(last)
    pointer = re.search(rf"\b(?:the|that|this)\s+{kind.group(1)}\b", question, re.I) if kind and replies else None
    if not pointer:
        return None
    reply = re.sub(r"\[\d+\]", "", replies[-1])
    named = [n for n in names(reply) if n.lower() not in last.lower() and n not in DEMONYMS]
    # the name the answer gives as one of that kind ("the facial recognition company SenseTime"), or its only name
    # ("company SenseTime" before "Chinese company": a name after the noun is the thing itself, one before
    # it may only describe it)
    beside = [n for n in named if re.search(rf"\b{kind.group(1)}\s+{re.escape(n)}\b", reply, re.I)] + \
             [n for n in named if re.search(rf"\b{re.escape(n)}\s+{kind.group(1)}\b", reply, re.I)]
    chosen = beside[0] if beside else (named[0] if len(set(named)) == 1 else None)
    if chosen:
        return question[:pointer.start()] + chosen + question[pointer.end():]
    # not the last question's subject ("the US"), whoever it is: what was asked stays the topic
    return f"{question} ({_topic(last)})"


def _thing_swapped(last: str, about: str, known_names: frozenset[str]) -> str | None:
    """ "and a regular book?" after "how long can I keep a DVD?": the last question with the thing it
    asked of (a noun phrase) replaced by the new one; None when the new one is a name (the subject is
    swapped then) or the last question has no such phrase."""
    phrase = LEADING_PREPOSITION.sub("", about).strip()
    if not phrase or any(w[:1].isupper() or w.lower() in known_names for w in words(phrase)):
        return None
    # as many words as the new phrase has past its determiner: "a child borrow" is "a child" for "an adult"
    size = len(re.sub(rf"^{_DETERMINER}\s+", "", phrase, flags=re.I).split())
    found = []
    for m in NOUN_PHRASE.finditer(last):
        kept = [m.group(0).split()[0]]
        for w in m.group(0).split()[1:]:  # the phrase ends at its first function word ("a laptop for")
            if w.lower() in STOPWORDS or len(kept) > size:
                break
            kept.append(w)
        if len(kept) > 1:
            found.append((m.start(), " ".join(kept)))
    if not found:
        return None
    indefinite = re.match(r"(a|an)\b", phrase, re.I)
    at, old = next(((i, np) for i, np in found if bool(re.match(r"(a|an)\b", np, re.I)) == bool(indefinite)),
                   found[0])
    end = at + len(old)
    shared = re.search(rf"\b{re.escape(phrase.split()[-1])}\b", old, re.I)
    if shared:  # "the second biggest" for "the biggest risk": it says which one, the noun stays
        end = at + shared.end()
    return last[:at] + phrase + last[end:]


def _subject(question: str, known_names: frozenset[str] = frozenset()) -> str | None:
    """The main name a question is about: the first one it gives, a capitalised phrase after its
    first word or, typed in lower case, a word the sources write as a name ("who is sensetime and
    why did the US ban it" is about sensetime, not the US)."""
    found = [(question.find(n), n) for n in names(question)]
    lower = next(((m.start(), m.group(0)) for m in re.finditer(r"[\w’'-]+", question)
                  if m.group(0).islower() and m.group(0) in known_names and m.start() > 0), None)
    found += [lower] if lower else []
    return min(found)[1] if found else None


def names_own_subject(question: str, known_names: frozenset[str] = frozenset()) -> bool:
    """Whether a question names what it is about and points back at nothing ("who is X?", not "who is he?")."""
    return _subject(question, known_names) is not None and not ANAPHORA.search(question)


def _topic(question: str) -> str:
    """The content words of a question, in order."""
    return " ".join(w for w in words(question) if w.lower() not in STOPWORDS)


def says_enough(question: str) -> bool:
    """Whether a question says what it asks in words of its own (two content words), past "else", "other"."""
    return len(_topic(WH_ONLY.sub("", question)).split()) >= 2


def standalone_query(question: str, history: list[dict], known_names: frozenset[str] = frozenset()) -> str:
    """The question rewritten to stand on its own; unchanged when it needs no context.

    ``known_names`` are words the sources write as names (lower case), so "what about hikvision"
    after "why was sensetime banned" swaps the subject as it would with capitals.
    """
    question = question.strip()
    previous = [t["content"] for t in history if t["role"] == "user" and t["content"].strip()]
    if not previous:
        return question
    # The last question that said what it was about: after "who else?" or "and when?" (no words of
    # their own), the one before them still names the topic.
    last = next((q.strip() for q in reversed(previous) if _topic(WH_ONLY.sub("", q))), previous[-1].strip())
    replies = [t["content"] for t in history if t["role"] == "assistant"]
    picked = _ordinal(question, replies)
    if picked:
        return picked
    about = WHAT_ABOUT.match(question)
    if about and (not _topic(about.group(1)) or WH_WORD.match(about.group(1))
                  or FULL_QUESTION.match(about.group(1))
                  or re.search(r",\s*(?:when|why|where|who|how|what|which|can|do|does|did|is|are)\b", about.group(1), re.I)
                  or re.match(r"(?:their|its|his|her)\b", about.group(1), re.I)):
        # "and when?", "and then what?", "and when is he presenting it?", "what about kids, how many can
        # they take?": a new question, not a new subject; "what about their revenue?" asks of the same subject
        about = None
    answered = _answered_kind(question, last, replies)
    if answered:
        return answered
    swapped = _thing_swapped(last, about.group(1), known_names) if about else None
    if swapped:  # "and for ordinary books?" after "how long can I borrow a laptop for?"
        return swapped
    subject = _subject(last, known_names)
    if about and subject:  # "What about Hikvision?" after "Why was SenseTime banned?"
        return re.sub(rf"\b{re.escape(subject)}\b", about.group(1), last, count=1)
    short = len(words(question)) <= 3 or len(_topic(question).split()) <= 1  # "who were the individuals?"
    more = MORE.search(question)  # "who else ...", "any other ...": more of what was just discussed
    # A question opening with "and" / "so" continues the last one ("and what is the code meant to do?").
    continued = re.match(r"^\W*(and|so|also|then)\b", question, re.I)
    pointers = ANAPHORA.search(question)
    if (not pointers or owners_inside(question)) and not short and not about and not more \
            and not continued:
        return question
    # "Who else is on it?": "it" is not the subject asked about ("else" excludes it) but what it was
    # added to, so the conversation's topic is appended instead.
    if subject and re.search(r"\b(it|its|the company|the firm)\b", question, re.I) and not PLURAL.search(question) \
            and not more:
        swapped = re.sub(r"\bits\b", f"{subject}'s", question, count=1, flags=re.I)
        return re.sub(r"\b(it|the company|the firm)\b", subject, swapped, count=1, flags=re.I)
    others = OTHER_ONES.search(question)  # "who else ...", "which other ...": past what was discussed
    if others and says_enough(question):
        # "Who else was added to the list?" says what it asks; the conversation's words would only pull
        # the search back to what was already discussed ("how long do investors have to divest").
        return question
    context = [_topic(last)]
    if others and subject:
        # "Who else was added?" asks past the subject just discussed: its name would only find that
        # subject's passages again, so the topic keeps what was said of it, not who it was. ("What
        # else did she say?" asks more of the same subject, so it keeps it.)
        context = [" ".join(w for w in context[0].split() if w.lower() not in subject.lower().split())]
    if WHICH_AMONG.search(question) and replies and listed_names(replies[-1]):
        context += listed_names(replies[-1])
    elif PLURAL.search(question) and replies:  # "they" most often means the people just named
        people = [n for n in names(re.sub(r"\[\d+\]", "", replies[-1]))
                  if " " in n and not ORG_WORDS.search(n)]
        context += list(dict.fromkeys(people))
    bare = re.sub(r"^\W*(and|so|but|ok)\W+", "", question, flags=re.I)
    pointing = WH_START.match(bare) and not more and not _topic(WH_ONLY.sub("", bare))
    if replies and (WH_WORD.match(bare) or pointing):
        # "and when?", "why?", "when was that?": asked of what was just answered, so the answer's own
        # words are the topic ("who else is on it?" asks past them).
        context.append(_topic(re.sub(r"\[\d+\]", "", replies[-1]))[:300])
    context = [c for c in context if c]
    return f"{question} ({'; '.join(context)})" if context else question
