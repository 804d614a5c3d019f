"""The REST + SSE API through FastAPI's TestClient and httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from grokassist.assistant import ABSTAIN_TEXT, Assistant
from grokassist.backends.base import ChatRequest, SyncBackend
from grokassist.knowledge import KnowledgeBase
from grokassist.server.app import create_app
from grokassist.server.settings import ServerSettings
from grokassist.stores import open_store
from grokassist.types import Chunk

from .conftest import API_KEY, OTHER_KEY, AppFactory

AUTH = {"Authorization": f"Bearer {API_KEY}"}
OTHER = {"Authorization": f"Bearer {OTHER_KEY}"}


def sse_events(text: str) -> list[tuple[str, Any]]:
    """Parse a server-sent-events body into ``(event, data)`` pairs."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def test_ask_answers_with_citations_confidence_and_a_session(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "How do I factory reset my router?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "pinhole reset button" in body["text"]
    cite = body["citations"][0]
    assert cite["doc_id"] == "router/factory-reset.md" and cite["title"] == "Factory reset your router"
    assert f"[{cite['index']}]" in body["text"]
    assert cite["url"].endswith("/v1/sources/router/factory-reset.md")
    assert cite["source"] == ""  # server file paths are not disclosed
    assert 0 < body["confidence"] <= 1 and body["abstained"] is False
    assert body["answer_id"].startswith("ans_")
    assert len(body["session_id"]) >= 43  # 256 random bits


def test_citation_links_are_followable(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "How do I pause my service?"}).json()
    page = client.get(body["citations"][0]["url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Pause your service</h1>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    data = client.get(body["citations"][0]["url"], params={"format": "json"}).json()
    assert data["doc_id"] == "billing/pause-service.md" and "Manage subscription" in data["text"]


def test_stream_sends_session_then_text_pieces_then_the_answer(client: TestClient) -> None:
    r = client.post("/v1/ask/stream", json={"question": "How do I fix obstructions around the dish?"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [name for name, _ in events]
    assert names[0] == "session" and names[-1] == "answer"
    assert set(names[1:-1]) == {"delta"} and len(names) >= 3
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    answer = events[-1][1]
    assert " ".join(streamed.split()) == " ".join(answer["text"].split())
    assert answer["session_id"] == events[0][1]["session_id"]
    assert answer["citations"][0]["doc_id"] == "placement/obstructions.md"


def test_abstains_honestly_and_offers_a_human(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "What is the capital of France?"})
    body = r.json()
    assert body["abstained"] is True and body["text"] == ABSTAIN_TEXT and body["citations"] == []
    assert [a["type"] for a in body["actions"]] == ["offer_human"]
    metrics = client.get("/metrics", headers=AUTH).text
    assert "grokassist_abstentions_total 1.0" in metrics


def test_multi_turn_session_keeps_the_conversation(client: TestClient) -> None:
    first = client.post("/v1/ask", json={"question": "How do I factory reset my router?"}).json()
    sid = first["session_id"]
    second = client.post("/v1/ask", json={"question": "How do I pause my service?", "session_id": sid}).json()
    assert second["session_id"] == sid
    history = client.get(f"/v1/sessions/{sid}").json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant", "user", "assistant"]
    assert history["messages"][0]["content"] == "How do I factory reset my router?"
    assert client.delete(f"/v1/sessions/{sid}").status_code == 204
    assert client.get(f"/v1/sessions/{sid}").status_code == 404


def test_one_client_can_never_read_or_use_another_clients_session(client: TestClient) -> None:
    mine = client.post("/v1/ask", json={"question": "How do I pause my service?"}, headers=AUTH).json()
    sid = mine["session_id"]
    assert client.get(f"/v1/sessions/{sid}", headers=AUTH).status_code == 200
    # another API key, and an anonymous caller, get "unknown session" (no hint that it exists)
    for headers in (OTHER, {}):
        read = client.get(f"/v1/sessions/{sid}", headers=headers)
        assert read.status_code == 404 and read.json()["error"]["type"] == "session_not_found"
        assert "pause" not in read.text.lower()
        ask = client.post("/v1/ask", json={"question": "and then?", "session_id": sid}, headers=headers)
        assert ask.status_code == 404
        assert client.delete(f"/v1/sessions/{sid}", headers=headers).status_code == 404
        escalate = client.post("/v1/escalate", json={"session_id": sid}, headers=headers)
        assert escalate.status_code == 404
    # the owner's conversation is untouched
    history = client.get(f"/v1/sessions/{sid}", headers=AUTH).json()["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == ["How do I pause my service?"]


async def test_anonymous_sessions_are_bound_to_the_client_address(make_app: AppFactory) -> None:
    app = make_app()
    a = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("10.0.0.1", 5000)), base_url="http://t"
    )
    b = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("10.0.0.2", 5000)), base_url="http://t"
    )
    async with a, b:
        sid = (await a.post("/v1/ask", json={"question": "How do I pause my service?"})).json()["session_id"]
        assert (await a.get(f"/v1/sessions/{sid}")).status_code == 200
        assert (await b.get(f"/v1/sessions/{sid}")).status_code == 404


def test_session_ids_are_server_issued_and_unguessable(client: TestClient) -> None:
    ids = {client.post("/v1/sessions").json()["session_id"] for _ in range(15)}
    assert len(ids) == 15 and all(len(i) >= 43 for i in ids)
    # a client cannot pick its own session id (no session fixation)
    made_up = "my-own-session-id-1234567890"
    r = client.post("/v1/ask", json={"question": "How do I pause my service?", "session_id": made_up})
    assert r.status_code == 404


def test_feedback_is_stored_with_the_answer_it_rates(client: TestClient, tmp_path: Any) -> None:
    answer = client.post("/v1/ask", json={"question": "How do I pause my service?"}).json()
    r = client.post(
        "/v1/feedback", json={"answer_id": answer["answer_id"], "helpful": False, "comment": "too short"}
    )
    assert r.status_code == 200 and r.json()["status"] == "recorded"
    store = open_store(folder=tmp_path / "server")
    row = store.answers.feedback(answer["answer_id"])
    store.close()
    assert row is not None
    assert row.helpful is False and row.comment == "too short"
    assert row.answer.question == "How do I pause my service?" and row.answer.text == answer["text"]
    assert row.answer.citations[0].doc_id == "billing/pause-service.md"
    # someone else cannot rate it; unknown ids are refused
    assert (
        client.post(
            "/v1/feedback", json={"answer_id": answer["answer_id"], "helpful": True}, headers=OTHER
        ).status_code
        == 404
    )
    assert (
        client.post("/v1/feedback", json={"answer_id": "ans_nonexistent000", "helpful": True}).status_code
        == 404
    )
    assert 'grokassist_feedback_total{helpful="false"} 1.0' in client.get("/metrics", headers=AUTH).text


def test_escalation_goes_to_the_local_outbox_with_the_transcript(client: TestClient, tmp_path: Any) -> None:
    answer = client.post("/v1/ask", json={"question": "What is the capital of France?"}).json()
    r = client.post(
        "/v1/escalate",
        json={
            "session_id": answer["session_id"],
            "answer_id": answer["answer_id"],
            "reason": "I need a person",
            "contact": "ana@example.com",
        },
    )
    assert r.status_code == 202, r.text
    escalation_id = r.json()["escalation_id"]
    store = open_store(folder=tmp_path / "server")
    pending = store.outbox.escalations("pending")
    store.close()
    assert [e.id for e in pending] == [escalation_id]
    e = pending[0]
    assert e.contact == "ana@example.com" and e.reason == "I need a person" and e.status == "pending"
    assert [m.content for m in e.transcript] == ["What is the capital of France?", ABSTAIN_TEXT]
    assert client.post("/v1/escalate", json={}).status_code == 422


@pytest.mark.parametrize(
    "doc_id",
    [
        "../../../../etc/passwd",
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/etc/passwd",
        "router/../../server/grokassist-server.sqlite3",
        "router%2F..%2F..%2F..%2Fpyproject.toml",
        "kb-docs/router/factory-reset.md",
        "router%00/factory-reset.md",
    ],
)
def test_sources_serve_only_documents_in_the_knowledge_base(client: TestClient, doc_id: str) -> None:
    r = client.get(f"/v1/sources/{doc_id}")
    assert r.status_code == 404
    assert "root:" not in r.text and "SQLite" not in r.text


def test_health_readiness_metrics_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "knowledge_base": "ok",
        "backends": "ok",
        "store": "ok",
    }
    assert ready.json()["store"] == "sqlite"
    client.post("/v1/ask", json={"question": "How do I pause my service?"})
    metrics = client.get("/metrics", headers=AUTH)
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'grokassist_http_requests_total{method="POST",route="/v1/ask",status="200"} 1.0' in text
    assert 'grokassist_http_request_duration_seconds_bucket{le="0.5",method="POST",route="/v1/ask"}' in text
    assert 'grokassist_answers_total{api="ask"} 1.0' in text
    schema = client.get("/openapi.json").json()
    for path in (
        "/v1/ask",
        "/v1/ask/stream",
        "/v1/chat/completions",
        "/v1/models",
        "/v1/feedback",
        "/v1/escalate",
    ):
        assert path in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_readiness_fails_on_an_empty_knowledge_base(settings: Any, onnx_embedder: Any, tmp_path: Any) -> None:
    empty = Assistant(
        KnowledgeBase("empty", settings=settings, embedder=onnx_embedder), backend="extractive:"
    )
    with TestClient(create_app(empty, ServerSettings(data_dir=tmp_path / "s"))) as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["knowledge_base"].startswith("empty")


class LoadingBackend(SyncBackend):
    """A backend whose model loads in ``warm_up`` (as llama.cpp's does)."""

    name = "loading"

    def __init__(self) -> None:
        self.loaded_at: float | None = None

    def warm_up(self) -> None:
        self.loaded_at = time.monotonic()

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        yield Chunk(text="Hold the reset button for 10 seconds [1].")
        yield Chunk(finish_reason="stop")


def test_the_service_loads_local_models_before_the_first_question(
    knowledge_base: KnowledgeBase, tmp_path: Any
) -> None:
    backend = LoadingBackend()
    app = create_app(Assistant(knowledge_base, backend=backend), ServerSettings(data_dir=tmp_path / "s"))
    with TestClient(app):
        assert backend.loaded_at is not None  # at start-up, before any request


def test_the_widget_script_and_style_are_served(client: TestClient) -> None:
    js = client.get("/widget.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in js.text and "/v1/ask/stream" in js.text
    css = client.get("/widget.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


class CountingBackend(SyncBackend):
    """Streams slowly and records how many answers it was producing at once."""

    name = "counting"

    def __init__(self) -> None:
        self.active = 0
        self.most = 0
        self._lock = threading.Lock()

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            for word in ("Press ", "the ", "button ", "[1]."):
                time.sleep(0.02)
                yield Chunk(text=word)
        finally:
            with self._lock:
                self.active -= 1


async def test_answers_are_generated_at_most_max_concurrent_answers_at_once(
    knowledge_base: KnowledgeBase, make_app: AppFactory
) -> None:
    backend = CountingBackend()
    app = make_app(Assistant(knowledge_base, backend=backend), max_concurrent_answers=2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        questions = [
            c.post("/v1/ask", json={"question": "How do I factory reset my router?"}) for _ in range(6)
        ]
        replies = await asyncio.gather(*questions)
    assert [r.status_code for r in replies] == [200] * 6
    assert backend.most == 2
