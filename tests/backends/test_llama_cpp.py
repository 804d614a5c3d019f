"""The llama.cpp backend on the packaged models (real models, short generations): Gemma 3 270M, a
quick base model, for most checks; the default chat model for its chat template."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel, ConfigDict, Field

from grokassist.backends.base import ChatBackend
from grokassist.errors import ConfigurationError, ContextLengthError
from grokassist.testing import check_backend_conformance, check_backend_conformance_async
from grokassist.types import Chunk

from .conftest import PASSWORD_PASSAGES, make_request, needs_llama

pytestmark = needs_llama

N_CTX = 2048


@pytest.fixture(scope="module")
def backend(gemma_path: Path) -> Iterator[Any]:
    from grokassist.backends.llama_cpp import LlamaCppBackend

    with LlamaCppBackend("gemma3-270m", n_ctx=N_CTX) as be:
        be.warm_up()
        yield be


def test_grounded_answer_streams_with_usage(backend: Any) -> None:
    request = make_request(passages=PASSWORD_PASSAGES, max_tokens=24)
    fitted = backend.prompt(request)
    assert fitted.text.endswith("Question: How do I reset my password?\nAnswer:")
    assert "\nQuestion:" in fitted.stop
    chunks = list(backend.stream(request))
    text = "".join(c.text for c in chunks)
    assert text.strip()
    assert "\nQuestion:" not in text
    final = chunks[-1]
    assert final.finish_reason in {"stop", "length"}
    assert final.usage is not None
    assert 0 < final.usage.completion_tokens <= 24
    assert final.usage.prompt_tokens == len(backend.llama.tokenize(fitted.text.encode()))


def test_conformance(backend: ChatBackend) -> None:
    check_backend_conformance(backend)


async def test_conformance_async(backend: ChatBackend) -> None:
    await check_backend_conformance_async(backend)


def test_closing_the_stream_stops_generation(backend: Any) -> None:
    request = make_request(passages=PASSWORD_PASSAGES, max_tokens=400, stop=("@@@",))
    prompt_tokens = len(backend.llama.tokenize(backend.prompt(request).text.encode()))
    stream = backend.stream(request)
    next(stream)
    stream.close()
    # the model evaluated at most a token or two past the one we read
    assert backend.llama.n_tokens - prompt_tokens < 4
    # and the lock is free again
    started = time.monotonic()
    assert backend.complete(make_request(max_tokens=2)).usage is not None
    assert time.monotonic() - started < 30


async def test_aclose_stops_generation(backend: Any) -> None:
    stream = cast(AsyncGenerator[Chunk, None], backend.astream(make_request(max_tokens=400, stop=("@@@",))))
    await anext(stream)
    await stream.aclose()
    completion = await backend.acomplete(make_request(max_tokens=2))
    assert completion.usage is not None and completion.usage.completion_tokens <= 2


def test_model_is_shared_and_threads_take_turns(backend: Any) -> None:
    from grokassist.backends.llama_cpp import LlamaCppBackend, loaded_models

    count = loaded_models()
    twin = LlamaCppBackend("gemma3-270m", n_ctx=N_CTX)
    assert twin.llama is backend.llama and loaded_models() == count
    request = make_request(passages=PASSWORD_PASSAGES, max_tokens=8)
    results: list[str] = []
    errors: list[BaseException] = []

    def run(be: Any) -> None:
        try:
            results.append(be.complete(request).text)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(be,)) for be in (backend, twin, backend)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and len(results) == 3
    assert len(set(results)) == 1  # greedy decoding, same prompt, no interference
    twin.close()
    assert loaded_models() == count  # still used by `backend`


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(max_length=120)
    sources: list[int] = Field(max_length=3)
    needs_human: bool


def test_structured_output_validates(backend: Any) -> None:
    request = make_request(passages=PASSWORD_PASSAGES, max_tokens=120, json_schema=Reply.model_json_schema())
    completion = backend.complete(request)
    assert completion.finish_reason == "stop", completion.text
    Reply.model_validate(json.loads(completion.text))


def test_prompt_always_fits(backend: Any) -> None:
    from grokassist.backends.llama_cpp import LlamaCppBackend
    from grokassist.backends.models import MODELS

    budget = MODELS["gemma3-270m"].prompt_budget
    filler = " ".join(f"Step {i}: open the settings page and look for the reset option." for i in range(150))
    passages = tuple((f"Guide {i}", filler) for i in range(5))
    request = make_request(passages=passages, max_tokens=4)
    unbudgeted = LlamaCppBackend("gemma3-270m", n_ctx=N_CTX, max_prompt_tokens=0)  # shares the model
    assert unbudgeted.prompt_budget is None
    fitted = unbudgeted.prompt(request)
    assert N_CTX - 100 < fitted.tokens <= N_CTX - 4 and fitted.passages_trimmed > 0
    unbudgeted.close()
    # the packaged model keeps prompts short by default, for a quick first token
    assert backend.prompt_budget == budget
    assert backend.prompt(request).tokens <= budget
    tight = LlamaCppBackend("gemma3-270m", n_ctx=N_CTX, max_prompt_tokens=300)
    assert tight.prompt(request).tokens <= 300
    completion = tight.complete(request)  # evaluating 300 tokens is quicker than 2,000
    assert completion.usage is not None and completion.usage.prompt_tokens <= 301  # + BOS
    tight.close()
    with pytest.raises(ContextLengthError):
        backend.complete(make_request(question="Why? " * 3000, passages=PASSWORD_PASSAGES, max_tokens=4))
    with pytest.raises(ContextLengthError):
        backend.complete(make_request(max_tokens=N_CTX))


def test_stop_sequences_from_settings(backend: Any) -> None:
    plain = backend.complete(make_request(passages=PASSWORD_PASSAGES, max_tokens=16)).text
    word = plain.split()[1] if len(plain.split()) > 1 else plain.strip()
    cut = backend.complete(make_request(passages=PASSWORD_PASSAGES, max_tokens=16, stop=(word,))).text
    assert word not in cut and plain.startswith(cut)


def test_chat_template_path(gemma_path: Path) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from grokassist.backends.llama_cpp import LlamaCppBackend

    # a separate load (other n_batch) so the shared model stays untouched
    with LlamaCppBackend(str(gemma_path), n_ctx=1024, n_batch=256) as be:
        loaded = be._loaded().model
        assert be.prompt(make_request()).text.endswith("Answer:")  # no template: completion style
        loaded.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}<assistant>"
        loaded._formatter = Jinja2ChatFormatter(loaded.chat_template, eos_token="<eos>", bos_token="<bos>")
        text = be.prompt(make_request(passages=PASSWORD_PASSAGES)).text
        assert text.startswith("<system>You are a customer-support assistant.") and text.endswith(
            "<assistant>"
        )
        assert "[1] Resetting your password" in text
        assert be.complete(make_request(passages=PASSWORD_PASSAGES, max_tokens=4)).usage is not None


@pytest.mark.slow
def test_the_default_model_is_a_verified_chat_model(tmp_path: Path) -> None:
    from grokassist.backends.llama_cpp import LlamaCppBackend, resolve_model_path
    from grokassist.backends.models import DEFAULT_MODEL, MODELS

    model = MODELS[DEFAULT_MODEL]
    if not model.available():
        pytest.skip(f"needs {model.install}")
    path = resolve_model_path("default", cache_dir=tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256
    with LlamaCppBackend("default", n_ctx=2048, cache_dir=tmp_path) as be:
        fitted = be.prompt(make_request(passages=PASSWORD_PASSAGES))
        assert fitted.stop == () and "[1] Resetting your password" in fitted.text  # its chat template
        completion = be.complete(make_request(passages=PASSWORD_PASSAGES, max_tokens=12))
    assert completion.text.strip() and completion.usage is not None


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from grokassist.backends.llama_cpp import default_model_dir

    monkeypatch.delenv("GROKASSIST_MODEL_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_model_dir() == tmp_path / "grokassist" / "models"
    monkeypatch.setenv("GROKASSIST_MODEL_DIR", str(tmp_path / "m"))
    assert default_model_dir() == tmp_path / "m"


def test_bad_model_file(tmp_path: Path) -> None:
    from grokassist.backends.llama_cpp import LlamaCppBackend

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf")
    backend = LlamaCppBackend(str(junk))
    with pytest.raises(ConfigurationError, match="cannot load"):
        backend.warm_up()


@pytest.mark.gpu
def test_offloads_to_the_gpu(gemma_path: Path) -> None:
    from grokassist.backends.llama_cpp import LlamaCppBackend

    with LlamaCppBackend("gemma3-270m", n_gpu_layers=-1, n_ctx=1024) as be:
        assert be.complete(make_request(passages=PASSWORD_PASSAGES, max_tokens=8)).text


def test_grammar_strings_exclude_control_characters() -> None:
    from grokassist.backends.llama_cpp import _grammar

    grammar = _grammar(json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}))
    rule = next(line for line in grammar._grammar.splitlines() if line.startswith("char ::="))
    assert rule.startswith(r'char ::= [^"\\\x7F\x00-\x1F] |')
