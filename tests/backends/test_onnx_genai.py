"""The ONNX Runtime GenAI backend on a tiny model folder that the tests build."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from pydantic import BaseModel

from grokassist.backends.base import ChatBackend
from grokassist.errors import ConfigurationError, ContextLengthError
from grokassist.types import Chunk

from .conftest import PASSWORD_PASSAGES, make_request, needs_onnx_genai

if TYPE_CHECKING:
    from grokassist.backends.onnx_genai import OnnxGenaiBackend

pytestmark = needs_onnx_genai


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .tiny_onnx import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-onnx"))


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .tiny_onnx import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-onnx-chat"), chat_template=True)


def make_backend(path: Path, **options: Any) -> OnnxGenaiBackend:
    from grokassist.backends.onnx_genai import OnnxGenaiBackend

    return OnnxGenaiBackend(str(path), provider="cpu", **options)


def test_streams_a_completion_prompt(tiny_model: Path) -> None:
    from grokassist.backends.onnx_genai import OnnxGenaiBackend

    with OnnxGenaiBackend(str(tiny_model), provider="cpu") as backend:
        assert isinstance(backend, ChatBackend)
        request = make_request(passages=PASSWORD_PASSAGES, max_tokens=8)
        prompt = backend.prompt(request).text
        assert prompt.endswith("Question: How do I reset my password?\nAnswer:")
        assert "[1] Resetting your password" in prompt and "[2] Two-factor" in prompt
        chunks = list(backend.stream(request))
    # the tiny model counts up from the last prompt token, ":"
    assert "".join(c.text for c in chunks) == ";<=>?@AB"
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8
    assert chunks[-1].usage.prompt_tokens > 50


def test_stop_sequences_from_settings(tiny_model: Path) -> None:
    with make_backend(tiny_model) as backend:
        completion = backend.complete(make_request(max_tokens=20, stop=("B",)))
    assert completion.text == ";<=>?@A"
    assert completion.finish_reason == "stop"


async def test_astream_and_cancellation(tiny_model: Path) -> None:
    from grokassist.backends.onnx_genai import OnnxGenaiBackend

    backend = OnnxGenaiBackend(str(tiny_model), provider="cpu")
    stream = cast(AsyncGenerator[Chunk, None], backend.astream(make_request(max_tokens=200)))
    first = await anext(stream)
    await stream.aclose()
    assert first.text == ";"
    # the lock was released: another generation runs
    completion = await backend.acomplete(make_request(max_tokens=3))
    assert completion.text == ";<="
    await backend.aclose()


def test_structured_output_follows_the_schema(tiny_model: Path) -> None:
    class Reply(BaseModel):
        answer: bool

    with make_backend(tiny_model) as backend:
        completion = backend.complete(make_request(max_tokens=30, json_schema=Reply.model_json_schema()))
    Reply.model_validate(json.loads(completion.text))


def test_passages_are_trimmed_to_fit_the_context(tiny_model: Path) -> None:
    long_text = " ".join(
        f"Sentence {i} explains how the quick brown fox resets a password." for i in range(60)
    )
    request = make_request(passages=(("Long", long_text), ("Other", long_text)), max_tokens=64)
    with make_backend(tiny_model, context_length=768) as backend:
        fitted = backend.prompt(request)
        assert fitted.tokens <= 768 - 64
        assert fitted.passages_trimmed >= 1 and "[1] Long" in fitted.text
        completion = backend.complete(request)
    assert completion.usage is not None and completion.usage.prompt_tokens <= 768 - 64


def test_an_overlong_question_raises_context_length_error(tiny_model: Path) -> None:
    with make_backend(tiny_model, context_length=256) as backend:
        with pytest.raises(ContextLengthError):
            backend.complete(make_request(question="why " * 400, max_tokens=16))
        with pytest.raises(ContextLengthError):
            backend.complete(make_request(max_tokens=256))


def test_chat_template_is_used_when_present(tiny_chat_model: Path) -> None:
    with make_backend(tiny_chat_model) as backend:
        prompt = backend.prompt(make_request(passages=PASSWORD_PASSAGES)).text
        assert prompt.startswith("<|system|>You are a customer-support assistant.")
        assert "<|user|>Sources" in prompt and "[1] Resetting your password" in prompt
        assert prompt.endswith("Question: How do I reset my password?\n<|assistant|>:")
        assert backend.complete(make_request(max_tokens=3)).text == ";<="
    with make_backend(tiny_chat_model, prompt_style="completion") as backend:
        assert backend.prompt(make_request()).text.endswith("Answer:")


def test_bad_targets_and_options(tmp_path: Path) -> None:
    from grokassist.backends.onnx_genai import OnnxGenaiBackend

    with pytest.raises(ConfigurationError, match=r"genai_config\.json"):
        OnnxGenaiBackend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="model folder"):
        OnnxGenaiBackend("")
    with pytest.raises(ConfigurationError, match="invalid options"):
        OnnxGenaiBackend(str(tmp_path), provider="tpu")


def test_cuda_without_a_cuda_build_is_a_configuration_error(tiny_model: Path) -> None:
    import onnxruntime_genai as og

    from grokassist.backends.onnx_genai import OnnxGenaiBackend

    if og.is_cuda_available():
        pytest.skip("this onnxruntime-genai has CUDA")
    with pytest.raises(ConfigurationError, match="onnxruntime-genai-cuda"):
        OnnxGenaiBackend(str(tiny_model), provider="cuda")


@pytest.mark.gpu
def test_generates_on_the_gpu(tiny_model: Path) -> None:
    from grokassist.backends.onnx_genai import OnnxGenaiBackend

    with OnnxGenaiBackend(str(tiny_model), provider="cuda") as backend:
        assert backend.provider == "cuda"
        assert backend.complete(make_request(max_tokens=3)).text == ";<="


def test_conformance(tiny_model: Path) -> None:
    from grokassist.testing import check_backend_conformance

    with make_backend(tiny_model) as backend:
        check_backend_conformance(backend)


async def test_conformance_async(tiny_model: Path) -> None:
    from grokassist.testing import check_backend_conformance_async

    backend = make_backend(tiny_model)
    await check_backend_conformance_async(backend)
    await backend.aclose()
