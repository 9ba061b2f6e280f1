"""Saved conversations: kept in the reader's browser, checked again whenever they come back.

The page keeps past conversations in the browser's local storage (Gradio's BrowserState), so
there are no accounts on the server. Whatever the browser sends back is hostile input: anyone can
edit local storage. So only what is needed is stored (each question and its answer's JSON record,
never HTML and never a path), and what comes back is parsed field by field (``Answer.from_json``),
held to the question and history limits, counted and sized, and rendered again by ``render``,
which escapes every text. Anything malformed is dropped, never shown.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field

from app.limits import LimitError, check_question
from app.records import Answer
from app.settings import Settings

MAX_CONVERSATIONS = 30  # listed in the side panel; the oldest goes first
TITLE_CHARS = 80
ID = re.compile(r"[0-9a-f]{16}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass
class Conversation:
    """One saved conversation: an id of the page's own making, a title and its turns."""

    id: str
    title: str
    turns: list[tuple[str, Answer]] = field(default_factory=list)


def budget(settings: Settings) -> int:
    """Bytes of JSON the browser may hold: the list comes back in one request, which must stay
    well under the request size limit (half of it, leaving room for the rest of the request)."""
    return settings.max_request_kb * 1024 // 2


def new_id() -> str:
    """A fresh conversation id."""
    return secrets.token_hex(8)


def clean_title(text: str) -> str:
    """A title on one line, without control characters, at most TITLE_CHARS long."""
    text = " ".join(CONTROL.sub(" ", text).split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1].rstrip() + "…"


def _record(answer: Answer) -> dict:
    return {**answer.to_json(), "composed": answer.composed}


def to_browser(conversations: list[Conversation]) -> list[dict]:
    """The JSON the browser keeps."""
    return [{"id": c.id, "title": c.title,
             "turns": [{"question": q, "answer": _record(a)} for q, a in c.turns]} for c in conversations]


def _size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _conversation(item, settings: Settings) -> Conversation:
    """One conversation from the browser, or a ValueError (LimitError is one) saying why not."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not ID.fullmatch(item["id"]):
        raise ValueError("a conversation needs an id")
    if not isinstance(item.get("title"), str) or not isinstance(item.get("turns"), list):
        raise ValueError("a conversation needs a title and turns")
    if not item["turns"] or len(item["turns"]) > settings.max_history_turns:
        raise ValueError("a conversation holds one turn or more, within the history's turn limit")
    turns = []
    for turn in item["turns"]:
        if not isinstance(turn, dict):
            raise ValueError("a turn must be an object")
        question = check_question(turn.get("question"), settings)
        answer = Answer.from_json(turn.get("answer"))
        check_question(answer.question, settings)
        turns.append((question, answer))
    title = clean_title(item["title"]) or clean_title(turns[0][0])
    return Conversation(item["id"], title, turns)


def from_browser(value, settings: Settings) -> list[Conversation]:
    """The saved conversations in what the browser sent; anything malformed or too large is left out."""
    if not isinstance(value, list):
        return []
    conversations, seen, used = [], set(), 0
    for item in value[:MAX_CONVERSATIONS]:
        try:
            used += _size(item)
            if used > budget(settings):
                break
            conversation = _conversation(item, settings)
        except (ValueError, TypeError, UnicodeEncodeError, RecursionError, LimitError):
            continue
        if conversation.id not in seen:
            seen.add(conversation.id)
            conversations.append(conversation)
    return conversations


def save(conversations: list[Conversation], current: str | None, turns: list,
         settings: Settings) -> tuple[list[Conversation], str | None]:
    """The list with the open conversation saved first (a new one gets an id and its first
    question as title), cut to the count and size the browser may hold; and the conversation's id."""
    if not turns:
        return conversations, current
    old = find(conversations, current)
    conversation = Conversation(old.id if old else new_id(), old.title if old else clean_title(turns[0][0]),
                                list(turns[-settings.max_history_turns:] if settings.max_history_turns else []))
    kept = [conversation] + [c for c in conversations if c.id != conversation.id][:MAX_CONVERSATIONS - 1]
    while len(kept) > 1 and _size(to_browser(kept)) > budget(settings):
        kept.pop()  # the least recently used first
    while len(conversation.turns) > 1 and _size(to_browser(kept)) > budget(settings):
        conversation.turns.pop(0)  # a conversation too large alone keeps its latest turns
    if _size(to_browser(kept)) > budget(settings):
        # One answer larger than the browser may send back: it is not saved; the others stay.
        return [c for c in conversations if c.id != conversation.id], conversation.id
    return kept, conversation.id


def find(conversations: list[Conversation], conversation_id) -> Conversation | None:
    """The conversation with this id, if listed."""
    return next((c for c in conversations if c.id == conversation_id), None)


def rename(conversations: list[Conversation], conversation_id, title) -> list[Conversation]:
    """The list with one conversation retitled (an empty or non-text title changes nothing)."""
    title = clean_title(title) if isinstance(title, str) else ""
    return [Conversation(c.id, title, c.turns) if c.id == conversation_id and title else c for c in conversations]


def delete(conversations: list[Conversation], conversation_id) -> list[Conversation]:
    """The list without one conversation."""
    return [c for c in conversations if c.id != conversation_id]


def choices(conversations: list[Conversation]) -> list[tuple[str, str]]:
    """(title, id) pairs for the side panel's list, most recent first."""
    return [(c.title, c.id) for c in conversations]
