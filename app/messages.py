"""Chat messages as clients send them → the pipeline's history: one conversion for every front end.

The page, the Gradio ``/ask`` endpoint (``gradio_client``) and ``POST /api/ask`` all pass their
conversation through ``to_history``, so a follow-up means the same thing whichever way it comes.
Gradio's message format allows a message's content to be a string, one part, or a list of parts
(``[{"type": "text", "text": ...}, {"type": "file", ...}]``); turning such a list into text with
``str()`` is what made follow-ups read "[{'text': ..., 'type': 'text'}]".
"""

from __future__ import annotations

from app.limits import LimitError

ROLES = ("user", "assistant")
SHAPE = "{'role': 'user'|'assistant', 'content': text or a list of {'type': 'text', 'text': ...} parts}"


def _text(content, i: int) -> str:
    """The text a message's content holds; files and components hold none a follow-up could use."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        raise LimitError(f"history item {i} must be {SHAPE}")
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type", "text") == "text" and "text" in part:
            if not isinstance(part["text"], str):
                raise LimitError(f"history item {i} has a text part that is not a string")
            texts.append(part["text"])
        elif not (isinstance(part, dict) and part.get("type") in ("file", "component")):
            raise LimitError(f"history item {i} must be {SHAPE}")
    return " ".join(t.strip() for t in texts if t.strip())


def to_history(messages) -> list[dict]:
    """``[{"role", "content": str}]`` from messages in the pipeline's or Gradio's format.

    ``None`` is no history. System messages and Gradio's "thought" messages (those with a
    metadata title) are not turns of the conversation and are left out. Every other message stays
    one turn, even one with no text (a file alone), so the history's limits count turns as sent.
    Anything malformed is a LimitError naming the item.
    """
    if messages is None:
        return []
    if not isinstance(messages, list):
        raise LimitError("history must be a list of {'role', 'content'} messages")
    history = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES + ("system",):
            raise LimitError(f"history item {i} must be {SHAPE}")
        text = _text(message.get("content"), i)
        metadata = message.get("metadata")
        if message["role"] != "system" and not (isinstance(metadata, dict) and metadata.get("title")):
            history.append({"role": message["role"], "content": text})
    return history
