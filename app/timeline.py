"""The timeline: the dated events the documents state, each a verbatim, cited sentence, in date order.

Dates are read from the sentences themselves ("in 2019", "December 10, 2021", "Dec. 10"); a date
given relative to the day of writing ("on Friday", "last year") or without its year ("May 2") is
resolved against the document's publication date and marked as inferred, with how.

Dates are found with one hand-written regular expression rather than dateparser's search_dates:
that reads ordinary words as dates ("may", "now", "one year", "second") and does not say which
part of a date was stated and which was filled in, and the timeline must say exactly that.
python-dateutil does the calendar arithmetic (the Friday on or before a date, a month back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta, weekday as Weekday
from dateutil.relativedelta import MO, TU, WE, TH, FR, SA, SU

from app.answering import Answerer
from app.overview import SENTENCE_END, documents
from app.query import BYLINE
from app.records import Chunk, Event
from app.text import MONTHS, STOPWORDS, WEEKDAYS, YEAR

_FULL = [m.capitalize() for m in MONTHS.split("|")]
_ABBR = ["Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sept", "Sep", "Oct", "Nov", "Dec"]
MONTH_NUMBER = {**{m: i for i, m in enumerate(_FULL, start=1)},
                **{a: _FULL.index(next(f for f in _FULL if f.startswith(a[:3]))) + 1 for a in _ABBR}}
DAYS = [d.capitalize() for d in WEEKDAYS.split("|")]
DAY_OF_WEEK: dict[str, Weekday] = dict(zip(DAYS, (MO, TU, WE, TH, FR, SA, SU)))
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}

# Month and weekday names are matched capitalised only, so the verb "may" and "march" stay words;
# a month alone needs a preposition before it ("in May", "by the end of March").
_MON = rf"(?:{'|'.join(_FULL)}|(?:{'|'.join(_ABBR)})\.?)"
_FULLMON = rf"(?:{'|'.join(_FULL)})"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_PREP = r"(?i:in|since|until|till|through|during|from|by|before|after|of|early|late|mid|around|between|and|to)"
_SEASON = rf"(?i:{'|'.join(SEASONS)})"
DATE = re.compile(
    rf"\b(?P<iso>(?P<iy>{YEAR})-(?P<im>[01]\d)-(?P<id>[0-3]\d))\b"
    rf"|\b(?P<mdy>(?P<m1>{_MON}) (?P<d1>{_DAY}),? (?P<y1>{YEAR}))\b"
    rf"|\b(?P<dmy>(?P<d2>{_DAY}) (?P<m2>{_MON}),? (?P<y2>{YEAR}))\b"
    rf"|\b(?P<my>(?P<m3>{_MON}),? (?P<y3>{YEAR}))\b"
    rf"|\b(?P<md>(?P<m4>{_MON}) (?P<d4>{_DAY}))\b(?!,? ?\d)"
    rf"|\b(?P<dm>(?P<d5>{_DAY}) (?P<m5>{_FULLMON}))\b"
    rf"|\b(?P<sy>(?P<s6>{_SEASON}) (?:(?i:of) )?(?P<y6>{YEAR}))\b"
    rf"|\b(?P<rm>(?P<r7>(?i:last|this|next)) (?P<m7>{_FULLMON}))\b"
    rf"|\b(?P<rs>(?P<r8>(?i:last|this|next)) (?P<s8>{_SEASON}))\b"
    rf"|\b(?P<ru>(?P<r9>(?i:last|this|next)) (?P<u9>(?i:week|month|year)))\b(?!['’])"
    rf"|\b(?P<rw>(?:(?P<r10>(?i:on|last|next|this)) )?(?P<w10>{'|'.join(DAYS)}))\b(?!'|’)"
    rf"|\b(?P<rd>(?i:yesterday|today|tomorrow))\b"
    rf"|\b{_PREP}(?:\s+|-)(?:(?i:the )?(?i:end|start|beginning|middle) (?i:of) )?(?P<pm>{_FULLMON})\b(?!\.?,? ?\d)"
    rf"|\b{_PREP}(?:\s+|-)(?P<py>{YEAR})\b(?![-–]\d|\.\d|,\d| ?%)")
# "the first Wednesday of each month", "every Friday": recurring days, not events.
RECURRING_BEFORE = re.compile(r"\b(first|second|third|fourth|fifth|last|every|each|other|the)\s+$", re.I)
RECURRING_AFTER = re.compile(r"^s?\s+(of (each|every|the) month|mornings?|evenings?|nights?)\b|^s\b", re.I)
FUTURE = re.compile(r"\b(will|shall|is (scheduled|expected|set|due)|are (scheduled|expected|set|due))\b", re.I)
MONTH_ABBR = [m[:3] for m in _FULL]
# Every date DATE reads holds four digits or one of these words. Most sentences hold neither, and
# substring tests are far cheaper than DATE's many alternatives (382,000 sentences of software
# manuals: 14 s of DATE alone, 3 s with this test first).
HINTS = tuple(MONTH_ABBR + DAYS + ["esterday", "oday", "omorrow", "ast ", "his ", "ext "])
DIGITS = re.compile(r"\d{4}")
# "by 1000 bytes", "after 1024 megabytes": a number before a noun is a quantity, not a year.
QUANTITY = re.compile(r"^\s+([a-z]+)")
RANGE_END = re.compile(r"^\s*(?:and|to|through|-|–)\s*(\d+)\b")


@dataclass(frozen=True)
class When:
    """A resolved date: ISO text cut to its precision, and how it was inferred ('' when stated)."""

    iso: str
    precision: str  # day, week, month, season or year
    how: str = ""


def label(when: When) -> str:
    """'10 Dec 2021', 'week of 29 Nov 2021', 'Oct 2019', 'Summer 2021' or '2018'."""
    parts = when.iso.split("-")
    if when.precision in ("day", "week"):
        d = date.fromisoformat(when.iso)
        text = f"{d.day} {MONTH_ABBR[d.month - 1]} {d.year}"
        return text if when.precision == "day" else f"week of {text}"
    if when.precision == "season":
        season = next(s for s, m in SEASONS.items() if m == int(parts[1]))
        return f"{season.capitalize()} {parts[0]}"
    if when.precision == "month":
        return f"{MONTH_ABBR[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def _day(d: date) -> When:
    return When(d.isoformat(), "day")


def _published(meta: dict) -> date | None:
    try:
        return date.fromisoformat((meta.get("published") or "")[:10])
    except ValueError:
        return None


def _in_quotes(sentence: str, at: int) -> bool:
    """Whether a position lies inside quoted speech, where 'today' is the speaker's day, not the writer's."""
    before = sentence[:at]
    return before.count("“") > before.count("”") or before.count('"') % 2 == 1


def resolve(m: re.Match, sentence: str, published: date | None) -> When | None:
    """The date one match states, or infers from the publication date; None when it cannot be known."""
    g = m.groupdict()
    day = lambda y, mon, d: _valid(int(y), MONTH_NUMBER[mon.rstrip(".")] if not mon.isdigit() else int(mon),
                                   int(re.sub(r"\D", "", d)))
    if g["iso"]:
        return day(g["iy"], g["im"], g["id"])
    if g["mdy"]:
        return day(g["y1"], g["m1"], g["d1"])
    if g["dmy"]:
        return day(g["y2"], g["m2"], g["d2"])
    if g["my"]:
        return When(f"{g['y3']}-{MONTH_NUMBER[g['m3'].rstrip('.')]:02d}", "month")
    if g["sy"]:
        return When(f"{g['y6']}-{SEASONS[g['s6'].lower()]:02d}", "season")
    if g["py"]:
        return None if _quantity(m, sentence) else When(g["py"], "year")
    # Everything below is relative to the day of writing.
    if published is None:
        return None
    phrase = m.group(0)
    pub = f"the publication date ({label(_day(published))})"
    if g["md"] or g["dm"]:
        mon, d = (g["m4"], g["d4"]) if g["md"] else (g["m5"], g["d5"])
        found = day(published.year, mon, d)
        return found and When(found.iso, "day", f"year taken from {pub}")
    if g["pm"]:
        return When(f"{published.year}-{MONTH_NUMBER[g['pm']]:02d}", "month", f"year taken from {pub}")
    if _in_quotes(sentence, m.start()) or re.search(r"\bthe\s+$", sentence[:m.start()], re.I):
        return None  # quoted speech has the speaker's today; "the last week of" is no date
    if g["rm"] or g["rs"]:
        which = (g["r7"] or g["r8"]).lower()
        month = MONTH_NUMBER[g["m7"]] if g["rm"] else SEASONS[g["s8"].lower()]
        year = published.year + {"last": -(month >= published.month), "next": int(month <= published.month),
                                 "this": 0}[which]
        return When(f"{year}-{month:02d}", "month" if g["rm"] else "season", f"“{phrase}” counted back from {pub}"
                    if which == "last" else f"“{phrase}” counted from {pub}")
    how = f"“{phrase}” counted from {pub}"
    if g["ru"]:
        step = {"last": -1, "this": 0, "next": 1}[g["r9"].lower()]
        unit = g["u9"].lower()
        if unit == "year":
            return When(str(published.year + step), "year", how)
        if unit == "month":
            d = published + relativedelta(months=step)
            return When(f"{d.year}-{d.month:02d}", "month", how)
        monday = published + relativedelta(weeks=step, weekday=MO(-1))
        return When(monday.isoformat(), "week", how)
    if g["rd"]:
        d = published + timedelta(days={"yesterday": -1, "today": 0, "tomorrow": 1}[g["rd"].lower()])
        return When(d.isoformat(), "day", how)
    if g["rw"]:
        return _weekday(m, sentence, published, pub)
    return None


def _quantity(m: re.Match, sentence: str) -> bool:
    """A bare number read as a year that is a count: "by 1000 bytes", "between 1 and 1024"."""
    after = sentence[m.end():]
    noun = QUANTITY.match(after)
    if noun and noun.group(1) not in STOPWORDS and not noun.group(1).endswith("ing"):
        return True
    upto = RANGE_END.match(after)  # "from 1000 to 9999": a range whose other end is no year
    if upto and not re.fullmatch(YEAR, upto.group(1)):
        return True
    # "and 2019", "to 2019" are years only after another one ("between 2018 and 2019")
    return m.group(0).lower().startswith(("and", "to")) and not re.search(rf"\b{YEAR}\s*$", sentence[:m.start()])


def _valid(year: int, month: int, day: int) -> When | None:
    try:
        return _day(date(year, month, day))
    except ValueError:  # "February 30": not a date
        return None


def _weekday(m: re.Match, sentence: str, published: date, pub: str) -> When | None:
    """'on Friday': the Friday on or before the day of writing (news reports what happened), or
    on or after it when the sentence speaks of the future; 'last'/'next' skip the day itself."""
    if RECURRING_BEFORE.search(sentence[:m.start()]) or RECURRING_AFTER.search(sentence[m.end():]):
        return None
    which = (m.group("r10") or "").lower()
    named = re.findall("|".join(DAYS), sentence)
    if not which and (sentence[:m.start()].endswith("(") or len(named) > 1):
        return None  # "(Monday)", "Monday, Tuesday and Friday": a day's name, not a day
    target = DAY_OF_WEEK[m.group("w10")]
    forward = which == "next" or (which != "last" and bool(FUTURE.search(sentence)))
    if forward:
        d = published + relativedelta(days=+(which == "next"), weekday=target(+1))
        rule = "on or after" if which != "next" else "after"
    else:
        d = published + relativedelta(days=-(which == "last"), weekday=target(-1))
        rule = "on or before" if which != "last" else "before"
    return When(d.isoformat(), "day", f"“{m.group(0)}”: the {m.group('w10')} {rule} {pub}")


def _is_event_sentence(text: str) -> bool:
    """A statement of the body: not a heading, byline, dateline or question."""
    text = text.strip()
    return bool(SENTENCE_END.search(text)) and not text.rstrip("\"'”’)").endswith("?") \
        and not text.startswith("#") and not BYLINE.search(text)


def events_in(sentence: str, published: date | None) -> list[tuple[When, str]]:
    """Each distinct date a sentence states or implies, with the words it was read from."""
    if not (DIGITS.search(sentence) or any(h in sentence for h in HINTS)) or not _is_event_sentence(sentence):
        return []
    found, seen, matches = [], set(), list(DATE.finditer(sentence))
    for m in matches:
        when = resolve(m, sentence, published)
        if when and when.iso not in seen:
            seen.add(when.iso)
            found.append((when, m.group(0)))
    if found and len(re.findall(r"[A-Za-z]{2,}", _outside(sentence, matches))) < 3:
        return []  # a dateline such as "Updated December 10, 2021."
    return found


def _outside(sentence: str, matches: list[re.Match]) -> str:
    """The sentence without the dates found in it."""
    out, pos = [], 0
    for m in matches:
        out.append(sentence[pos:m.start()])
        pos = m.end()
    return " ".join(out + [sentence[pos:]])


def _build(chunks: list[Chunk]) -> list[Event]:
    found, seen = [], set()
    for order, doc in enumerate(documents(chunks)):
        published = _published(doc.meta)
        for cand in doc.sentences:
            for when, phrase in events_in(cand.text, published):
                key = (" ".join(cand.text.split()), when.iso)
                if key in seen:  # the same sentence in two documents (or a repeated passage): once
                    continue
                seen.add(key)
                found.append((when, order, cand.start, phrase, cand))
    found.sort(key=lambda f: (f[0].iso, f[1], f[2]))
    return [Event(date=w.iso, precision=w.precision, label=label(w), inferred=bool(w.how), how=w.how,
                  phrase=phrase, sentence=cand.text, citation=Answerer.citation(i, cand))
            for i, (w, _, _, phrase, cand) in enumerate(found, start=1)]


_CACHE: tuple[list | None, list] = (None, [])  # (chunk list, its events): kept until the index changes


def timeline(chunks: list[Chunk]) -> list[Event]:
    """The dated events of the indexed documents, in date order, then document order.

    The lexical index hands out the same chunk list until the index changes (overview.documents
    relies on the same), so the events are worked out once per index version.
    """
    global _CACHE
    cached_chunks, cached = _CACHE
    if cached_chunks is chunks:  # an index without dates is not read again either
        return cached
    events = _build(chunks)
    _CACHE = (chunks, events)
    return events
