"""The OpenAI-compatible backend against a real server: llama-cpp-python's, on the packaged model."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict

from grokassist.backends import create_backend
from grokassist.backends.openai_compat import OpenAICompatBackend
from grokassist.errors import BackendStatusError
from grokassist.testing import check_backend_conformance, check_backend_conformance_async

from .conftest import PASSWORD_PASSAGES, make_request, needs_llama
from .servers import LlamaServer

pytestmark = [needs_llama, pytest.mark.integration]


def server_backend(server: LlamaServer) -> OpenAICompatBackend:
    backend = create_backend(f"llama-server:{server.base_url}", timeout=120)
    assert isinstance(backend, OpenAICompatBackend)
    return backend


def test_streams_a_real_answer(llama_server: LlamaServer) -> None:
    with server_backend(llama_server) as backend:
        chunks = list(backend.stream(make_request(passages=PASSWORD_PASSAGES, max_tokens=12)))
        check_backend_conformance(backend, make_request(passages=PASSWORD_PASSAGES, max_tokens=4))
    assert "".join(c.text for c in chunks).strip()
    assert chunks[-1].finish_reason in {"stop", "length"}


async def test_async_stream_and_cancel(llama_server: LlamaServer) -> None:
    async with server_backend(llama_server) as backend:
        await check_backend_conformance_async(backend, make_request(passages=PASSWORD_PASSAGES, max_tokens=4))
        stream = backend.astream(make_request(max_tokens=200))
        first = await anext(stream)
        await stream.aclose()
        assert first.text
        # the server is free for the next request
        completion = await backend.acomplete(make_request(max_tokens=3))
        assert completion.finish_reason in {"stop", "length"}


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str
    needs_human: bool


def test_structured_output_through_response_format(llama_server: LlamaServer) -> None:
    schema = Reply.model_json_schema()
    schema["properties"]["answer"]["maxLength"] = 80
    with server_backend(llama_server) as backend:
        completion = backend.complete(
            make_request(passages=PASSWORD_PASSAGES, max_tokens=80, json_schema=schema)
        )
    Reply.model_validate(json.loads(completion.text))


def test_server_errors_carry_status_and_body(llama_server: LlamaServer) -> None:
    backend = create_backend(
        f"llama-server:{llama_server.base_url}", max_retries=0, extra_body={"max_tokens": "x"}
    )
    assert isinstance(backend, OpenAICompatBackend)
    with backend, pytest.raises(BackendStatusError) as info:
        backend.complete(make_request(max_tokens=2))
    assert info.value.status_code >= 400  # llama-cpp-python answers 500 for a request it cannot parse
    assert "max_tokens" in info.value.body
