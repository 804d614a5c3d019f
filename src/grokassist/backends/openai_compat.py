"""A backend for any OpenAI-compatible ``/chat/completions`` API, over httpx.

One *model* (this API shape) serves many *providers* (where it lives, how it
authenticates): the presets name xAI's Grok API, vLLM, llama.cpp's server and
Ollama; ``openai:`` takes any base URL.

Streaming uses server-sent events; a server that answers a plain JSON
completion instead (some ignore ``stream``) is read as one. Tools in the
request's settings go out as the ``tools`` / ``tool_choice`` fields, and the
model's ``tool_calls`` (streamed as fragments, or whole in a JSON completion)
come back on the last chunk as :class:`~grokassist.types.ToolCall` s. Connection errors, 408, 429 (honouring
``Retry-After``) and 5xx are retried with exponential backoff and jitter, but
only until the first token has been streamed and only within ``timeout``,
which bounds the whole wait for an answer to start, retries included, and any
gap between streamed chunks. Failures become :mod:`grokassist.errors`:
:class:`BackendConnectionError`, :class:`BackendTimeoutError`,
:class:`BackendStatusError` / :class:`RateLimitError` (status, body,
``retry_after``), :class:`ContextLengthError`, or :class:`BackendError` for a
malformed stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import threading
import time
from collections.abc import AsyncGenerator, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .._http import retry_after as _retry_after
from ..errors import (
    BackendConnectionError,
    BackendError,
    BackendStatusError,
    BackendTimeoutError,
    ConfigurationError,
    ContextLengthError,
    RateLimitError,
)
from ..types import Chunk, ToolCall, Usage
from ._sse import SSEDecoder
from .base import ChatRequest, Completion, GenerationSettings, collect

__all__ = [
    "PRESETS",
    "OpenAICompatBackend",
    "OpenAICompatOptions",
    "Preset",
]

ResponseFormatMode = Literal["json_schema", "json_object", "none"]


@dataclass(frozen=True)
class Preset:
    """Where an OpenAI-compatible API lives and how it authenticates."""

    scheme: str
    base_url: str
    api_key_env: str | None = None
    key_required: bool = False
    model_required: bool = True
    default_model: str | None = None
    response_format: ResponseFormatMode = "json_schema"


PRESETS: dict[str, Preset] = {
    p.scheme: p
    for p in (
        Preset("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
        Preset("xai", "https://api.x.ai/v1", "XAI_API_KEY", key_required=True),
        Preset("vllm", "http://localhost:8000/v1", "VLLM_API_KEY"),
        Preset(
            "llama-server",
            "http://localhost:8080/v1",
            model_required=False,
            default_model="default",
            response_format="json_object",
        ),
        Preset("ollama", "http://localhost:11434/v1", "OLLAMA_API_KEY"),
    )
}

_RETRY_STATUSES = frozenset({408, 429})
_CONTEXT_HINTS = ("context length", "context_length", "maximum context", "context window", "too many tokens")


class OpenAICompatOptions(BaseModel):
    """Options of :class:`OpenAICompatBackend` (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    backoff: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=8.0, ge=0)
    response_format: ResponseFormatMode | None = None
    stream_usage: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    defaults: GenerationSettings = GenerationSettings()
    transport: httpx.BaseTransport | None = None
    async_transport: httpx.AsyncBaseTransport | None = None


def _env(*names: str | None) -> str | None:
    for name in names:
        if name and os.environ.get(name):
            return os.environ[name]
    return None


class OpenAICompatBackend:
    """Chat completions from an OpenAI-compatible server, sync and async.

    ``target`` is ``https://host/v1#model``, ``https://host/v1``, a bare model
    name, or empty. Explicit options win over the target, which wins over the
    environment (``GROKASSIST_<PRESET>_BASE_URL`` / ``_MODEL`` / ``_API_KEY``,
    then the vendor's key variable such as ``XAI_API_KEY``), which wins over
    the preset.
    """

    #: how :func:`grokassist.tools.choose_tool_call` asks this backend for a tool call
    tool_calling: Literal["native", "json_schema", "none"] = "native"

    def __init__(self, target: str = "", *, preset: str = "openai", **options: Any) -> None:
        if preset not in PRESETS:
            raise ConfigurationError(f"unknown OpenAI-compatible preset {preset!r}; known: {sorted(PRESETS)}")
        self.preset = PRESETS[preset]
        try:
            self.options = OpenAICompatOptions(**options)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid options for {preset}: backend:\n{exc}") from exc
        opts = self.options
        env_prefix = "GROKASSIST_" + preset.upper().replace("-", "_")
        target_url, target_model = _split_target(target)
        base_url = (
            opts.base_url or target_url or _env(f"{env_prefix}_BASE_URL") or self.preset.base_url
        ).rstrip("/")
        model = opts.model or target_model or _env(f"{env_prefix}_MODEL") or self.preset.default_model
        if not model:
            raise ConfigurationError(
                f"{preset}: backend needs a model: write {preset}:<base-url>#<model> or "
                f"{preset}:<model>, or set {env_prefix}_MODEL"
            )
        key = (
            opts.api_key.get_secret_value()
            if opts.api_key
            else _env(f"{env_prefix}_API_KEY", self.preset.api_key_env)
        )
        if self.preset.key_required and not key:
            raise ConfigurationError(
                f"{preset}: backend needs an API key: set {self.preset.api_key_env} (or {env_prefix}_API_KEY)"
            )
        self.base_url = base_url
        self.model = model
        self.url = f"{base_url}/chat/completions"
        self.name = f"{preset}:{base_url}#{model}"
        self.response_format: ResponseFormatMode = opts.response_format or self.preset.response_format
        self._headers = {"Accept": "text/event-stream", **opts.headers}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None
        self._aclient_loop: object = None
        self._lock = threading.Lock()

    # -- public API -----------------------------------------------------

    def stream(self, request: ChatRequest) -> Generator[Chunk, None, None]:
        """Stream the answer; closing the iterator closes the connection."""
        body = self.payload(request)
        deadline = time.monotonic() + self.options.timeout
        attempt = 0
        while True:
            started = False
            try:
                with self.client().stream(
                    "POST", self.url, json=body, headers=self._headers, timeout=self._timeout(deadline)
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise self._status_error(response)
                    state = _StreamState(self.name)
                    if _is_json(response):
                        response.read()
                        yield from state.whole(response.text)
                        return
                    for chunk in state.feed_lines(response.iter_lines()):
                        started = True
                        yield chunk
                    yield state.finish()
                    return
            except httpx.HTTPError as exc:
                error = self._translate(exc)
            except BackendError as exc:
                error = exc
            delay = self._retry_delay(error, attempt, started, deadline)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1

    async def astream(self, request: ChatRequest) -> AsyncGenerator[Chunk, None]:
        """Async twin of :meth:`stream`; ``aclose()`` closes the connection."""
        body = self.payload(request)
        deadline = time.monotonic() + self.options.timeout
        attempt = 0
        while True:
            started = False
            try:
                async with self.aclient().stream(
                    "POST", self.url, json=body, headers=self._headers, timeout=self._timeout(deadline)
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise self._status_error(response)
                    state = _StreamState(self.name)
                    if _is_json(response):
                        await response.aread()
                        for whole in state.whole(response.text):
                            yield whole
                        return
                    async for line in response.aiter_lines():
                        chunk = state.feed_line(line)
                        if chunk is not None:
                            started = True
                            yield chunk
                        if state.done:
                            break
                    yield state.finish()
                    return
            except httpx.HTTPError as exc:
                error = self._translate(exc)
            except BackendError as exc:
                error = exc
            delay = self._retry_delay(error, attempt, started, deadline)
            if delay is None:
                raise error
            await anyio.sleep(delay)
            attempt += 1

    def complete(self, request: ChatRequest) -> Completion:
        """Generate the whole answer."""
        return collect(self.stream(request))

    async def acomplete(self, request: ChatRequest) -> Completion:
        """Async twin of :meth:`complete`."""
        return collect([chunk async for chunk in self.astream(request)])

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent for ``request`` (settings merged over the defaults)."""
        settings = request.settings.merged_over(self.options.defaults)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": True,
        }
        if settings.max_tokens is not None:
            body["max_tokens"] = settings.max_tokens
        if settings.temperature is not None:
            body["temperature"] = settings.temperature
        if settings.top_p is not None:
            body["top_p"] = settings.top_p
        if settings.stop:
            body["stop"] = list(settings.stop)
        if settings.seed is not None:
            body["seed"] = settings.seed
        if self.options.stream_usage:
            body["stream_options"] = {"include_usage": True}
        if settings.json_schema is not None and self.response_format != "none":
            body["response_format"] = _response_format(settings.json_schema, self.response_format)
        if settings.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in settings.tools
            ]
            if settings.tool_choice in (None, "auto", "required", "none"):
                body["tool_choice"] = settings.tool_choice or "auto"
            else:
                body["tool_choice"] = {"type": "function", "function": {"name": settings.tool_choice}}
        body.update(self.options.extra_body)
        return body

    def client(self) -> httpx.Client:
        """The shared sync client, created on first use."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(transport=self.options.transport, follow_redirects=True)
            return self._client

    def aclient(self) -> httpx.AsyncClient:
        """The async client of the running event loop, created on first use there."""
        try:
            loop: object = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio): one client
            loop = None
        if self._aclient is None or self._aclient_loop is not loop:
            # a client's connections belong to the loop that opened them
            self._aclient = httpx.AsyncClient(transport=self.options.async_transport, follow_redirects=True)
            self._aclient_loop = loop
        return self._aclient

    def close(self) -> None:
        """Close the sync client (an async client needs :meth:`aclose`)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close both clients."""
        self.close()
        aclient, self._aclient = self._aclient, None
        if aclient is not None:
            await aclient.aclose()

    def __enter__(self) -> OpenAICompatBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> OpenAICompatBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"OpenAICompatBackend({self.name!r})"

    # -- internals ------------------------------------------------------

    def _timeout(self, deadline: float) -> httpx.Timeout:
        remaining = max(deadline - time.monotonic(), 0.001)
        return httpx.Timeout(remaining, connect=min(self.options.connect_timeout, remaining))

    def _translate(self, exc: httpx.HTTPError) -> BackendError:
        error: BackendError
        if isinstance(exc, httpx.ConnectTimeout):
            error = BackendConnectionError(f"timed out connecting to {self.base_url}", backend=self.name)
        elif isinstance(exc, httpx.ConnectError):
            error = BackendConnectionError(f"cannot connect to {self.base_url}: {exc}", backend=self.name)
        elif isinstance(exc, httpx.TimeoutException):
            error = BackendTimeoutError(
                f"{self.base_url} did not answer within {self.options.timeout:g}s", backend=self.name
            )
        elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            error = BackendConnectionError(f"connection to {self.base_url} dropped: {exc}", backend=self.name)
        else:
            error = BackendError(f"request to {self.base_url} failed: {exc!r}", backend=self.name)
        error.__cause__ = exc
        return error

    def _status_error(self, response: httpx.Response) -> BackendError:
        status = response.status_code
        body = response.text
        if status == 400 and any(hint in body.lower() for hint in _CONTEXT_HINTS):
            return ContextLengthError(f"{self.name}: the prompt is too long: {body[:500]}", backend=self.name)
        retry_after = _retry_after(response.headers)
        cls = RateLimitError if status == 429 else BackendStatusError
        return cls(
            f"{self.name} answered an error",
            status_code=status,
            body=body,
            retry_after=retry_after,
            backend=self.name,
        )

    def _retry_delay(self, error: BackendError, attempt: int, started: bool, deadline: float) -> float | None:
        """Seconds to wait before retrying, or ``None`` to give up and raise."""
        if started or attempt >= self.options.max_retries:
            return None
        if isinstance(error, BackendStatusError):
            if not (error.status_code in _RETRY_STATUSES or error.status_code >= 500):
                return None
        elif not isinstance(error, (BackendConnectionError, BackendTimeoutError)):
            return None
        retry_after = error.retry_after if isinstance(error, BackendStatusError) else None
        if retry_after is not None:
            delay = retry_after
        else:
            ceiling = min(self.options.backoff * 2**attempt, self.options.backoff_max)
            delay = ceiling * (0.5 + random.random() / 2)  # equal jitter
        if time.monotonic() + delay >= deadline:
            return None
        return delay


def _split_target(target: str) -> tuple[str | None, str | None]:
    """``https://host/v1#model`` -> (url, model); a bare name is a model."""
    target = target.strip()
    if not target:
        return None, None
    url, _, model = target.partition("#")
    if "://" in url:
        return url, model or None
    return None, target


def _response_format(schema: dict[str, Any], mode: ResponseFormatMode) -> dict[str, Any]:
    if mode == "json_object":
        # llama.cpp's servers (C++ and llama-cpp-python) accept a schema here
        return {"type": "json_object", "schema": schema}
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "response"))[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def _is_json(response: httpx.Response) -> bool:
    kind = str(response.headers.get("content-type", ""))
    return kind.split(";")[0].strip().lower() == "application/json"


def _tool_call(name: str, raw: str, call_id: str) -> ToolCall:
    """A :class:`ToolCall` from the model's argument text; unparsable text is kept, not guessed."""
    arguments: dict[str, Any] = {}
    try:
        decoded = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict):
        arguments = decoded
    return ToolCall(name=name, arguments=arguments, id=call_id, raw_arguments=raw)


class _StreamState:
    """Turns SSE lines of a chat-completions stream into :class:`Chunk` s."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.decoder = SSEDecoder()
        self.done = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        # streamed tool calls by index: [id, name, argument text so far]
        self.calls: dict[int, list[str]] = {}

    def whole(self, body: str) -> Iterator[Chunk]:
        """Chunks of a non-streamed chat completion (``{"choices": [{"message": ...}]}``)."""
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as exc:
            raise BackendError(f"malformed completion: {body[:200]!r}", backend=self.backend) from exc
        if not isinstance(payload, dict) or "error" in payload:
            raise BackendError(f"the server reported an error: {body[:500]}", backend=self.backend)
        self._usage(payload)
        text = ""
        for choice in payload.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            message = choice.get("message") or {}
            if isinstance(message, dict):
                if isinstance(message.get("content"), str):
                    text += message["content"]
                self._add_calls(message.get("tool_calls"), whole=True)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        self.done = True
        if text:
            yield Chunk(text=text)
        yield self.finish()

    def _add_calls(self, calls: Any, *, whole: bool = False) -> None:
        for position, call in enumerate(calls if isinstance(calls, list) else ()):
            if not isinstance(call, dict):
                continue
            index = call.get("index", position)
            index = index if isinstance(index, int) else position
            entry = self.calls.setdefault(index, ["", "", ""])
            function = call.get("function") or {}
            if isinstance(call.get("id"), str) and call["id"]:
                entry[0] = call["id"]
            if isinstance(function, dict):
                if isinstance(function.get("name"), str) and function["name"]:
                    entry[1] = function["name"] if whole else entry[1] + function["name"]
                arguments = function.get("arguments")
                if isinstance(arguments, dict):  # some servers send an object, not its text
                    arguments = json.dumps(arguments)
                if isinstance(arguments, str):
                    entry[2] = arguments if whole else entry[2] + arguments

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            _tool_call(name, raw, call_id) for _, (call_id, name, raw) in sorted(self.calls.items()) if name
        )

    def feed_lines(self, lines: Iterable[str]) -> Iterator[Chunk]:
        for line in lines:
            chunk = self.feed_line(line)
            if chunk is not None:
                yield chunk
            if self.done:
                return

    def feed_line(self, line: str) -> Chunk | None:
        event = self.decoder.decode(line)
        return None if event is None else self._on_data(event.data)

    def finish(self) -> Chunk:
        """The final chunk; raises if the stream was cut short."""
        if not self.done:
            pending = self.decoder.flush()
            if pending is not None and pending.data.strip() == "[DONE]":
                self.done = True
        if not self.done and self.finish_reason is None:
            raise BackendConnectionError(
                "the stream ended before the answer was complete (connection dropped?)", backend=self.backend
            )
        return Chunk(
            finish_reason=self.finish_reason or "stop", usage=self.usage, tool_calls=self.tool_calls()
        )

    def _on_data(self, data: str) -> Chunk | None:
        data = data.strip()
        if not data:
            return None
        if data == "[DONE]":
            self.done = True
            return None
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise BackendError(f"malformed server-sent event: {data[:200]!r}", backend=self.backend) from exc
        if not isinstance(payload, dict):
            raise BackendError(f"malformed server-sent event: {data[:200]!r}", backend=self.backend)
        if "error" in payload:
            raise BackendError(
                f"the server reported an error mid-stream: {payload['error']}", backend=self.backend
            )
        self._usage(payload)
        text = ""
        for choice in payload.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str):
                text += content
            if isinstance(delta, dict):
                self._add_calls(delta.get("tool_calls"))
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return Chunk(text=text) if text else None

    def _usage(self, payload: dict[str, Any]) -> None:
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self.usage = Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )


def _preset_factory(preset: str) -> Any:
    def factory(target: str = "", **options: Any) -> OpenAICompatBackend:
        return OpenAICompatBackend(target, preset=preset, **options)

    factory.__name__ = factory.__qualname__ = f"{preset.replace('-', '_')}_backend"
    factory.__doc__ = f"``{preset}:`` backend URI: an OpenAI-compatible backend with the {preset} preset."
    return factory


openai_backend = _preset_factory("openai")
xai_backend = _preset_factory("xai")
vllm_backend = _preset_factory("vllm")
llama_server_backend = _preset_factory("llama-server")
ollama_backend = _preset_factory("ollama")
