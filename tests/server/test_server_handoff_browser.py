"""The handoff end to end: the widget in headless Chromium, a real Request Tracker 5, the outbox
worker in the server's process. The customer asks for a person; an agent replies on the RT
ticket; the reply appears in the widget, marked as a person's; the assistant stays quiet in the
conversation until the agent resolves the ticket, then answers again."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest

from adapters.rt_server import RTServer
from grokassist.adapters.ticketing import open_ticketing
from grokassist.assistant import Assistant
from grokassist.handoff import HandoffSettings
from grokassist.server.app import create_app
from grokassist.server.settings import ServerSettings

from .browser import CHROMIUM, CHROMIUM_ARGS, SAMPLE_PAGE
from .live import LiveServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]

RESET = "How do I factory reset my router?"


def wait_for(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


def rt_notes(rt_server: RTServer, ticket_id: str) -> list[str]:
    """The internal notes on an RT ticket, read through a fresh adapter."""

    async def read() -> list[str]:
        adapter = open_ticketing(rt_server.adapter_uri, token=rt_server.adapter_token)
        try:
            updates = await adapter.updates_since(ticket_id)
        finally:
            await adapter.aclose()
        return [u.body for u in updates if u.kind == "internal_note"]

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        return pool.submit(anyio.run, read).result()


def test_an_agents_reply_on_rt_reaches_the_widget_and_the_assistant_waits(
    assistant: Assistant, page_server: tuple[str, Path], rt_server: RTServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    origin, site = page_server
    rt = open_ticketing(rt_server.adapter_uri, token=rt_server.adapter_token)
    handoff = HandoffSettings(poll_s=0.2, sync_s=1.0)
    settings = ServerSettings(cors_origins=[origin], data_dir=tmp_path / "server")
    app = create_app(assistant, settings, handoff=handoff, ticketing=rt)
    store = app.state.service.store
    try:
        with LiveServer(app) as api:
            html = SAMPLE_PAGE.read_text(encoding="utf-8").replace(
                'src="http://127.0.0.1:8000/widget.js"',
                f'src="{api.url}/widget.js" data-poll-ms="500" data-metadata=\'{{"plan": "pro"}}\'',
            )
            assert api.url in html
            (site / "index.html").write_text(html, encoding="utf-8")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{origin}/index.html")
                page.wait_for_selector("[data-grokassist][data-ready]", state="attached")
                page.get_by_role("button", name="Open help chat").click()
                question_box = page.get_by_role("textbox", name="Your question")

                # the assistant answers, then the customer asks for a person
                question_box.fill(RESET)
                question_box.press("Enter")
                answers = page.locator(".msg.bot[data-answer-id]")
                expect(answers.last).to_contain_text("pinhole reset button", timeout=20_000)
                page.get_by_role("button", name="Talk to a human").first.click()
                page.get_by_label("How can we reach you? (email or phone)").fill("ana@example.com")
                page.get_by_role("button", name="Send to a human").click()
                confirmation = page.locator(".msg.escalated")
                expect(confirmation).to_contain_text("Your reference: esc_")
                escalation_id = confirmation.get_attribute("data-escalation-id") or ""

                # the worker delivers it to RT: one ticket, with the conversation and the draft note
                delivered = wait_for(lambda: (e := store.outbox.get(escalation_id)) and e.ticket_id and e)
                ticket_id = delivered.ticket_id
                assert delivered.ticket.metadata == {"plan": "pro"} and "plan: pro" in delivered.ticket.body
                tickets = rt_server.tickets(f"'CF.{{{rt_server.external_id_field}}}' = '{escalation_id}'")
                assert [str(t["id"]) for t in tickets] == [ticket_id]
                history = rt_server.request("GET", f"/ticket/{ticket_id}/history?fields=Type,Content")
                types = [item["Type"] for item in history["items"]]
                assert types[0] == "Create" and "Comment" in types, types

                # while it waits for a person, the assistant does not answer
                question_box.fill("Is anyone there?")
                question_box.press("Enter")
                notice = page.locator(".msg.notice").last
                expect(notice).to_contain_text("A person from our support team has this conversation")
                expect(answers).to_have_count(1)

                # what the customer wrote meanwhile reaches the agent, as a note on the ticket
                notes = wait_for(
                    lambda: [n for n in rt_notes(rt_server, ticket_id) if "Is anyone there?" in n]
                )
                assert notes[0].startswith("The customer wrote in the chat:")

                # an agent replies on the RT ticket: the reply appears, marked as a person's
                started = time.monotonic()
                rt_server.reply_as_agent(
                    ticket_id, "Hi Ana, this is Alex. Hold the reset button for 10 seconds."
                )
                reply = page.locator(".msg.agent")
                expect(reply).to_contain_text("Hold the reset button for 10 seconds", timeout=30_000)
                seconds_to_widget = time.monotonic() - started
                expect(reply).to_contain_text("Alex Agent · support team")
                assert "Support agent (a person)" in (reply.locator(".sr-only").text_content() or "")
                assert seconds_to_widget < 15, seconds_to_widget  # about 2 s on an idle machine

                # still the person's conversation: the assistant stays quiet
                question_box.fill(RESET)
                question_box.press("Enter")
                expect(page.locator(".msg.notice")).to_have_count(2, timeout=20_000)
                expect(answers).to_have_count(1)

                # the agent resolves the ticket: the assistant is back and answers
                rt_server.set_status(ticket_id, "resolved")
                expect(page.locator(".msg.notice").last).to_contain_text(
                    "chatting with the assistant again", timeout=30_000
                )
                question_box.fill(RESET)
                question_box.press("Enter")
                expect(answers).to_have_count(2, timeout=30_000)
                expect(answers.last).to_contain_text("pinhole reset button")

                # another page of the help centre: the agent's reply is still there
                page.reload()
                page.get_by_role("button", name="Open help chat").click()
                expect(page.locator(".msg.agent")).to_have_count(1, timeout=20_000)
                browser.close()
            done = store.outbox.get(escalation_id)
            assert done is not None and done.ticket_status == "resolved" and not done.holds_conversation
        assert len(rt_server.tickets(f"'CF.{{{rt_server.external_id_field}}}' = '{escalation_id}'")) == 1
        print(f"the agent's reply reached the widget in {seconds_to_widget:.1f} s")
    finally:
        anyio.run(rt.aclose)
