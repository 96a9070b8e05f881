"""The chat widget in headless Chromium, against the real app on the demo corpus: a streamed,
cited conversation; keyboard and screen-reader use; failures said plainly; and an ingested
article full of markup that must stay text."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port

pytestmark = pytest.mark.browser

BRIDGE = "Which firm won the Quay Street Bridge contract?"
WORTH = "How much is it worth?"

# Records, in the page, how the newest answer's text grows and whether the widget shows it is
# working, so "it streamed" is asserted from what the page saw, not from polling.
WATCH_STREAM = """() => {
  window.__stream = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll('.newsqa-answer-text');
    const last = answers[answers.length - 1];
    window.__stream.push({
      length: last ? last.textContent.length : 0,
      busy: !!document.querySelector('.newsqa-is-busy'),
      status: document.querySelector('.newsqa-status').textContent,
      chips: last ? last.querySelectorAll('.newsqa-chip').length : 0,
    });
  }).observe(document.body, {subtree: true, childList: true, characterData: true,
                             attributes: true});
}"""


# Whether an element lies wholly inside the conversation log's visible (scrolled) area.
SHOWN_IN_LOG = """el => {
  const log = document.querySelector('.newsqa-log').getBoundingClientRect();
  const box = el.getBoundingClientRect();
  return box.top >= log.top - 1 && box.bottom <= log.bottom + 1;
}"""


def open_demo(page: Any, base_url: str) -> Any:
    response = page.goto(base_url + "/")
    assert response.status == 200
    page.wait_for_selector(".newsqa:not([hidden])")
    return response


def ask(page: Any, question: str) -> Any:
    """Type `question`, press Enter, wait for the answer to finish; the answer's <li>."""
    before = page.locator(".newsqa-msg-assistant").count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.newsqa-msg-assistant').length > n && "
        "!document.querySelector('.newsqa-is-busy')", arg=before)
    return page.locator(".newsqa-msg-assistant").last


def test_a_streamed_cited_conversation_with_a_followup(page: Any, base_url: str,
                                                       artifacts: Path) -> None:
    csp_violations: list[str] = []
    page.on("console", lambda m: csp_violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    response = open_demo(page, base_url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate(WATCH_STREAM)

    answer = ask(page, BRIDGE)
    assert "Northwind Engineering" in answer.locator(".newsqa-answer-text").inner_text()
    seen = page.evaluate("window.__stream")
    growing = sorted({s["length"] for s in seen if s["busy"] and s["length"] > 0})
    assert len(growing) >= 3, f"the answer arrived in {len(growing)} steps, not streamed"
    assert any(s["busy"] and s["status"].startswith("Working") for s in seen)
    assert any(s["busy"] and s["chips"] > 0 for s in seen), "no chip while streaming"

    chip = answer.locator(".newsqa-chip").first
    chip.click()
    panel = answer.locator(".newsqa-source")
    assert "Northwind Engineering" in panel.locator(".newsqa-quote").inner_text()
    assert panel.locator(".newsqa-source-title").inner_text().startswith("Harbor City Awards")
    assert "2026" in panel.locator("time").inner_text()

    followup = ask(page, WORTH)
    assert "$452 million" in followup.locator(".newsqa-answer-text").inner_text()
    note = followup.locator(".newsqa-resolved").inner_text()
    assert note == f"Read as a follow-up to \u201c{BRIDGE}\u201d", note
    assert "(" not in note  # the borrowed search words are not shown as if typed
    followup.locator(".newsqa-chip").first.click()
    source = followup.locator(".newsqa-source")
    source.locator("time").wait_for()
    assert page.evaluate(SHOWN_IN_LOG, source.element_handle()), "the opened source is out of view"
    assert "$452 million" in source.locator(".newsqa-quote").inner_text()
    assert source.locator("time").inner_text() == "Updated 14 Mar 2026, 14:20:00 (zone not stated)"
    page.locator(".newsqa").screenshot(path=str(artifacts / "widget-conversation.png"))
    assert csp_violations == []


# Records whether the newest answer ever showed a "Read as a follow-up" note, however briefly.
WATCH_NOTE = """() => {
  window.__notes = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll('.newsqa-msg-assistant');
    const note = answers.length ? answers[answers.length - 1].querySelector('.newsqa-resolved')
                                : null;
    if (note) window.__notes.push(note.textContent);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_a_follow_up_answered_as_asked_is_not_shown_as_a_follow_up(page: Any,
                                                                   base_url: str) -> None:
    """'What about the storm?' after the bridge finds nothing about the storm with the bridge
    question's words, so it is answered as typed: the widget never says it was read as a
    follow-up to the bridge question, not even while the answer streams in."""
    open_demo(page, base_url)
    ask(page, BRIDGE)
    page.evaluate(WATCH_NOTE)
    storm = ask(page, "What about the storm?")
    assert "storm" in storm.locator(".newsqa-answer-text").inner_text().lower()
    assert storm.locator(".newsqa-resolved").count() == 0
    assert page.evaluate("window.__notes") == []


def test_keyboard_and_screen_reader_use(page: Any, base_url: str) -> None:
    open_demo(page, base_url)
    box = page.get_by_label("Your question")
    assert page.locator(".newsqa-status").get_attribute("role") == "status"
    box.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Ask"
    box.focus()
    page.keyboard.type(BRIDGE)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.newsqa-answer-text') && "
                           "!document.querySelector('.newsqa-is-busy')")
    text = page.locator(".newsqa-answer-text").last
    assert text.get_attribute("aria-live") == "polite"
    assert text.get_attribute("aria-busy") == "false"
    assert page.evaluate("document.activeElement === document.querySelector('.newsqa-input')")

    chip = page.locator(".newsqa-chip").first
    for _ in range(6):  # from the input, Tab reaches the first chip: input, Ask, chip
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('newsqa-chip')"):
            break
    assert chip.evaluate("el => el === document.activeElement")
    assert chip.get_attribute("aria-label").startswith("Citation 1: Harbor City Awards")
    page.keyboard.press("Enter")
    assert chip.get_attribute("aria-expanded") == "true"
    region = page.locator(f"#{chip.get_attribute('aria-controls')}")
    assert region.get_attribute("role") == "region"
    page.keyboard.press("Escape")
    assert chip.get_attribute("aria-expanded") == "false" and region.count() == 0


HOSTILE = ('The Glimmerton lantern parade starts at the old mill '
           '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
           '[see the route](javascript:window.__pwned=3) ![route map](http://127.0.0.1:9/x.png) '
           'at 7 p.m. on Friday.')


def test_an_article_full_of_markup_stays_text(page: Any, base_url: str,
                                               artifacts: Path) -> None:
    article = {"title": 'Glimmerton parade <img src=x onerror="window.__pwned=4">',
               "url": "javascript:window.__pwned=5", "published_at": "2026-05-01T10:00:00Z",
               "body": HOSTILE + " Organisers expect about 5,000 visitors."}
    created = httpx.post(base_url + "/v1/articles", json=article, timeout=30)
    assert created.status_code == 201, created.text
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_demo(page, base_url)

    answer = ask(page, "Where does the Glimmerton lantern parade start?")
    answer.locator(".newsqa-chip").first.click()
    quote = answer.locator(".newsqa-quote").inner_text()
    assert quote == HOSTILE
    assert '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">' in (
        answer.locator(".newsqa-answer-text").inner_text())
    assert answer.locator(".newsqa-source-title").inner_text().startswith("Glimmerton parade <img")
    page.wait_for_timeout(300)  # give anything that was going to load or run the chance to
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not [u for u in requests if "127.0.0.1:9" in u or u.endswith("/x")]
    widget = page.locator(".newsqa")
    assert widget.locator("img, script, iframe").count() == 0
    assert widget.locator("a[href^='javascript']").count() == 0
    widget.screenshot(path=str(artifacts / "widget-hostile-article.png"))


def test_failures_are_said_plainly(page: Any, base_url: str) -> None:
    open_demo(page, base_url)

    page.route("**/v1/chat", lambda route: route.fulfill(
        status=429, content_type="application/json",
        body=json.dumps({"detail": "too many questions"})))
    assert "Too many questions right now" in ask(page, BRIDGE).inner_text()
    page.unroute("**/v1/chat")

    page.route("**/v1/chat", lambda route: route.abort("connectionrefused"))
    assert "Couldn't reach the newsqa server" in ask(page, BRIDGE).inner_text()
    page.unroute("**/v1/chat")

    abstained = ask(page, "What is the population of Mars?")
    assert "The coverage doesn't answer this." in abstained.inner_text()


@pytest.fixture
def news_site() -> Iterator[Callable[[str], str]]:
    """A second loopback server, so another origin (another port): a news site's page. Call it
    with the page's HTML; it returns the page's URL."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        pages["/story"] = html.encode("utf-8")
        return f"http://127.0.0.1:{server.server_address[1]}/story"

    yield serve
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def story_embedding(script_origin: str, endpoint: str) -> str:
    return (f'<!doctype html><html><body><h1>A story</h1><div id="newsqa-widget"></div>'
            f'<script src="{script_origin}/widget.js" data-endpoint="{endpoint}"></script>'
            '</body></html>')


def test_a_page_whose_origin_the_server_refuses_is_told_so(
        page: Any, base_url: str, news_site: Callable[[str], str]) -> None:
    """The server has no NEWSQA_CORS_ORIGINS, so the browser blocks the widget on a page of
    another origin; the widget says that origin is not allowed and names the setting, because
    the server does answer an opaque probe (a down server would not)."""
    story = news_site(story_embedding(base_url, base_url))
    page.goto(story)
    page.wait_for_selector(".newsqa:not([hidden])")
    origin = story.rsplit("/", 1)[0]
    answer = ask(page, BRIDGE)
    answer.locator(".newsqa-notice").wait_for()  # the probe that tells why can come after
    text = answer.inner_text()
    assert f"does not allow this page's origin ({origin})" in text, text
    assert f"add {origin} to NEWSQA_CORS_ORIGINS" in text, text
    assert "Check your connection" not in text


def test_a_page_whose_server_is_down_is_told_it_is_unreachable(
        page: Any, base_url: str, news_site: Callable[[str], str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    story = news_site(story_embedding(base_url, dead))
    page.goto(story)
    page.wait_for_selector(".newsqa:not([hidden])")
    answer = ask(page, BRIDGE)
    answer.locator(".newsqa-notice").wait_for()
    text = answer.inner_text()
    assert f"Couldn't reach the newsqa server at {dead}. Check your connection" in text, text
    assert "origin" not in text

