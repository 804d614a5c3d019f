"""The assistant answers questions about the current state from a live status page that changes."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from grokassist.assistant import Assistant
from grokassist.backends.base import ChatRequest
from grokassist.live import StatuspageSource
from grokassist.testing import FakeBackend
from grokassist.types import Answer

from .status_server import StatusServer, incident, summary

TTL = 1.0
CLOCK = re.compile(r"\b\d\d:\d\d UTC\b")


def _live(kb: Any, server: StatusServer, backend: Any = "extractive:") -> Assistant:
    return Assistant(kb, backend=backend, live=[StatuspageSource(server.url, ttl_s=TTL, timeout_s=1.0)])


def _time_of(answer: Answer) -> str:
    live = [c for c in answer.citations if c.tier == "live"]
    assert live, answer
    match = CLOCK.search(live[0].title)
    assert match and live[0].title.startswith("Service status, as of"), live[0].title
    assert live[0].as_of is not None and live[0].as_of.strftime("%H:%M UTC") == match.group(0)
    return match.group(0)


def test_a_status_question_in_spanish_or_indonesian_is_answered_from_the_status_page(
    kb: Any, status_server: StatusServer
) -> None:
    assistant = _live(kb, status_server)
    try:
        for question, language in (
            ("¿Hay una caída del servicio en mi zona?", "es"),
            ("Apakah ada gangguan layanan di daerah saya?", "id"),
        ):
            answer = assistant.ask(question)
            assert not answer.abstained and "All Systems Operational" in answer.text, answer.text
            assert answer.language == language
            _time_of(answer)
    finally:
        assistant.live.close()


def test_an_outage_question_follows_the_status_page_within_its_time_to_live(
    kb: Any, status_server: StatusServer
) -> None:
    assistant = _live(kb, status_server)
    try:
        calm = assistant.ask("Is there an outage in my area?")
        assert not calm.abstained and "All Systems Operational" in calm.text and "No incidents" in calm.text
        _time_of(calm)
        assert [(u.name, u.state) for u in calm.live] == [("status", "fresh")]

        status_server.summary = summary(
            {"Australia": "major_outage", "Europe": "operational"},
            incidents=[incident("Outage in Queensland", "We are restoring service.", regions=("Australia",))],
        )
        flipped = time.monotonic()
        while True:  # the next answers follow within the time-to-live
            answer = assistant.ask("Is there an outage in my area?")
            if "All Systems Operational" not in answer.text:
                break
            assert time.monotonic() - flipped <= TTL + 0.5, answer.text
            time.sleep(0.1)
        assert (
            "Major System Outage" in answer.text
            and "Starlink Internet (Australia): major outage" in answer.text
        )
        assert "Outage in Queensland" in answer.text and "We are restoring service" in answer.text
        assert "Europe" not in answer.text
        _time_of(answer)

        status_server.status = 503  # the page goes down: the answer says so, with when it was checked
        time.sleep(TTL + 0.1)
        down = assistant.ask("Is there an outage in my area?")
        assert "not answering" in down.text and "Major System Outage" not in down.text
        assert [u.state for u in down.live] == ["stale"] and down.citations[0].as_of is None
    finally:
        assistant.close()


def test_a_status_page_that_never_answered_gives_a_plain_answer(kb: Any) -> None:
    assistant = Assistant(
        kb, backend="extractive:", live=[StatuspageSource("http://127.0.0.1:9", timeout_s=0.5)]
    )
    answer = assistant.ask("Is Starlink down right now?")
    assert not answer.abstained and "is not answering right now" in answer.text
    assert [u.state for u in answer.live] == ["down"]
    assistant.close()


def test_how_to_questions_are_answered_from_the_articles_not_the_status(
    kb: Any, status_server: StatusServer
) -> None:
    assistant = _live(kb, status_server)
    answer = assistant.ask("How do I factory reset the Gen 3 router?")
    assert answer.live == () and all(c.tier == "official" for c in answer.citations)
    assert status_server.hits == 0  # not even fetched
    assistant.close()


def test_a_region_named_by_the_caller_picks_its_component(kb: Any, status_server: StatusServer) -> None:
    status_server.summary = summary({"Australia": "partial_outage", "Europe": "operational"})
    assistant = _live(kb, status_server)
    answer = assistant.ask("Is there an outage in my area?", context={"region": "Europe"})
    assert "Starlink Internet (Europe): operational" in answer.text and "Australia" not in answer.text
    assistant.close()


def test_a_model_gets_the_live_source_labelled_and_is_held_to_it(
    kb: Any, status_server: StatusServer
) -> None:
    requests: list[ChatRequest] = []

    def reply(request: ChatRequest) -> str:
        requests.append(request)
        return "There is a major outage in Europe since 09:15 UTC [1]. All Systems Operational [1]."

    assistant = _live(kb, status_server, FakeBackend(reply))
    answer = assistant.ask("Is there an outage in my area?")
    prompt = requests[0].messages[-1].content
    assert re.search(r"\[1\] Service status, as of \d\d:\d\d UTC \(live\)", prompt)
    assert "09:15" not in answer.text and "Europe" not in answer.text  # unsupported: dropped
    assert "All Systems Operational" in answer.text
    assistant.close()


async def test_the_async_path_reads_live_sources_too(kb: Any, status_server: StatusServer) -> None:
    assistant = _live(kb, status_server)
    items = [item async for item in assistant.astream("Are there any outages at the moment?")]
    answer = items[-1]
    assert isinstance(answer, Answer) and "All Systems Operational" in answer.text
    _time_of(answer)
    await assistant.aclose()


@pytest.mark.parametrize("kind", ["statuspage", "feed"])
def test_live_sources_come_from_the_settings(kb: Any, status_server: StatusServer, kind: str) -> None:
    url = status_server.url if kind == "statuspage" else status_server.url + "/history.atom"
    settings = kb.settings.model_copy(
        update={"live": kb.settings.live.model_validate({"sources": [{"kind": kind, "url": url}]})}
    )
    assistant = Assistant(kb, backend="extractive:", settings=settings)
    assert [s.name for s in assistant.live] == ["status"]
    answer = assistant.ask("Is there an outage right now?")
    assert answer.live and answer.live[0].state == "fresh"
    assistant.close()
