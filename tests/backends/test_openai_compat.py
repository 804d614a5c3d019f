"""The OpenAI-compatible backend against a local fault-injecting server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from grokassist.backends.base import ChatBackend, GenerationSettings
from grokassist.backends.openai_compat import OpenAICompatBackend, _retry_after
from grokassist.errors import (
    BackendConnectionError,
    BackendError,
    BackendStatusError,
    BackendTimeoutError,
    ConfigurationError,
    ContextLengthError,
    RateLimitError,
)
from grokassist.testing import check_backend_conformance, check_backend_conformance_async

from .conftest import make_request
from .servers import FaultServer, free_port


def backend(server: FaultServer, scenario: str, **options: object) -> tuple[OpenAICompatBackend, str]:
    base_url, key = server.url(scenario)
    options.setdefault("backoff", 0.01)
    return OpenAICompatBackend(f"{base_url}#test-model", **options), key  # type: ignore[arg-type]


def test_streams_text_finish_reason_and_usage(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "ok")
    with be:
        assert isinstance(be, ChatBackend)
        chunks = list(be.stream(make_request(max_tokens=5)))
    assert "".join(c.text for c in chunks) == "Hello, world"
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 10
    body = fault_server.bodies[key][0]
    assert body["model"] == "test-model" and body["stream"] is True and body["max_tokens"] == 5
    assert body["messages"][1] == {"role": "user", "content": "How do I reset my password?"}
    assert body["stream_options"] == {"include_usage": True}


async def test_astream(fault_server: FaultServer) -> None:
    be, _ = backend(fault_server, "ok")
    async with be:
        completion = await be.acomplete(make_request())
    assert completion.text == "Hello, world"
    assert completion.finish_reason == "stop"


def test_429_with_retry_after_is_retried_and_succeeds(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "rate-limit-once", timeout=10)
    started = time.monotonic()
    with be:
        completion = be.complete(make_request())
    assert completion.text == "Hello, world"
    assert fault_server.attempts[key] == 2
    assert time.monotonic() - started >= 0.95  # Retry-After: 1 honoured


async def test_429_retried_async(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "rate-limit-once", timeout=10)
    async with be:
        completion = await be.acomplete(make_request())
    assert completion.text == "Hello, world"
    assert fault_server.attempts[key] == 2


def test_429_exhausted_raises_rate_limit_error(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "rate-limit-always", timeout=10, max_retries=1)
    with be, pytest.raises(RateLimitError) as info:
        be.complete(make_request())
    assert info.value.status_code == 429
    assert info.value.retry_after == 1.0
    assert "slow down" in info.value.body
    assert fault_server.attempts[key] == 2


def test_retry_after_beyond_the_timeout_is_not_waited_for(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "rate-limit-always", timeout=0.5)
    started = time.monotonic()
    with be, pytest.raises(RateLimitError):
        be.complete(make_request())
    assert time.monotonic() - started < 0.5
    assert fault_server.attempts[key] == 1


def test_500_is_retried(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "error-once")
    with be:
        assert be.complete(make_request()).text == "Hello, world"
    assert fault_server.attempts[key] == 2


def test_5xx_exhausted_raises_status_error(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "error-always", max_retries=2)
    with be, pytest.raises(BackendStatusError) as info:
        be.complete(make_request())
    assert info.value.status_code == 503 and "overloaded" in info.value.body
    assert not isinstance(info.value, RateLimitError)
    assert fault_server.attempts[key] == 3


def test_4xx_is_not_retried(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "bad-request")
    with be, pytest.raises(BackendStatusError) as info:
        be.complete(make_request())
    assert info.value.status_code == 400 and "bad temperature" in str(info.value)
    assert fault_server.attempts[key] == 1


def test_context_length_error(fault_server: FaultServer) -> None:
    be, _ = backend(fault_server, "context-length")
    with be, pytest.raises(ContextLengthError):
        be.complete(make_request())


def test_dead_server_raises_connection_error_within_timeout() -> None:
    port = free_port()  # nothing listens there
    be = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1#m", timeout=1.5, backoff=0.2)
    started = time.monotonic()
    with be, pytest.raises(BackendConnectionError) as info:
        be.complete(make_request())
    assert time.monotonic() - started < 1.5
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_dead_server_async() -> None:
    be = OpenAICompatBackend(f"http://127.0.0.1:{free_port()}/v1#m", timeout=1.0)
    started = time.monotonic()
    async with be:
        with pytest.raises(BackendConnectionError):
            await be.acomplete(make_request())
    assert time.monotonic() - started < 1.0


def test_silent_server_times_out(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "slow", timeout=0.5)
    started = time.monotonic()
    with be, pytest.raises(BackendTimeoutError):
        be.complete(make_request())
    assert time.monotonic() - started < 1.5
    assert fault_server.attempts[key] == 1


def test_dropped_connection_mid_stream_is_not_retried(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "drop-mid-stream")
    received: list[str] = []
    with be, pytest.raises(BackendConnectionError):
        for chunk in be.stream(make_request()):
            received.append(chunk.text)
    assert "".join(received) == "Hello,"
    assert fault_server.attempts[key] == 1


async def test_dropped_connection_mid_stream_async(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "drop-mid-stream")
    received: list[str] = []
    async with be:
        with pytest.raises(BackendConnectionError):
            async for chunk in be.astream(make_request()):
                received.append(chunk.text)
    assert "".join(received) == "Hello,"
    assert fault_server.attempts[key] == 1


def test_drop_before_the_first_token_is_retried(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "drop-before-token-once")
    with be:
        assert be.complete(make_request()).text == "Hello, world"
    assert fault_server.attempts[key] == 2


def test_malformed_event(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "malformed")
    with be, pytest.raises(BackendError, match="malformed server-sent event"):
        be.complete(make_request())
    assert fault_server.attempts[key] == 1


def test_stall_mid_stream_times_out(fault_server: FaultServer) -> None:
    be, _ = backend(fault_server, "stall-mid-stream", timeout=0.5)
    with be, pytest.raises(BackendTimeoutError):
        be.complete(make_request())


def test_stream_without_end_marker_is_an_error(fault_server: FaultServer) -> None:
    be, _ = backend(fault_server, "no-done")
    with be, pytest.raises(BackendConnectionError, match="ended before"):
        be.complete(make_request())


def test_closing_the_iterator_stops_generation(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "endless")
    with be:
        stream = be.stream(make_request())
        texts = [next(stream).text for _ in range(3)]
        stream.close()
        assert texts == [" t0", " t1", " t2"]
        assert fault_server.aborted[key].wait(5)
    assert fault_server.sent[key] < 1000


async def test_aclosing_the_async_iterator_stops_generation(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "endless")
    async with be:
        stream = be.astream(make_request())
        first = await anext(stream)
        await stream.aclose()
        assert first.text == " t0"
        assert fault_server.aborted[key].wait(5)
    assert fault_server.sent[key] < 1000


def test_settings_merge_over_defaults_and_response_format(fault_server: FaultServer) -> None:
    be, key = backend(fault_server, "ok", defaults=GenerationSettings(max_tokens=64, temperature=0.3))
    schema = {"title": "Reply Schema", "type": "object", "properties": {"answer": {"type": "string"}}}
    with be:
        be.complete(make_request(max_tokens=5, json_schema=schema, stop=("\n",), seed=3))
    body = fault_server.bodies[key][0]
    assert (body["max_tokens"], body["temperature"], body["stop"], body["seed"]) == (5, 0.3, ["\n"], 3)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Reply_Schema", "schema": schema},
    }


def test_llama_server_preset_sends_json_object_with_schema() -> None:
    be = OpenAICompatBackend("http://127.0.0.1:1/v1", preset="llama-server")
    schema = {"type": "object"}
    body = be.payload(make_request(json_schema=schema))
    assert be.model == "default"
    assert body["response_format"] == {"type": "json_object", "schema": schema}
    none = OpenAICompatBackend("http://h/v1#m", response_format="none")
    assert "response_format" not in none.payload(make_request(json_schema=schema))


def test_xai_preset_reads_key_from_environment(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    monkeypatch.delenv("GROKASSIST_XAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="XAI_API_KEY"):
        OpenAICompatBackend("grok-4", preset="xai")
    monkeypatch.setenv("XAI_API_KEY", "sekrit")
    be = OpenAICompatBackend("grok-4", preset="xai")
    assert (be.base_url, be.model, be.name) == (
        "https://api.x.ai/v1",
        "grok-4",
        "xai:https://api.x.ai/v1#grok-4",
    )
    base_url, key = fault_server.url("ok")
    with OpenAICompatBackend("grok-4", preset="xai", base_url=base_url) as local:
        local.complete(make_request())
    assert fault_server.headers[key][0]["Authorization"] == "Bearer sekrit"
    assert "sekrit" not in repr(local.options)


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKASSIST_OPENAI_BASE_URL", "http://env-host:9/v1/")
    monkeypatch.setenv("GROKASSIST_OPENAI_MODEL", "env-model")
    be = OpenAICompatBackend("")
    assert (be.base_url, be.model) == ("http://env-host:9/v1", "env-model")
    be = OpenAICompatBackend("http://uri-host/v1#uri-model")
    assert (be.base_url, be.model) == ("http://uri-host/v1", "uri-model")
    be = OpenAICompatBackend("http://uri-host/v1#uri-model", model="explicit")
    assert be.model == "explicit"


def test_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROKASSIST_OPENAI_MODEL", raising=False)
    with pytest.raises(ConfigurationError, match="needs a model"):
        OpenAICompatBackend("http://h/v1")
    with pytest.raises(ConfigurationError, match="invalid options"):
        OpenAICompatBackend("http://h/v1#m", timeout=-1)
    with pytest.raises(ConfigurationError, match="invalid options"):
        OpenAICompatBackend("http://h/v1#m", no_such_option=1)
    with pytest.raises(ConfigurationError, match="preset"):
        OpenAICompatBackend("m", preset="nope")


def test_retry_after_header_forms() -> None:
    assert _retry_after(httpx.Headers({"Retry-After": "2"})) == 2.0
    assert _retry_after(httpx.Headers({"retry-after-ms": "1500", "Retry-After": "9"})) == 1.5
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    value = _retry_after(httpx.Headers({"Retry-After": when}))
    assert value is not None and 25 < value <= 30
    assert _retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert _retry_after(httpx.Headers()) is None


def test_conformance(fault_server: FaultServer) -> None:
    be, _ = backend(fault_server, "ok")
    with be:
        check_backend_conformance(be)


async def test_conformance_async(fault_server: FaultServer) -> None:
    be, _ = backend(fault_server, "ok")
    async with be:
        await check_backend_conformance_async(be)


def test_async_client_follows_the_event_loop(fault_server: FaultServer) -> None:
    import asyncio

    be, _ = backend(fault_server, "ok")

    async def ask() -> str:
        return (await be.acomplete(make_request())).text

    assert asyncio.run(ask()) == "Hello, world"
    assert asyncio.run(ask()) == "Hello, world"  # a second loop gets its own client
    asyncio.run(be.aclose())
