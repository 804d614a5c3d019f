"""End to end in headless Chromium (Playwright): the sample help-centre page with the widget.

Needs ``/usr/bin/chromium`` (Debian: ``apt-get install -y --no-install-recommends chromium
chromium-driver``); Playwright never downloads a browser here. Set
``GROKASSIST_WIDGET_SCREENSHOT=docs/widget.png`` (relative to the repository root) to
refresh the README's screenshot.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grokassist.assistant import Assistant
from grokassist.backends.base import ChatRequest
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.knowledge import KnowledgeBase
from grokassist.stores import open_store
from grokassist.types import Chunk

from .browser import CHROMIUM, CHROMIUM_ARGS, REPO, SAMPLE_PAGE
from .conftest import AppFactory
from .live import LiveServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


class TypingBackend(ExtractiveBackend):
    """The extractive backend, streamed word by word like a language model."""

    name = "extractive"

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        for chunk in super().stream(request):
            words = re.split(r"(?<= )", chunk.text) if chunk.text else []
            for word in words:
                time.sleep(0.03)
                yield Chunk(text=word)
            if chunk.finish_reason:
                yield chunk


def test_widget_streams_cites_rates_and_escalates(
    knowledge_base: KnowledgeBase, make_app: AppFactory, page_server: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    origin, site = page_server
    app = make_app(Assistant(knowledge_base, backend=TypingBackend()), cors_origins=[origin])
    with LiveServer(app) as api:
        html = SAMPLE_PAGE.read_text(encoding="utf-8").replace("http://127.0.0.1:8000", api.url)
        assert api.url in html
        (site / "index.html").write_text(html, encoding="utf-8")

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1100, "height": 760})
            page = context.new_page()
            page.goto(f"{origin}/index.html")
            page.wait_for_selector("[data-grokassist][data-ready]", state="attached")

            # keyboard: the launcher opens the dialog and puts the focus in the question box
            launcher = page.get_by_role("button", name="Open help chat")
            launcher.focus()
            page.keyboard.press("Enter")
            dialog = page.get_by_role("dialog", name="Orbital Home support")
            expect(dialog).to_be_visible()
            question_box = page.get_by_role("textbox", name="Your question")
            expect(question_box).to_be_focused()
            expect(page.get_by_role("log", name="Conversation")).to_be_visible()

            # record the length of the answer's text each time the DOM changes
            page.evaluate(
                """() => {
                  const root = document.querySelector('[data-grokassist]').shadowRoot;
                  window.__lengths = [];
                  new MutationObserver(() => {
                    const bots = root.querySelectorAll('.msg.bot .text');
                    window.__lengths.push(bots[bots.length - 1].textContent.length);
                  }).observe(root.querySelector('.log'),
                             {subtree: true, childList: true, characterData: true});
                }"""
            )
            page.keyboard.type("How do I factory reset my router?")
            page.keyboard.press("Enter")
            answer = page.locator(".msg.bot[data-answer-id]").last
            expect(answer).to_contain_text("pinhole reset button", timeout=20_000)
            lengths = [n for n in page.evaluate("window.__lengths") if n]
            # it streamed in: the text grew over several DOM updates (one per checked sentence or step)
            assert len(set(lengths)) >= 2 and lengths == sorted(lengths), lengths

            # citations are links to the source articles
            marker = answer.locator("a.ref").first
            expect(marker).to_have_attribute("href", f"{api.url}/v1/sources/router/factory-reset.md")
            source_link = answer.get_by_role("link", name="Factory reset your router", exact=True)
            expect(source_link).to_be_visible()
            wanted = os.environ.get("GROKASSIST_WIDGET_SCREENSHOT")  # relative to the repository root
            screenshot = REPO / wanted if wanted else tmp_path / "widget.png"
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
            assert screenshot.stat().st_size > 10_000

            with context.expect_page() as opened:
                source_link.click()
            article = opened.value
            article.wait_for_load_state()
            expect(article.locator("h1")).to_have_text("Factory reset your router")
            expect(article.locator("body")).to_contain_text("pinhole reset button")
            article.close()

            # "was this helpful?"
            answer_id = answer.get_attribute("data-answer-id")
            assert answer_id
            answer.get_by_role("button", name="Yes").click()
            expect(answer).to_contain_text("Thanks for your feedback!")

            # an honest "I don't know", then "talk to a human"
            question_box.fill("What is the capital of France?")
            question_box.press("Enter")
            unknown = page.locator(".msg.bot.abstained").last
            expect(unknown).to_contain_text("I don't know")
            expect(unknown.get_by_role("link")).to_have_count(0)
            unknown.get_by_role("button", name="Talk to a human").click()
            page.get_by_label("How can we reach you? (email or phone)").fill("ana@example.com")
            page.get_by_role("button", name="Send to a human").click()
            confirmation = page.locator(".msg.escalated")
            expect(confirmation).to_contain_text("Your reference: esc_")
            escalation_id = confirmation.get_attribute("data-escalation-id")

            # Escape closes the dialog and gives the focus back to the launcher
            question_box.focus()
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()
            expect(page.get_by_role("button", name="Open help chat")).to_be_focused()

            # another page of the help centre, same tab: the conversation is still there
            page.reload()
            page.get_by_role("button", name="Open help chat").click()
            expect(page.locator(".msg.user .text")).to_have_text(
                ["How do I factory reset my router?", "What is the capital of France?"]
            )
            browser.close()

    store = open_store(folder=tmp_path / "server")
    try:
        rated = store.answers.feedback(answer_id)
        assert rated is not None and rated.helpful is True and "pinhole" in rated.answer.text
        escalation = store.outbox.get(escalation_id or "")
        assert escalation is not None and escalation.contact == "ana@example.com"
        assert [m.content for m in escalation.transcript if m.role == "user"] == [
            "How do I factory reset my router?",
            "What is the capital of France?",
        ]
    finally:
        store.close()


def test_widget_speaks_the_browsers_language(
    knowledge_base: KnowledgeBase, make_app: AppFactory, page_server: tuple[str, Path]
) -> None:
    """A browser set to Spanish: the widget's own words are Spanish, the browser's language goes with
    each question, and the assistant's abstention comes back in Spanish."""
    from playwright.sync_api import expect, sync_playwright

    from grokassist.language import MESSAGES

    origin, site = page_server
    seen: list[str | None] = []

    class Recording(Assistant):
        def astream(self, question: str, **options: Any) -> Any:  # the hint the widget sends
            seen.append(options.get("language"))
            return super().astream(question, **options)

    app = make_app(Recording(knowledge_base, backend=TypingBackend()), cors_origins=[origin])

    with LiveServer(app) as api:
        html = SAMPLE_PAGE.read_text(encoding="utf-8").replace("http://127.0.0.1:8000", api.url)
        (site / "index.html").write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(locale="es-MX")
            page = context.new_page()
            page.goto(f"{origin}/index.html")
            page.wait_for_selector("[data-grokassist][data-ready]", state="attached")
            page.get_by_role("button", name="Abrir el chat de ayuda").click()
            box = page.get_by_role("textbox", name="Tu pregunta")
            expect(box).to_have_attribute("placeholder", "Escribe tu pregunta…")
            expect(page.get_by_role("button", name="Hablar con una persona")).to_be_visible()
            box.fill("¿Quién ganó el mundial de fútbol de 1986?")
            page.get_by_role("button", name="Enviar pregunta").click()
            answer = page.locator(".msg.bot.abstained .text").last
            expect(answer).to_have_text(MESSAGES["es"]["abstain"], timeout=30_000)
            browser.close()
    assert seen == ["es-MX"]


def test_widget_marks_live_sources_with_their_time_and_community_reports(
    knowledge_base: KnowledgeBase, make_app: AppFactory, page_server: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from grokassist.live import StatuspageSource
    from live.status_server import StatusServer

    forum = tmp_path / "forum"
    forum.mkdir()
    post = "# Moon plan\n\nA customer posted that the Moon Roam plan launches next week for lunar bases.\n"
    (forum / "rumour.md").write_text(post, "utf-8")
    knowledge_base.ingest(forum, trust="community")
    settings = knowledge_base.settings.model_copy(
        update={"answer": knowledge_base.settings.answer.model_copy(update={"community": "attributed"})}
    )
    origin, site = page_server
    with StatusServer() as status:
        assistant = Assistant(
            knowledge_base, backend="extractive:", settings=settings, live=[StatuspageSource(status.url)]
        )
        with LiveServer(make_app(assistant, cors_origins=[origin])) as api:
            html = SAMPLE_PAGE.read_text(encoding="utf-8").replace("http://127.0.0.1:8000", api.url)
            (site / "index.html").write_text(html, encoding="utf-8")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{origin}/index.html")
                page.wait_for_selector("[data-grokassist][data-ready]", state="attached")
                page.get_by_role("button", name="Open help chat").click()
                box = page.get_by_role("textbox", name="Your question")
                box.fill("Is there an outage in my area?")
                box.press("Enter")
                answer = page.locator(".msg.bot[data-answer-id]").last
                expect(answer).to_contain_text("All Systems Operational", timeout=20_000)
                badge = answer.locator(".sources .badge.live")
                expect(badge).to_have_text(re.compile(r"^live · \d\d:\d\d UTC$"))

                box.fill("Is there a Moon Roam plan for lunar bases?")
                box.press("Enter")
                report = page.locator(".msg.bot").last.locator(".community-report")
                expect(report).to_contain_text("Some customers report", timeout=20_000)
                expect(page.locator(".msg.bot").last.locator(".badge.community")).to_have_text(
                    "community · unverified"
                )
                browser.close()
        assistant.live.close()
