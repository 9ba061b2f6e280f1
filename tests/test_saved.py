"""Saved conversations: what the browser keeps, and what is accepted when it comes back."""

import copy
import json

from app import render, saved
from app.records import Answer, Citation
from app.settings import Settings

SETTINGS = Settings(_env_file=None)


def citation(marker=1, **over) -> Citation:
    fields = dict(marker=marker, chunk_id="memo:abc", doc_id="memo", title="Canal memo", publisher="Canal Society",
                  published="1990-06-01", url="https://example.org/memo", doc_type="memo", page=None,
                  text="The canal opened in 1887. It is forty miles long.", start=0, end=25,
                  sentence="The canal opened in 1887.")
    return Citation(**{**fields, **over})


def answer(question="When did the canal open?", **over) -> Answer:
    fields = dict(question=question, standalone_query=question, answer="The canal opened in 1887. [1]",
                  abstained=False, citations=[citation()])
    return Answer(**{**fields, **over})


def stored(*questions) -> list[dict]:
    conversations, current = [], None
    turns = [(q, answer(q)) for q in questions]
    conversations, current = saved.save(conversations, current, turns, SETTINGS)
    return saved.to_browser(conversations)


def test_a_conversation_goes_to_the_browser_and_back_unchanged():
    turns = [("When did the canal open?", answer()), ("How long is it?", answer("How long is it?", composed=True))]
    conversations, current = saved.save([], None, turns, SETTINGS)
    value = json.loads(json.dumps(saved.to_browser(conversations)))  # as local storage keeps it
    back = saved.from_browser(value, SETTINGS)
    assert [(c.id, c.title) for c in back] == [(current, "When did the canal open?")]
    assert [(q, a.to_json(), a.composed) for q, a in back[0].turns] == \
        [(q, a.to_json(), a.composed) for q, a in turns]
    assert render.sources_html(back[0].turns) == render.sources_html(turns)


def test_saving_again_updates_the_open_conversation_and_keeps_the_others():
    first, one = saved.save([], None, [("When did the canal open?", answer())], SETTINGS)
    both, two = saved.save(first, None, [("Who wrote the memo?", answer("Who wrote the memo?"))], SETTINGS)
    assert one != two and saved.choices(both) == [("Who wrote the memo?", two), ("When did the canal open?", one)]
    longer = [("When did the canal open?", answer()), ("How long?", answer("How long?"))]
    again, same = saved.save(both, one, longer, SETTINGS)
    assert same == one and [c.id for c in again] == [one, two] and len(again[0].turns) == 2


def test_rename_and_delete():
    conversations, current = saved.save([], None, [("When did the canal open?", answer())], SETTINGS)
    renamed = saved.rename(conversations, current, "  Canal\ndates  ")
    assert saved.choices(renamed) == [("Canal dates", current)]
    assert saved.rename(renamed, current, "   ") == renamed and saved.rename(renamed, current, 42) == renamed
    kept, _ = saved.save(renamed, current, [("When did the canal open?", answer())], SETTINGS)
    assert kept[0].title == "Canal dates"  # a new answer keeps the chosen title
    assert saved.delete(renamed, current) == []


def test_the_list_is_bounded_in_count_and_size():
    conversations = []
    for i in range(saved.MAX_CONVERSATIONS + 5):
        conversations, _ = saved.save(conversations, None, [(f"Question {i}?", answer(f"Question {i}?"))], SETTINGS)
    assert len(conversations) == saved.MAX_CONVERSATIONS and conversations[0].title == f"Question {i}?"
    small = Settings(_env_file=None, max_request_kb=8)
    big = answer(citations=[citation(n, text="word " * 150) for n in range(1, 4)])
    kept, _ = saved.save([], None, [(f"Q{n}?", big) for n in range(5)], small)
    assert len(json.dumps(saved.to_browser(kept))) <= saved.budget(small) and [q for q, _ in kept[0].turns] == ["Q4?"]
    huge = answer(citations=[citation(n, text="word " * 1000) for n in range(1, 4)])
    assert saved.save(kept, None, [("Q?", huge)], small)[0] == kept  # too large to keep: not saved


def test_a_long_first_question_makes_a_short_title():
    title = saved.clean_title("why " * 50)
    assert len(title) == saved.TITLE_CHARS and title.endswith("…")


def test_malformed_or_hostile_conversations_are_left_out():
    good = stored("When did the canal open?")[0]

    def changed(edit):
        item = copy.deepcopy(good)
        edit(item)
        return item

    bad = [
        "not an object", None, [], {},
        changed(lambda c: c.update(id="../../etc/passwd")),  # ids are the page's own hex, never a path
        changed(lambda c: c.update(id=1)),
        changed(lambda c: c.update(turns=[])),
        changed(lambda c: c.update(turns="many")),
        changed(lambda c: c["turns"][0].update(question="")),
        changed(lambda c: c["turns"][0].update(question="x" * 2001)),
        changed(lambda c: c["turns"][0].update(question="\udc80")),
        changed(lambda c: c["turns"][0].update(answer="<b>html</b>")),
        changed(lambda c: c["turns"][0]["answer"].update(abstained="no")),
        changed(lambda c: c["turns"][0]["answer"].pop("abstained")),
        changed(lambda c: c["turns"][0]["answer"].update(citations=[{"marker": "1"}])),
        changed(lambda c: c["turns"][0]["answer"]["citations"][0].update(marker=True)),
        changed(lambda c: c["turns"][0]["answer"]["citations"][0].update(page="3")),
        changed(lambda c: c["turns"][0]["answer"]["citations"][0].pop("text")),
        changed(lambda c: c.update(turns=c["turns"] * (SETTINGS.max_history_turns + 1))),
    ]
    assert saved.from_browser(bad + [good], SETTINGS)[0].id == good["id"]
    assert len(saved.from_browser(bad + [good], SETTINGS)) == 1
    assert saved.from_browser("[]", SETTINGS) == [] and saved.from_browser({"id": good["id"]}, SETTINGS) == []
    assert len(saved.from_browser([good, good], SETTINGS)) == 1  # one entry per id
    assert len(saved.from_browser([good] * 1000, Settings(_env_file=None, max_request_kb=1))) == 0  # too large


def test_markup_that_comes_back_from_the_browser_is_shown_as_text():
    item = stored("When did the canal open?")[0]
    item["title"] = "<img src=x onerror=alert(1)>"
    record = item["turns"][0]["answer"]
    record["question"] = item["turns"][0]["question"] = "<script>alert(1)</script>"
    record["citations"][0].update(title='"><script>alert(2)</script>', url="javascript:alert(3)",
                                  sentence="<b>bold</b>", text="<b>bold</b> text")
    back = saved.from_browser([item], SETTINGS)[0]
    shown = render.chat_html(back.turns[0][1], 1) + render.sources_html(back.turns)
    assert "<script>" not in shown and "<b>" not in shown and "javascript:" not in shown
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown
