"""Trust tiers and live sources over HTTP: REST, SSE and the OpenAI-compatible extension field."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grokassist.assistant import Assistant
from grokassist.knowledge import KnowledgeBase
from grokassist.live import StatuspageSource
from live.status_server import StatusServer

from .conftest import API_KEY, AppFactory

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "live"))

import host_tools

KEY = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def status_server() -> Iterator[StatusServer]:
    with StatusServer() as server:
        yield server


@pytest.fixture
def live_client(
    knowledge_base: KnowledgeBase, status_server: StatusServer, make_app: AppFactory, tmp_path: Path
) -> Iterator[TestClient]:
    forum = tmp_path / "forum"
    forum.mkdir()
    (forum / "rumour.md").write_text(
        "# Router recall\n\nThe router is recalled because it catches fire; hold reset for 45 seconds.\n",
        "utf-8",
    )
    knowledge_base.ingest(forum, trust="community")
    assistant = Assistant(
        knowledge_base, backend="extractive:", live=[StatuspageSource(status_server.url, ttl_s=1.0)]
    )
    host_tools.register(assistant)

    def robot_battery_broken() -> host_tools.RobotBattery:
        """The vacuum robot's battery."""
        raise RuntimeError("robot API exploded")

    assistant.add_tool(robot_battery_broken, keywords=["vacuum battery", "vacuum"])
    with TestClient(make_app(assistant, api_keys=[API_KEY], allow_anonymous=True)) as client:
        yield client
    assistant.live.close()


def test_rest_answer_carries_the_live_source_with_its_time(
    live_client: TestClient, status_server: StatusServer
) -> None:
    body = live_client.post("/v1/ask", json={"question": "Is there an outage in my area?"}).json()
    assert "All Systems Operational" in body["text"]
    cite = body["citations"][0]
    assert cite["tier"] == "live" and cite["title"].startswith("Service status, as of ") and cite["as_of"]
    assert cite["url"] == status_server.url  # the status page customers can read, not its JSON
    assert body["live"] == [
        {"kind": "status", "name": "status", "title": "Service status", "state": "fresh",
         "as_of": cite["as_of"], "checked_at": body["live"][0]["checked_at"]}
    ]  # fmt: skip


def test_community_posts_are_never_stated_and_official_citations_say_so(live_client: TestClient) -> None:
    body = live_client.post(
        "/v1/ask", json={"question": "How long should I press and hold the router's reset button?"}
    ).json()
    assert "45 seconds" not in body["text"] and "10 seconds" in body["text"]
    assert {c["tier"] for c in body["citations"]} == {"official"}


def test_sse_answer_event_carries_tiers_and_live(live_client: TestClient) -> None:
    with live_client.stream("POST", "/v1/ask/stream", json={"question": "Is Starlink down right now?"}) as r:
        events = [line for line in r.iter_lines() if line.startswith("data:")]
    answer = json.loads(events[-1][5:])
    assert answer["citations"][0]["tier"] == "live" and answer["live"][0]["state"] == "fresh"


def test_openai_extension_field_carries_tiers_and_live(live_client: TestClient) -> None:
    body = live_client.post(
        "/v1/chat/completions",
        headers=KEY,
        json={
            "model": "grokassist-support",
            "messages": [{"role": "user", "content": "Any outages right now?"}],
        },
    ).json()
    ext = body["grokassist"]
    assert ext["citations"][0]["tier"] == "live" and ext["live"][0]["name"] == "status"


def test_a_tool_that_raises_gives_a_plain_answer_not_a_500(live_client: TestClient) -> None:
    response = live_client.post("/v1/ask", json={"question": "What is my vacuum battery at right now?"})
    assert response.status_code == 200
    body = response.json()
    assert body["text"].startswith("I could not check robot battery broken just now: it failed")
    assert body["live"][0]["state"] == "failed" and "exploded" not in response.text  # no internals


def test_sensitive_tools_are_granted_by_the_hosts_server_only(live_client: TestClient) -> None:
    ask = {"question": "Why is my dish offline?", "context": {"account": "ACC-1042"}}
    anonymous = live_client.post("/v1/ask", json={**ask, "allow_tools": ["dish_diagnostics"]})
    assert anonymous.status_code == 403 and anonymous.json()["error"]["type"] == "tools_not_allowed"
    refused = live_client.post("/v1/ask", json=ask).json()
    assert "not permitted" in refused["text"] and refused["live"][0]["state"] == "permission"
    granted = live_client.post(
        "/v1/ask", headers=KEY, json={**ask, "allow_tools": ["dish_diagnostics"]}
    ).json()
    assert "Online: no" in granted["text"] and granted["citations"][0]["tier"] == "live"
    unknown = live_client.post("/v1/ask", headers=KEY, json={**ask, "allow_tools": ["rm_rf"]})
    assert unknown.status_code == 422


def test_a_status_page_that_goes_down_is_reported_not_raised(
    live_client: TestClient, status_server: StatusServer
) -> None:
    status_server.status = 500
    import time

    time.sleep(1.1)
    response = live_client.post("/v1/ask", json={"question": "Is there an outage in my area?"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert "not answering" in body["text"] and body["live"][0]["state"] in ("stale", "down")
