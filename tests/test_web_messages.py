"""One conversion of chat messages (the pipeline's or Gradio's format) into the pipeline's history."""

import pytest

from app.limits import LimitError
from app.messages import to_history

PLAIN = [{"role": "user", "content": "Why was SenseTime banned?"},
         {"role": "assistant", "content": "Because ... [1]"}]


def parts(*texts):
    return [{"type": "text", "text": t} for t in texts]


def test_plain_messages_pass_through_unchanged():
    assert to_history(PLAIN) == PLAIN
    assert to_history(None) == [] and to_history([]) == []


def test_multi_part_content_becomes_its_text_never_its_repr():
    gradio = [{"role": "user", "content": parts("Why was SenseTime banned?"), "metadata": None, "options": []},
              {"role": "assistant", "content": parts("Because", "... [1]")}]
    assert to_history(gradio) == PLAIN
    assert to_history([{"role": "user", "content": {"type": "text", "text": "Why?"}}]) == \
        [{"role": "user", "content": "Why?"}]


def test_files_components_system_and_thought_messages_add_no_text():
    file = {"type": "file", "file": {"path": "/tmp/x.png", "url": "http://h/x.png"}, "alt_text": None}
    messages = [{"role": "system", "content": "You are helpful."},
                {"role": "user", "content": [file, *parts("Why was SenseTime banned?")]},
                {"role": "assistant", "content": "Searching…", "metadata": {"title": "Retrieval"}},
                {"role": "assistant", "content": "Because ... [1]"},
                {"role": "user", "content": [file]},
                {"role": "assistant", "content": [{"type": "component", "component": "image", "value": None,
                                                   "constructor_args": {}, "props": {}}]}]
    # a message with no text stays a turn, so the history's turn limit counts what was sent
    assert to_history(messages) == PLAIN + [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}]


@pytest.mark.parametrize("messages, message", [
    ("nope", "history must be a list"),
    ([{"role": "bot", "content": "x"}], "history item 0"),
    ([PLAIN[0], {"role": "user", "content": 1}], "history item 1"),
    ([{"role": "user", "content": [{"type": "text", "text": 5}]}], "history item 0 has a text part"),
    ([{"role": "user", "content": [{"type": "video"}]}], "history item 0"),
    (["Why?"], "history item 0"),
])
def test_malformed_messages_are_a_limit_error_naming_the_item(messages, message):
    with pytest.raises(LimitError, match=message):
        to_history(messages)


def test_a_gradio_format_follow_up_is_resolved_like_a_plain_one(real):
    gradio = [{"role": "user", "content": parts("Why was SenseTime banned?")},
              {"role": "assistant", "content": parts(real.ask("Why was SenseTime banned?").answer)}]
    answer = real.ask("What about Hikvision?", to_history(gradio))
    assert answer.standalone_query == "Why was Hikvision banned?"
    assert not answer.abstained and "Hikvision" in answer.answer
