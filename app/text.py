"""Text normalisation shared by every stage: words, stems, aliases, names and spelling correction.

Nothing here knows about a corpus: the word lists are general English (function words, framing
words, country demonyms), so the same rules hold for any set of documents.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from functools import lru_cache

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves also did does tell say says said
many much whose within upon yes there's what's who's it's anything something thing things
article according besides except apart among across along around behind beyond despite toward
towards via per whether either neither another every else ever still yet onto whereas though although
hey hi hello yo please thanks thank ok okay um uh pls plz just really actually basically exactly
i'm i've i'd i'll you're we're they're where'd how'd who'd what'd wat wut wht whats whos hw u ur r abt bc cuz coz tho even anyway anyways
""".split())
# Hurried spellings in the list above that stand for a question word (the others are real words).
CHAT_SPELLINGS = frozenset("wat wut wht hw".split())
# Words that frame a question rather than name its subject ("what happened to", "how long",
# "what position does X hold"), or name only the kind of thing asked for ("what measures did X
# take", "what variables does it record"): they are not expected to occur in the answer.
_FRAMING_WORDS = ("""
happen give affect effect impact reason hold mean describe explain know kind type make get take
long result purpose cause consequence detail information position job role way go come
respond reply react comment response deal story situation stuff matter going number name amount
justification rationale motive motivation explanation grounds basis source date label
word term point objective goal aim title organization organisation group body agency
implication condition obligation distinction variable device product
side line stance view aspect feature factor thing behalf period window deadline timeframe duration timeline
part magnitude scope extent size version pair couple
""".split())
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
YEAR = r"(?:1[0-9]|20)\d\d"  # a four-digit year, 1000-2099
# Letters of any script ("Kråkøy", "Zürich" are one word each, not "Kr k y"), digits, and an apostrophe's "s"
WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")
_COUNTRY_OF = {"Chinese": "China", "Japanese": "Japan", "Russian": "Russia", "French": "France", "German": "Germany",
               "Canadian": "Canada", "Australian": "Australia", "Korean": "Korea", "Iranian": "Iran", "Israeli": "Israel",
               "Mexican": "Mexico", "Italian": "Italy", "Spanish": "Spain", "Taiwanese": "Taiwan", "Ukrainian": "Ukraine",
               "Turkish": "Turkey", "Indian": "India", "Brazilian": "Brazil", "Dutch": "Netherlands",
               "Norwegian": "Norway", "Danish": "Denmark", "Swedish": "Sweden",
               "European": "Europe", "Asian": "Asia", "African": "Africa"}  # continents too: "in Europe", "European"
DEMONYMS = frozenset(_COUNTRY_OF)  # "Chinese" describes a company; it names none
COUNTRIES = frozenset(_COUNTRY_OF.values())  # names a phone user types in lower case as often as not ("japan")
# Kinds of thing that go by a name ("which agency", "the name of the list"). These often end their
# names with the kind ("Treasury Department", "Entity List"); places and people (NAMED_KINDS) don't.
TITLED_KINDS = (r"(agency|agencies|company|companies|firms?|department|ministry|organi[sz]ations?|vendors?|suppliers?|"
                r"manufacturers?|banks?|funds?|newspapers?|outlets?|lists?|laws?|programs?|programmes?|offices?|"
                r"committees?|bureaus?)")
NAMED_KINDS = rf"({TITLED_KINDS[1:-1]}|countries|country|city|cities|person|officials?)"
# Spellings folded to one token before matching, so "US", "U.S.", "United States" and "American"
# meet: a question names a country by its demonym as often as by its name.
_ORDINAL = {"1": "first", "2": "second", "3": "third", "4": "fourth"}
ALIASES = [
    (re.compile(r"\bU\.S\.(?:A\.)?|\bUSA\b|\bUnited States\b|\bAmerica(?:ns?)?\b"), " US "),
    (re.compile(r"\bU\.K\.|\bUnited Kingdom\b|\bBritain\b|\bBritish\b"), " UK "),
    # The EU's institutions are "European ..." in full: "the EU's parliament" is the European Parliament
    # (which stays European too: "European lawmakers").
    (re.compile(r"\bE\.U\.|\bEuropean Union\b"), " EU "),
    (re.compile(r"\bEuropean(?= (Parliament|Commission|Council)\b)"), " EU European "),
    (re.compile(r"\bU\.N\.|\bUnited Nations\b"), " UN "),
    # A country's adjective names the country too ("Chinese officials" are officials of China); the
    # adjective stays, as "Chinese" is also a language and a people.
    (re.compile(r"\b(" + "|".join(_COUNTRY_OF) + r")\b"), lambda m: f" {_COUNTRY_OF[m.group(1)]} {m.group(1)} "),
    # A capital standing for its country's government, as news writes ("Washington", "Beijing").
    (re.compile(r"\bWashington\b(?!(,? D\.?C\.?| Post| state| State)\b)"), " US "),
    (re.compile(r"\bD\.C\.|\bDC\b"), " US "),  # the capital by its district: "a DC advocacy group"
    # The seat of a government standing for it: "the previous White House" was the previous administration
    (re.compile(r"\bWhite House\b"), " White House administration "),
    (re.compile(r"\bBeijing\b"), " China "),
    (re.compile(r"\bLondon\b"), " UK "),
    (re.compile(r"\bMoscow\b|\bKremlin\b"), " Russia "),
    (re.compile(r"\bTokyo\b"), " Japan "),
    (re.compile(r"\bBrussels\b"), " EU "),
    # Abbreviations people type for common words
    (re.compile(r"\byrs?\b", re.I), " year "),
    (re.compile(r"\bgov(?:['’]?t|t)\b", re.I), " government "),
    (re.compile(r"\binitial public offering\b", re.I), " IPO "),
    (re.compile(r"\bQ([1-4])\b"), lambda m: f" {_ORDINAL[m.group(1)]} quarter "),  # "by end of Q1"
    (re.compile(r"\bH([12])\b"), lambda m: f" {_ORDINAL[m.group(1)]} half "),
    (re.compile(r"\bFY\b"), " fiscal year "),
]
# General-English synonyms a question may use for a word the sources use (one canonical stem each).
# Kept short on purpose: other paraphrases are related by the embedding model (ranking.py).
SYNONYMS = {"prohibit": "ban", "bar": "ban", "barr": "ban", "forbid": "ban", "blacklist": "ban",
            "firm": "company", "business": "company", "nation": "country", "individual": "people",
            "person": "people", "reply": "respond", "react": "respond", "response": "respond", "statement": "say"}


@lru_cache(maxsize=50000)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match bans/banned/banning and company/companies."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or w.isdigit():
        return w
    # Role words that differ only by who holds them are one token: spokesperson, spokeswoman and
    # spokesman; chairman and chairwoman. Kept apart from the plain word ("freeman" is not "free").
    role = re.match(r"^([a-z]{4,}?)(person|persons|people|woman|women|man|men)$", w)
    if role:
        return role.group(1) + "person"
    if w.endswith("es") and not w.endswith(("ses", "xes", "zes", "ches", "shes", "ies")):
        w = w[:-1]  # apples -> apple (then handled as any word ending in e)
    for suffix, repl in (("ations", ""), ("ation", ""), ("ments", ""), ("ment", ""), ("ical", "ic"),
                         ("itions", "it"), ("ition", "it"),
                         ("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            w = w[: len(w) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # banned -> bann -> ban
            break
    if len(w) >= 4 and w.endswith("e") and not w.endswith(("ee", "ue")):
        w = w[:-1]  # hire/hired, lease/leased: the silent e goes, as "ed" took it
    return w


def fold(text: str) -> str:
    """The text with aliased spellings folded (U.S. -> US)."""
    for pattern, repl in ALIASES:
        text = pattern.sub(repl, text)
    return text


FRAMING = frozenset(stem(w) for w in _FRAMING_WORDS)
STEM_VERSION = 3  # bump when stem() or words() change how a text is cut into tokens


def analysis_key() -> str:
    """Identifies the rules that turn a text into index tokens (stop words, aliases, synonyms, stems).

    A lexical index saved under other rules is rebuilt rather than read back: its chunks' tokens
    would no longer meet the question's ("Beijing" folded to China in questions, not in chunks).
    """
    aliases = [(p.pattern, r if isinstance(r, str) else sorted(_COUNTRY_OF.items())) for p, r in ALIASES]
    rules = [STEM_VERSION, sorted(STOPWORDS), sorted(SYNONYMS.items()), aliases]
    return hashlib.sha256(json.dumps(rules).encode()).hexdigest()[:16]


def words(text: str) -> list[str]:
    """The words of a text, aliases folded."""
    return WORD.findall(fold(text))


def normal(word: str) -> str:
    """The token a word counts as: its stem, synonyms mapped."""
    t = stem(word)
    return SYNONYMS.get(t, t)


def tokens(text: str) -> list[str]:
    """Stemmed content tokens of a text (stopwords dropped, synonyms mapped)."""
    return [normal(w) for w in words(text) if w.lower() not in STOPWORDS]


NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")


def names(text: str) -> list[str]:
    """Capitalised phrases of a text ("Shohrat Zakir", "Entity List").

    The word that opens a sentence is left out (it is capitalised anyway), and so is a phrase
    led by a function word ("Who", "The").
    """
    found = []
    for match in NAME.finditer(text):
        phrase = match.group(0)
        before = text[:match.start()].rstrip()
        title = re.search(r"\b(Dr|Mr|Mrs|Ms|Prof|St|Sen|Rep|Gen|Gov|Lt|Col)\.$", before)  # "Dr. Smith" is a name
        if not before or (before[-1] in ".?!\"“:" and not title):
            phrase = phrase.split(None, 1)[1] if len(phrase.split()) > 1 else ""
        if phrase and phrase.split()[0].lower() not in STOPWORDS:
            found.append(phrase)
    return found


QUESTION_WORDS = ("what", "which", "when", "where", "who", "why", "how")
# Words a question may open with before it starts asking ("and", "so", "ok", a greeting)
OPENING = r"(?:and|so|but|ok(?:ay)?|well|also|then|yo|hey|hi)"
_OPENERS = re.compile(rf"^(\W*(?:{OPENING}\W+)*)([A-Za-z]+)\b", re.I)


def _edit_kind(typed: str, word: str) -> int:
    """How ``typed`` is one edit from ``word``: 1 a letter left out, 2 two neighbours swapped, 3 a
    letter added, 4 a letter changed; 0 when it is not one edit away. Lower is likelier in hurried
    typing ("wht": "what" rather than "why")."""
    if len(typed) == len(word) - 1:
        return 1 if any(word[:i] + word[i + 1:] == typed for i in range(len(word))) else 0
    if len(typed) == len(word) + 1:
        return 3 if any(typed[:i] + typed[i + 1:] == word for i in range(len(typed))) else 0
    if len(typed) != len(word) or typed == word:
        return 0
    diff = [i for i in range(len(word)) if typed[i] != word[i]]
    if len(diff) == 1:
        return 4
    swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == word[diff[1]] \
        and typed[diff[1]] == word[diff[0]]
    return 2 if swapped else 0


def swapped_function_word(word: str) -> str:
    """The common word (a stop word) that ``word`` is with two neighbouring letters swapped ("thier": "their"), or "".

    Such words are never in the corpus vocabulary, so the corpus speller would turn them into the
    nearest corpus word ("thier": "Tiger"). Only swaps, and only words of four letters or more: a
    letter left out or changed in a short word is as likely a different word.
    """
    low = word.lower()
    if len(low) < 4 or low in STOPWORDS:
        return ""
    near = [w for w in STOPWORDS if len(w) == len(low) and _edit_kind(low, w) == 2]
    return near[0] if len(near) == 1 else ""


# Text-speak a hurried user types for a common word ("how long 2 divest", "y was it banned", "what
# happens 2 ppl who own shares"): a closed class, like the question words above, not corpus vocabulary.
_TEXT_SPEAK = {"u": "you", "ur": "your", "r": "are", "ppl": "people", "b4": "before", "abt": "about",
               "bc": "because", "cuz": "because", "coz": "because", "bcuz": "because",
               "pls": "please", "plz": "please", "thx": "thanks", "w/": "with", "w/o": "without",
               "resp": "response", "tryna": "trying to", "gonna": "going to", "wanna": "want to",
               "info": "information", "mgmt": "management", "dept": "department", "intl": "international",
               "n": "and", "&": "and"}
# lower case only, and not inside an abbreviation or a word ("U.S.", "R&D")
_SPEAK = re.compile(r"(?<![\w’'/.&-])(" + "|".join(map(re.escape, sorted(_TEXT_SPEAK, key=len, reverse=True)))
                    + r")(?![\w’'/&-]|\.\w)")
# A digit standing for "to" or "for" sits between words: before a word a number never counts (a
# determiner, a pronoun or a verb: "have 2 sell", "2 the list", "4 me") or after a word that takes
# "to" ("happens 2 ppl", "due 2"); "2 companies" and "sanctioned 2 people" keep their numbers.
_DIGIT_BEFORE = re.compile(r"(?<=[A-Za-z] )([24])(?= (?:the|a|an|me|you|u|us|them|him|her|it|this|that|these|those|my|"
                           r"your|ur|their|our|his|its|do|be|get|go|buy|sell|keep|know|see|pay|say|find|make|take|"
                           r"invest|divest|own|hold|use|leave|stop|start|work|ask|tell|help|avoid|comply)\b)", re.I)
_DIGIT_AFTER = re.compile(r"\b(happen|happens|happened|belong|belongs|apply|applies|related|due|according|similar|next|"
                          r"close|able|going|come|came|go|went|back|listen|talk|talked|talking) ([24])(?= [A-Za-z])", re.I)
_DIGIT_WORDS = {"2": "to", "4": "for"}
_Y_WHY = re.compile(r"^(\W*)y(?= (?:is|are|was|were|did|does|do|would|should|can|could|has|have|had|not|they|he|she|it)\b)", re.I)


_LONE_DIGIT = re.compile(r"(?<=[A-Za-z] )([24])(?= [A-Za-z])")


def digits_as_words(text: str, held) -> str:
    """The text with a lone "2" or "4" between words read as "to" / "for" where ``held(digit)`` says no
    source has that number: "what does it do 4 drivers" asks "for drivers", not about four of them."""
    return _LONE_DIGIT.sub(lambda m: m.group(1) if held(m.group(1)) else _DIGIT_WORDS[m.group(1)], text)


def unabbreviated(text: str) -> str:
    """The text with text-speak written out ("u" -> "you", a "2" between words -> "to", a leading "y" -> "why")."""
    text = _Y_WHY.sub(lambda m: m.group(1) + "why", text)
    text = _DIGIT_BEFORE.sub(lambda m: _DIGIT_WORDS[m.group(1)], text)
    text = _DIGIT_AFTER.sub(lambda m: m.group(1) + " " + _DIGIT_WORDS[m.group(2)], text)
    return _SPEAK.sub(lambda m: _TEXT_SPEAK[m.group(1)], text)


def question_word(text: str) -> str:
    """The question with a hurried spelling of its opening question word written out ("wich", "waht", "wen").

    Question words are a closed class, so one edit from one of them (the likeliest edit) is a typo of it,
    unless the word is itself a common word ("that", "then", "were", "now"). Everything after
    the opening word is left to the corpus-based speller.
    """
    found = _OPENERS.match(text)
    if not found:
        return text
    word = found.group(2)
    low = word.lower()
    if low in QUESTION_WORDS or (low in STOPWORDS and low not in CHAT_SPELLINGS):
        return text
    kinds = {q: _edit_kind(low, q) for q in QUESTION_WORDS}
    near = sorted((k, q) for q, k in kinds.items() if k)
    if not near or (len(near) > 1 and near[0][0] == near[1][0]):
        return text  # no question word is one edit away, or two are equally near ("hwo": who, how)
    return found.group(1) + near[0][1] + text[found.end(2):]


def known_word(word: str, dictionary: frozenset[str]) -> bool:
    """Whether a word is a real word: in the dictionary, or an inflection of one ("administers")."""
    w = word.lower()
    if w in dictionary:
        return True
    for suffix in ("s", "es", "ed", "d", "ing", "er", "ers", "ly"):
        base = w[: -len(suffix)]
        if w.endswith(suffix) and len(base) >= 3 and (base in dictionary or base + "e" in dictionary):
            return True
    return False


# "next fiscal year", "the previous quarter", "the first half": a period named relative to another.
_FRAME_OF = {"next": "next", "coming": "next", "following": "next", "upcoming": "next", "last": "last",
             "previous": "last", "prior": "last", "past": "last", "preceding": "last", "this": "this",
             "current": "this", "first": "first", "second": "second", "third": "third", "fourth": "fourth"}
_FRAME = re.compile(rf"\b({'|'.join(_FRAME_OF)})\s+(?:(?:fiscal|financial|calendar|school|academic|budget)\s+)?"
                    r"(year|quarter|month|week|season|term|half|decade|phase)\b", re.I)


_ALTERNATIVE = re.compile(r",?\s+or\b", re.I)


def time_frames(text: str) -> dict[str, set[str]]:
    """The periods a text names relative to others, by unit: "next fiscal year" is {"year": {"next"}}."""
    frames: dict[str, set[str]] = {}
    for match in _FRAME.finditer(text):
        if _ALTERNATIVE.match(text, match.end()) or re.search(r"\bor\s+$", text[:match.start()], re.I):
            continue  # "this year or earlier?" offers the period as one choice: it does not narrow the question
        frames.setdefault(match.group(2).lower(), set()).add(_FRAME_OF[match.group(1).lower()])
    return frames


def other_frame(asked: dict[str, set[str]], text: str) -> bool:
    """Whether ``text`` names only other periods of a unit the question names one of: the current
    year's budget does not answer "next year's budget", nor the first quarter's hires the second's."""
    held = time_frames(text)
    return any(unit in held and not held[unit] & frames for unit, frames in asked.items())


def all_stems(text: str) -> set[str]:
    """Every stem of a text, stopwords included (for checking that a name occurs at all)."""
    return {stem(w) for w in words(text)}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Speller:
    """Corrects a misspelt token to a corpus token, SymSpell-style.

    Every vocabulary token is indexed under itself and its one-letter deletions, so a lookup costs
    a few dict probes instead of a scan of the whole vocabulary (difflib over 50,000 words per
    unknown word took seconds). Matching deletions of both sides finds edits of up to two letters
    (insertions, deletions, substitutions and most transpositions).
    """

    def __init__(self, vocabulary, dictionary: frozenset[str] = frozenset()):
        self.vocabulary: set[str] = set()
        self.dictionary = dictionary  # real words: never "corrected" into corpus words
        self._index: dict[str, set[str]] = {}
        self.add(vocabulary)

    def add(self, tokens) -> None:
        """Take new corpus tokens in (an upload), without indexing the whole vocabulary again."""
        for token in tokens:
            if token in self.vocabulary:
                continue
            self.vocabulary.add(token)
            if len(token) >= 4 and not token.isdigit():
                for key in _deletes(token) | {token}:
                    self._index.setdefault(key, set()).add(token)

    def discard(self, tokens) -> None:
        """Forget tokens no chunk holds any more."""
        for token in tokens:
            if token not in self.vocabulary:
                continue
            self.vocabulary.discard(token)
            for key in _deletes(token) | {token}:
                found = self._index.get(key)
                if found is not None:
                    found.discard(token)
                    if not found:
                        del self._index[key]

    def correct(self, word: str, token: str) -> str:
        """The corpus token meant by ``word`` (whose normal form is ``token``), or ``token`` itself."""
        if token in self.vocabulary or token.isdigit() or len(token) < 4:
            return token
        found: set[str] = set()
        for key in _deletes(token) | {token}:
            found |= self._index.get(key, set())
        if word.lower() in self.dictionary:  # a real word: only another form of it ("announce")
            found = {c for c in found if min(len(c), len(token)) >= 5 and (c.startswith(token) or token.startswith(c))}
        ranked = sorted(found, key=lambda c: (-difflib.SequenceMatcher(None, token, c).ratio(), c))
        if ranked and difflib.SequenceMatcher(None, token, ranked[0]).ratio() >= 0.8:
            return ranked[0]
        return token


def shortened(text: str, limit: int) -> str:
    """A long question as a label: its start and its end (where the question usually is), the middle
    left out. A pasted page as a question would otherwise fill the screen with itself."""
    if len(text) <= limit:
        return text
    head = text[:limit * 2 // 3].rsplit(" ", 1)[0]
    tail = text[-(limit // 3):].split(" ", 1)[-1]
    return f"{head} … {tail}"

