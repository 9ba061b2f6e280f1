from app.extraction import extract_html
from tests.conftest import FIXTURES

WEB = FIXTURES / "web"


def test_extraction_keeps_the_statement_and_drops_the_chrome():
    page = extract_html((WEB / "statement.html").read_text("utf-8"))
    assert "every night ferry must carry two lookouts" in page.text
    assert '"Safe crossings at night are the first promise we make to every passenger," said Director Orla Venn.' \
        in page.text
    for chrome in ("cookies", "Newsroom menu", "Photo caption", "Related articles", "Fog horn schedule",
                   "footer", "tracking script", "color: red"):
        assert chrome not in page.text, chrome
    assert (page.title, page.publisher, page.author, page.published) == (
        "Harbor Office Sets New Rules for Night Ferries", "Office of Harbor Safety", "Press Office", "2023-04-18")
    assert page.canonical_url == "https://harbor-safety.example.gov/news/night-ferries"
    assert "\n\n" in page.text  # paragraphs stay apart, so a sentence never runs across two of them


def test_a_line_break_inside_a_paragraph_does_not_split_it():
    page = extract_html("<html><body><article><p>The lamp on Pier 4\n    is lit at dusk and\n    put out at dawn by the keeper.</p>"
                        "<p>A second paragraph follows it here, long enough to be kept as text.</p></article></body></html>")
    assert page.text.split("\n\n")[0] == "The lamp on Pier 4 is lit at dusk and put out at dawn by the keeper."


def test_a_page_with_no_main_block_still_gives_its_text_and_title():
    page = extract_html("<html><head><title>One div</title></head><body><div>Only a div of text\n here.</div></body></html>")
    assert (page.text, page.title) == ("Only a div of text here.", "One div")


def test_a_page_with_no_text_gives_none():
    assert extract_html("<html><head><script>var a = 1;</script></head><body></body></html>").text == ""
