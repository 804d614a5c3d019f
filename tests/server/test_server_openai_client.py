"""The official ``openai`` client against a really running server (uvicorn on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from .conftest import API_KEY, OTHER_KEY, AppFactory
from .live import LiveServer

pytestmark = pytest.mark.integration

MODEL = "grokassist-support"


@pytest.fixture
def server(make_app: AppFactory) -> Iterator[LiveServer]:
    app = make_app(api_keys=[API_KEY, OTHER_KEY], allow_anonymous=False, rate_limit_burst=30)
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0, timeout=30) as c:
        yield c


def test_lists_the_knowledge_base_as_a_model(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).owned_by == "grokassist"


def test_chat_completion_with_citations(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "How do I factory reset my router?"}]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    assert "pinhole reset button" in content and "[1]" in content
    assert "Sources:\n[1] Factory reset your router: http://127.0.0.1:" in content
    ext: dict[str, Any] = (completion.model_extra or {})["grokassist"]
    assert ext["citations"][0]["doc_id"] == "router/factory-reset.md" and ext["abstained"] is False
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    # the citation link really serves the article
    page = httpx.get(ext["citations"][0]["url"], headers={"Authorization": f"Bearer {API_KEY}"})
    assert page.status_code == 200 and "Factory reset your router" in page.text


def test_streaming_chat_completion(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "How do I fix obstructions around the dish?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish = None
    ext: dict[str, Any] = {}
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if not chunk.choices:
            continue
        if chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
            ext = (chunk.model_extra or {})["grokassist"]
    text = "".join(pieces)
    assert len(pieces) >= 2 and finish == "stop"  # answer text (a piece per checked sentence), then Sources
    assert "obstruction checker" in text and "Sources:" in text
    assert ext["citations"][0]["doc_id"] == "placement/obstructions.md"
    assert usage is not None and usage.total_tokens > 0


def test_multi_turn_from_the_messages_the_client_sends(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "How do I factory reset my router?"}]
    )
    follow = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "How do I factory reset my router?"},
            {"role": "assistant", "content": first.choices[0].message.content or ""},
            {"role": "user", "content": "and what does the white light mean?"},
        ],
    )
    ext = (follow.model_extra or {})["grokassist"]
    assert ext["session_id"] is None  # stateless: nothing is kept on the server
    assert {c["doc_id"] for c in ext["citations"]} & {"router/factory-reset.md", "community/router-lights.md"}


def test_multi_turn_in_a_server_session(client: openai.OpenAI, server: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    sid = httpx.post(f"{server.url}/v1/sessions", headers=auth).json()["session_id"]
    for question in ("How do I factory reset my router?", "How do I pause my service?"):
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": question}], extra_body={"session_id": sid}
        )
    history = httpx.get(f"{server.url}/v1/sessions/{sid}", headers=auth).json()["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == [
        "How do I factory reset my router?",
        "How do I pause my service?",
    ]
    with (
        openai.OpenAI(base_url=f"{server.url}/v1", api_key=OTHER_KEY, max_retries=0) as other,
        pytest.raises(openai.NotFoundError),
    ):
        other.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], extra_body={"session_id": sid}
        )


def test_errors_map_to_the_openai_exceptions(client: openai.OpenAI, server: LiveServer) -> None:
    with pytest.raises(openai.NotFoundError, match="no model"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with (
        openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-wrong", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.models.list()
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "assistant", "content": "hello"}])


def test_rate_limit_surfaces_as_openai_rate_limit_error(make_app: AppFactory) -> None:
    app = make_app(api_keys=[API_KEY], rate_limit_burst=2, rate_limit_per_minute=1)
    with (
        LiveServer(app) as live,
        openai.OpenAI(base_url=f"{live.url}/v1", api_key=API_KEY, max_retries=0) as c,
    ):
        c.models.list()
        c.models.list()
        with pytest.raises(openai.RateLimitError) as info:
            c.models.list()
        assert int(info.value.response.headers["retry-after"]) >= 1
