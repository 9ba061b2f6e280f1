"""Speakers: who a document quotes or cites, and the sentence where each first does.

Pattern-based on purpose: news and memos attribute speech in a few fixed forms ("X said",
"said X", "X, who ..., said", "according to X"), and a speaker named in them is written as a
capitalised name. No model here tells people from organisations, so the test is the name's form:
a person's name has a first name and a surname, or is the surname of one the document gives in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = r"[A-Z][\w’'.-]*"
_NAME = rf"(?:[Tt]he\s+)?{_WORD}(?:\s+(?:of\s+|for\s+)?{_WORD})*"
_VERB = r"(?:said|says|wrote|writes|told|tells|added|adds|stated|states|explained|noted|warned|argued|insisted)"
# "X said", "X, which oversees the list, said", "X at the time said"; "..., said X"; "according to the Y project"
ATTRIBUTION = [
    re.compile(rf"(?<![\w’'])({_NAME})(?:,[^,“”\"]{{1,90}},)?\s+(?:(?:at the time|also|later|then|in a statement)\s+)?"
               rf"{_VERB}\b"),
    # inverted only at the end of a clause ("..., said Mayor Voss."): "said SenseTime has ..." reports what SenseTime did
    re.compile(rf"\b{_VERB}\s+({_NAME})(?=\s*(?:[,.;:!?]|$))"),
    re.compile(rf"\baccording to\s+(?:(?:a|an|the)\s+)?(?:[a-z][\w-]*\s+){{0,4}}?({_NAME})"),
]
# Words that make a capitalised name an organisation's, not a person's (generic, not of any one corpus)
ORGANISATION = re.compile(r"\b(Department|Ministry|Office|Agency|Bureau|Commission|Committee|Council|Administration|"
                          r"Government|Parliament|Congress|Senate|House|Party|Project|Group|Company|Corporation|Corp|"
                          r"Inc|Ltd|LLC|Management|Partners|Capital|Fund|Bank|Exchange|Association|Institute|"
                          r"Foundation|University|College|School|Library|Center|Centre|Network|Post|Times|News|"
                          r"Press|Journal|Service|Services|Authority|Board|Union|Organization|Organisation|Society|"
                          r"Works|Watch|Rights|Police|Court|Army|Force|Team|Club|Lab|Labs|Systems|Technologies|"
                          r"Technology|International|Global|Media)\b")
PRONOUNS = frozenset("it he she they this that these those we i you there in on at as".split())
# Words that open a sentence without being part of a name ("In an email, ...", "But Huawei ...")
LEADING = re.compile(r"^(?:(?:In|On|At|But|And|As|After|Before|Then|Still|Meanwhile|However|Also)\s+)+")


@dataclass(frozen=True)
class Speaker:
    """One speaker: the name as the document writes it, whether it is a person's, and where it first speaks."""

    name: str
    person: bool
    sentence: object  # the sentence record (with .text) in which it first speaks


def _clean(name: str) -> str:
    name = LEADING.sub("", name.strip())
    if re.search(r"[a-z]{2}\.$", name):  # the sentence's full stop, not an initial ("U.S.")
        name = name[:-1]
    return re.sub(r"^[Tt]he\s+", "the ", name)


def _full_name(surname: str, text: str) -> str | None:
    """The name the document gives in full for a surname used alone ("Jin": "June Jin"), if any."""
    found = re.search(rf"\b((?:{_WORD}\s+)+){re.escape(surname)}\b", text)
    return (found.group(1).split()[-1] + " " + surname) if found else None


def speakers(sentences: list, text: str) -> list[Speaker]:
    """Everyone the sentences quote or cite by name, people before organisations, in document order."""
    found: dict[str, Speaker] = {}
    for sentence in sentences:
        for pattern in ATTRIBUTION:
            for match in pattern.finditer(sentence.text):
                name = _clean(match.group(1))
                parts = name.split()
                if not parts or name.lower() in PRONOUNS or parts[0].lower() in PRONOUNS:
                    continue
                if len(parts) == 1:
                    if not re.search(rf"[a-z,]\s+{re.escape(name)}\b", text):
                        continue  # capitalised only where a sentence starts ("Officials said"): no name
                    full = _full_name(name, text)  # "Jin wrote": the one the document named in full before
                    person = full is not None and not ORGANISATION.search(full)
                    name = full if person else name
                    key = name.lower()
                else:
                    person = parts[0] != "the" and not ORGANISATION.search(name)
                    key = " ".join(parts[-2:]).lower() if person else name.lower()
                if key not in found:
                    found[key] = Speaker(name, person, sentence)
    return sorted(found.values(), key=lambda s: not s.person)
