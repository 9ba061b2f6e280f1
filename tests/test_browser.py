"""The chat page in a real browser: Debian's Chromium driven by Playwright."""

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

CHROMIUM = "/usr/bin/chromium"
# Written under build/ (ignored) so a test run never dirties the checkout; `make screenshot` copies
# it to docs/screenshot.png, the picture in the README.
SCREENSHOTS = ROOT / "build"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def open_page(browser, server, **options):
    options = {"viewport": {"width": 1360, "height": 900}, **options}
    page = browser.new_page(accept_downloads=True, **options)
    page.goto(server["url"] + "/", wait_until="load")
    page.locator("#question textarea").wait_for(timeout=60000)
    return page


@pytest.fixture(scope="module")
def page(server):
    """The page every test shares (test_security imports it); page.context.browser opens others."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = open_page(browser, server)
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        yield page
        browser.close()


def ask(page, question: str):
    before = page.locator("#chat [data-testid='bot']").count()
    box = page.locator("#question textarea")
    box.fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#chat [data-testid=\"bot\"]').length > n", arg=before, timeout=30000)
    # the answer is complete once the sources panel lists its question
    page.wait_for_function(
        "q => document.querySelector('#sources') && document.querySelector('#sources').innerText.includes(q)",
        arg=question, timeout=30000)
    return page.locator("#chat [data-testid='bot']").last


def test_the_first_screen_names_what_the_index_holds(page, server):
    import httpx

    health = httpx.get(server["url"] + "/api/health", timeout=30).json()
    intro = page.locator("#corpus-intro").inner_text()
    count = f"{health['documents']} document" + ("" if health["documents"] == 1 else "s")
    assert f"In the index: {count} from The Washington Post" in intro and "December 10, 2021" in intro
    assert "U.S. bans investment in Chinese surveillance company SenseTime" in intro
    page.get_by_text("Summarize the documents").first.wait_for(timeout=15000)  # an example on the empty chat


def test_answer_markers_open_their_highlighted_passage(page):
    bubble = ask(page, "Why was SenseTime banned?")
    assert "facial recognition programs" in bubble.inner_text()
    marker = bubble.locator("a.cite").first
    assert marker.inner_text() == "[1]"
    marker.click()
    active = page.locator("#sources .source.active")
    active.wait_for(timeout=5000)
    assert active.locator("mark").inner_text().startswith("The Treasury Department")
    meta = active.locator(".src-meta").inner_text()
    assert "The Washington Post" in meta and "2021-12-10" in meta and "news article" in meta
    assert active.locator("a").get_attribute("href").startswith("https://www.washingtonpost.com/")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "screenshot.png"), full_page=True)


def test_follow_up_shows_what_was_searched(page):
    bubble = ask(page, "How did the company respond?")
    assert "Searched for: How did SenseTime respond?" in bubble.inner_text()
    assert re.search(r"opposes|unfounded", bubble.inner_text())


def test_out_of_scope_question_abstains_visibly_with_near_misses(page):
    bubble = ask(page, "What is the capital of France?")
    assert bubble.locator(".abstain").count() == 1
    assert "The sources don't" in bubble.inner_text() and bubble.locator("a.cite").count() == 0
    assert "these do not answer the question" in page.locator("#sources").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "abstention.png"), full_page=True)


def export_markdown(page) -> str:
    with page.expect_download() as info:
        page.locator("#export").click()
    assert info.value.suggested_filename == "dossier-conversation.md"
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_export_conversation_as_markdown(page):
    text = export_markdown(page)
    assert "## Q1: Why was SenseTime banned?" in text and "> The Treasury Department" in text
    assert "https://www.washingtonpost.com/" in text


def test_export_sits_beside_the_chat_without_scrolling(page):
    viewport = page.viewport_size
    export, chat = page.locator("#export").bounding_box(), page.locator("#chat").bounding_box()
    assert page.evaluate("window.scrollY") == 0 and export["y"] + export["height"] <= viewport["height"]
    assert 0 <= export["y"] - (chat["y"] + chat["height"]) < 120  # just under the conversation


def test_a_multi_turn_conversation_resolves_each_follow_up(page):
    # Follow-ups once reached the pipeline as Gradio's message parts, "[{'text': ..., 'type': 'text'}]"
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("() => !document.querySelector('#chat [data-testid=\"bot\"]')", timeout=10000)
    ask(page, "Why was SenseTime banned?")
    bubble = ask(page, "What about Hikvision?")
    searched = bubble.locator(".searched").inner_text()
    assert searched == "Searched for: Why was Hikvision banned?"
    assert "Hikvision" in bubble.inner_text().replace(searched, "") and bubble.locator(".abstain").count() == 0
    # "Who else" asks past what the conversation named: the answer names someone new, and the
    # question (shown as searched for, when it was rewritten) never carries Gradio's message parts.
    bubble = ask(page, "Who else was added to the list?")
    shown = bubble.inner_text()
    assert "'type'" not in shown and "type text" not in shown and "Zakir" in shown
    text = export_markdown(page)
    assert "## Q1: Why was SenseTime banned?" in text and "## Q2: What about Hikvision?" in text
    assert "_Searched for: Why was Hikvision banned?_" in text
    assert not [line for line in text.splitlines() if "{'text'" in line or "'type': 'text'" in line]


def test_the_answer_appears_whole_not_typed_out(page):
    # Every text the newest bubble shows while it is being added, recorded by the page itself
    page.evaluate("""() => {
        window.bubbleTexts = [];
        new MutationObserver(() => {
            const bots = document.querySelectorAll('#chat [data-testid="bot"]');
            if (bots.length) window.bubbleTexts.push(bots[bots.length - 1].innerText);
        }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true});
    }""")
    final = ask(page, "How long do existing investors have to divest?").inner_text()
    shown = [t for t in page.evaluate("window.bubbleTexts") if t.strip()]
    assert "one year" in final and shown[-1] == final
    assert not [t for t in shown if t != final and final.startswith(t)]  # never a part of it first


def scroll_positions(page) -> list:
    """The page's scroll position and every scrolled box's in the chat column."""
    return page.evaluate("""() => [window.scrollY, ...[...document.querySelectorAll('#chat, #chat *')]
        .filter(e => e.scrollHeight > e.clientHeight + 5).map(e => e.scrollTop)]""")


def test_the_sources_panel_scrolls_on_its_own_to_an_old_answers_passage(page):
    assert page.locator("#chat [data-testid='bot']").count() >= 3
    panel = page.locator("#sources")
    assert panel.bounding_box()["height"] <= 641
    scroller = panel.locator(".html-container")
    assert scroller.evaluate("e => e.scrollHeight > e.clientHeight")
    before = scroll_positions(page)
    page.locator("#chat [data-testid='bot']").first.locator("a.cite").first.click()
    active = panel.locator(".source.active")
    page.wait_for_function("""() => { const a = document.querySelector('#sources .source.active');
        const box = document.querySelector('#sources').getBoundingClientRect(), r = a && a.getBoundingClientRect();
        return r && r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }""", timeout=5000)
    assert active.get_attribute("id") == "src-1-1" and scroller.evaluate("e => e.scrollTop") > 0
    assert scroll_positions(page) == before  # neither the chat nor the page moved


def test_a_new_answer_is_shown_even_after_a_marker_click_scrolled_elsewhere(page):
    page.locator("#chat [data-testid='bot']").first.locator("a.cite").first.click()  # scrolls the panel away
    page.wait_for_function("() => document.querySelector('#sources .source.active')", timeout=5000)
    bot = ask(page, "Who wrote the article?")
    page.wait_for_function("""() => {
        const bots = document.querySelectorAll('#chat [data-testid="bot"]'), last = bots[bots.length - 1];
        const chat = document.querySelector('#chat').getBoundingClientRect(), r = last.getBoundingClientRect();
        return r.top >= chat.top - 1 && r.top < chat.bottom; }""", timeout=5000)  # the new answer is in view
    page.wait_for_function("() => document.querySelector('#sources .html-container').scrollTop === 0", timeout=5000)
    first = page.locator("#sources section.turn h4").first.inner_text()
    assert first.endswith("Who wrote the article?") and "Jeanne Whalen" in bot.inner_text()
    assert page.locator("#sources .source.active").count() == 0  # no stale highlight beside the new answer


def test_user_errors_are_messages_on_the_page_not_tracebacks_in_the_log(page, server):
    log = server["tmp"] / "server.log"
    seen = len(log.read_text())
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("() => document.querySelector('#export').disabled", timeout=10000)  # nothing to export
    page.locator("#question textarea").fill("   ")
    page.locator("#ask").click()
    page.get_by_text("the question is empty").first.wait_for(timeout=10000)
    assert "Traceback" not in log.read_text()[seen:]
    # a notice only: nothing on the page is marked "Error", and the question box takes the next question
    page.wait_for_timeout(500)
    assert page.locator("#chat .error, #question .error, #sources .error").count() == 0
    assert "one year" in ask(page, "how long do existing investors have to divest?").inner_text()


def test_a_pasted_question_over_the_limit_is_refused_whole_and_stays_in_the_box(page):
    # the box once cut a long paste to the limit silently, and the stub was answered "the sources don't say"
    long_question = "Why did the Treasury add SenseTime to the investment ban list? " * 320
    page.locator("#question textarea").fill(long_question)
    page.locator("#ask").click()
    page.get_by_text(f"the question is {len(long_question.strip()):,} characters long").first.wait_for(timeout=10000)
    assert page.locator("#question textarea").input_value() == long_question


def test_the_trash_icon_clears_sources_numbering_and_export_too(page):
    ask(page, "What is the capital of France?")
    page.locator("#chat").get_by_role("button", name="Clear").click()
    page.wait_for_function("() => document.querySelector('#export').disabled", timeout=10000)
    assert "France" not in page.locator("#sources").inner_text()
    ask(page, "How did SenseTime respond?")
    assert page.locator("#sources h4").all_inner_texts() == ["Q1: How did SenseTime respond?"]
    assert "France" not in export_markdown(page)


# WCAG contrast of an element's text over what is painted under it: every ancestor's background
# composited from the page down, the text faded by every ancestor's opacity.
CONTRAST = """(el) => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, below) => { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]); };
  // the background: every ancestor's background colour, composited from the page down
  const chain = []; for (let e = el; e; e = e.parentElement) chain.push(e);
  let bg = [255, 255, 255, 1];
  const root = parse(getComputedStyle(document.documentElement).backgroundColor);
  if (root && root[3] > 0) bg = over(root, bg);
  for (const e of chain.reverse()) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) bg = over(c, bg); }
  let fg = parse(getComputedStyle(el).color);
  let opacity = 1; for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
  fg = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100;
}"""
# Text that must reach WCAG AA (4.5:1) in both colour schemes
CHECKED = {"highlighted sentence": "#sources .source.active mark", "Ask button": "#ask",
           "selected tab": "button[role=tab][aria-selected=true]", "'original' link": "#sources .src-meta a",
           "'Searched for' line": "#chat .searched", "source details": "#sources .src-meta"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_meets_wcag_aa_contrast_in_both_colour_schemes(page, server, scheme):
    themed = open_page(page.context.browser, server, color_scheme=scheme)
    assert themed.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
    ask(themed, "Why was SenseTime banned?")
    ask(themed, "What about Hikvision?")
    themed.locator("#chat [data-testid='bot']").first.locator("a.cite").first.click()
    # Gradio fades a component while it updates: measure once everything is fully opaque
    themed.wait_for_function("""() => { const m = document.querySelector('#sources .source.active mark');
        for (let e = m; e; e = e.parentElement) if (getComputedStyle(e).opacity !== '1') return false;
        return !!m; }""", timeout=10000)
    ratios = {name: themed.locator(selector).first.evaluate(CONTRAST) for name, selector in CHECKED.items()}
    if scheme == "dark":
        themed.screenshot(path=str(SCREENSHOTS / "dark.png"))
    themed.close()
    assert {name: r for name, r in ratios.items() if r < 4.5} == {}, ratios


def test_the_page_has_one_h1_and_chat_labels_without_markup(page):
    assert page.locator("h1").all_inner_texts() == ["Dossier"]
    ask(page, "Why was SenseTime banned?")
    ask(page, "What about Hikvision?")
    labels = page.locator("#chat [aria-label]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    answers = [label for label in labels if label.startswith("bot's message: ")]
    assert answers and not [label for label in labels if "<" in label or "&lt;" in label or "&amp;" in label]
    assert "bot's message: Searched for: Why was Hikvision banned? " in answers[-1] and "[1]" in answers[-1]


def upload(page, path: Path):
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#upload input[type=file]").set_input_files(str(path), timeout=10000)


def test_an_uploaded_document_is_citable_in_the_next_question(page, tmp_path):
    note = tmp_path / "canal-history.md"
    note.write_text("---\ntitle: Zephyr Canal History\npublisher: Canal Society\npublished: '1990-06-01'\n---\n"
                    "The Zephyr Canal opened to barge traffic in 1887. It is forty miles long.\n")
    upload(page, note)
    page.locator("#upload-status").get_by_text("Added").wait_for(timeout=60000)
    status = page.locator("#upload-status").inner_text()
    assert "1 passage, searchable now" in status and "embedded" not in status and "unchanged" not in status
    assert page.get_by_text("Zephyr Canal History").first.is_visible()  # listed in the corpus table
    assert "Canal Society" in page.locator("#corpus-intro").inner_text()  # and named on the first screen
    assert "June 1, 1990 to " in page.locator("#corpus-intro").inner_text()
    page.get_by_role("tab", name="Chat").click()
    bubble = ask(page, "When did the Zephyr Canal open?")
    assert "1887" in bubble.inner_text()
    assert "Zephyr Canal History" in page.locator("#sources section").first.inner_text()


def index_state(server):
    import httpx

    health = httpx.get(server["url"] + "/api/health", timeout=30).json()
    return health["documents"], health["chunks"], sorted(p.name for p in (server["tmp"] / "uploads").glob("*"))


def test_a_bad_upload_gets_a_clear_message_and_changes_nothing(page, server):
    before = index_state(server)
    upload(page, FIXTURES / "bad" / "latin1.txt")
    page.locator("#upload-status").get_by_text("was not added: not UTF-8").wait_for(timeout=20000)
    assert index_state(server) == before
    page.get_by_role("tab", name="Chat").click()


def test_a_file_type_we_do_not_read_gets_a_message_naming_what_we_read(page, server, tmp_path):
    before = index_state(server)
    program = tmp_path / "notes.exe"
    program.write_bytes(b"MZ\x90\x00 not a document")
    upload(page, program)
    page.locator("#upload-status").get_by_text("unsupported file type '.exe'").wait_for(timeout=20000)
    assert ".md" in page.locator("#upload-status").inner_text() and index_state(server) == before
    # the notice shows the same words as plain text, without Markdown's escapes ("\(")
    notice = page.locator("[data-testid='toast-body']").last
    notice.wait_for(timeout=10000)
    assert "unsupported file type '.exe' (" in notice.inner_text() and "\\" not in notice.inner_text()


def test_an_upload_over_the_size_limit_is_refused(page, server, tmp_path):
    before = index_state(server)
    big = tmp_path / "big.txt"  # the test server allows 1 MB
    big.write_text("A long line about canals and barges. " * 40000)
    upload(page, big)
    # Gradio refuses it before our handler runs (ingest_upload checks the size again for other callers)
    page.get_by_text('exceed the maximum allowed size of 1.0 Mb: "big.txt"').first.wait_for(timeout=20000)
    assert index_state(server) == before
    page.get_by_role("tab", name="Chat").click()


def test_markup_in_a_document_renders_as_text_and_never_runs(page, tmp_path):
    xss = tmp_path / "xss-note.md"
    shutil.copy(FIXTURES / "bad" / "xss.md", xss)
    upload(page, xss)
    page.locator("#upload-status").get_by_text("xss-note.md").wait_for(timeout=60000)
    page.get_by_role("tab", name="Chat").click()
    ask(page, "Which sentence holds the payload?")
    assert '<script>alert("xss")</script>' in page.locator("#sources").inner_text()
    assert page.dialogs == []


def open_timeline(page, server, **options):
    """A fresh page on the Timeline tab: its events are the index's as the page loaded."""
    timeline = open_page(page.context.browser, server, **options)
    timeline.get_by_role("tab", name="Timeline").click()
    timeline.locator("#timeline .tl-event").first.wait_for(timeout=30000)
    return timeline


def test_the_timeline_lists_events_in_date_order_and_opens_their_passage(page, server):
    timeline = open_timeline(page, server)
    events = timeline.locator("#timeline .tl-event")
    dates = events.evaluate_all("els => els.map(e => e.dataset.date)")
    assert dates == sorted(dates)
    sentences = timeline.locator("#timeline .tl-sentence").all_inner_texts()
    invest = next(i for i, s in enumerate(sentences) if s.startswith("In 2018, several U.S. venture capital funds"))
    entity = next(i for i, s in enumerate(sentences) if "began raising alarms about the company in 2019" in s)
    ban = next(i for i, s in enumerate(sentences) if s.startswith("The Biden administration on Friday banned"))
    assert invest < entity < ban
    event = events.nth(ban)
    assert event.locator(".tl-date").inner_text() == "10 Dec 2021"
    assert event.locator(".tl-inferred").inner_text() == "inferred from publication date"
    assert events.nth(invest).locator(".tl-inferred").count() == 0  # "In 2018" is stated
    passage = event.locator(".tl-passage")
    assert not passage.is_visible()
    event.locator("summary").click()
    passage.wait_for(state="visible", timeout=5000)
    assert passage.locator("mark").inner_text().startswith("The Biden administration on Friday banned")
    assert "“on Friday”: the Friday on or before the publication date (10 Dec 2021)" in passage.inner_text()
    assert passage.locator("a").get_attribute("href").startswith("https://www.washingtonpost.com/")
    SCREENSHOTS.mkdir(exist_ok=True)
    timeline.screenshot(path=str(SCREENSHOTS / "timeline.png"), full_page=True)
    timeline.close()


def test_an_opened_timeline_event_brings_its_sentence_into_view_on_a_phone(page, server):
    timeline = open_timeline(page, server, viewport={"width": 390, "height": 844})
    event = timeline.locator("#timeline .tl-event").last
    event.locator("summary").click()
    mark = event.locator(".tl-passage mark")
    mark.wait_for(timeout=5000)
    timeline.wait_for_function("""() => { const ms = document.querySelectorAll('#timeline .tl-passage mark');
        const r = ms[ms.length - 1].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }""",
                               timeout=5000)
    timeline.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_timeline_is_readable_in_both_colour_schemes(page, server, scheme):
    timeline = open_timeline(page, server, color_scheme=scheme)
    event = timeline.locator("#timeline .tl-event:has(.tl-inferred)").first
    event.locator("summary").click()
    event.locator(".tl-passage mark").wait_for(timeout=5000)
    checked = {"date": ".tl-date", "inferred mark": ".tl-inferred", "sentence": ".tl-sentence",
               "source": ".tl-source", "highlighted sentence": ".tl-passage mark", "how": ".tl-how",
               "'original' link": ".tl-passage .src-meta a"}
    ratios = {name: event.locator(selector).first.evaluate(CONTRAST) for name, selector in checked.items()}
    ratios["note"] = timeline.locator("#timeline .tl-note").evaluate(CONTRAST)
    timeline.close()
    assert {name: r for name, r in ratios.items() if r < 4.5} == {}, ratios
