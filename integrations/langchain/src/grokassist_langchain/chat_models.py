"""ChatGrokAssist: a LangChain chat model over any grokassist backend, grounded in a knowledge base."""

from __future__ import annotations

import atexit
import contextlib
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from grokassist.stores.memory import SessionStore
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from grokassist import Answer, Assistant, ChatBackend, ChatRequest, GenerationSettings, KnowledgeBase, Message
from grokassist.backends.registry import parse_backend_chain, split_backend_chain, split_uri
from grokassist.errors import BackendError, ConfigurationError
from grokassist.types import Usage

from ._kb import open_knowledge_base

__all__ = ["ChatGrokAssist"]

#: Schemes whose backends take ``api_key``, ``timeout`` and ``max_retries`` options.
_HTTP_SCHEMES = ("openai", "xai", "vllm", "llama-server", "ollama")

#: Backends created by chat models not yet closed. A backend is closed with its chat model
#: (when it is garbage-collected) or at exit: a llama.cpp model left to the interpreter's
#: teardown fails in its destructor.
_OPEN: weakref.WeakSet[ChatBackend] = weakref.WeakSet()


def _close(backends: list[ChatBackend]) -> None:
    for backend in backends:
        with contextlib.suppress(Exception):  # closing at exit or in a finalizer: nobody to tell
            backend.close()
        _OPEN.discard(backend)


@atexit.register
def _close_backends() -> None:
    _close(list(_OPEN))


class ChatGrokAssist(BaseChatModel):
    """A chat model over a grokassist backend URI, grounded in a knowledge base when given one.

    ``model`` (alias ``backend``) is any backend URI or fallback chain
    (``"llama-cpp:default"``, ``"openai:https://host/v1#model"``, ``"extractive:"``, ``"auto"``).

    With ``kb`` (a :class:`~grokassist.KnowledgeBase` or the name of one; ``sources`` are
    synced into it on first use) every reply is a support answer: retrieved from the
    knowledge base, cited, abstaining when the docs do not cover the question. The last
    human message is the question, the earlier turns the conversation; the citations,
    confidence, abstention and suggested actions are in ``response_metadata``. Without
    ``kb`` the messages go to the backend as they are (a model-free backend such as
    ``extractive:`` then has nothing to answer from, and is refused).

    Streaming is native (``stream``/``astream``); a ``model=`` keyword at call time picks
    another backend URI for that call.

    >>> chat = ChatGrokAssist(backend="extractive:", kb="starlink")        # doctest: +SKIP
    >>> reply = chat.invoke("How do I fix an obstruction?")                # doctest: +SKIP
    >>> reply.response_metadata["citations"][0]["source"]                   # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    model: str = Field(default="auto", alias="backend")
    kb: KnowledgeBase | str | None = None
    data_dir: str | None = None
    sources: list[str] = Field(default_factory=list)
    filters: dict[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    timeout: float | None = None
    max_retries: int | None = None
    api_key: SecretStr | None = None
    streaming: bool = False

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _base: KnowledgeBase | None = PrivateAttr(default=None)
    _assistants: dict[str, Assistant] = PrivateAttr(default_factory=dict)
    _chains: dict[str, list[ChatBackend]] = PrivateAttr(default_factory=dict)
    _sessions: SessionStore = PrivateAttr(default_factory=SessionStore)

    @property
    def _llm_type(self) -> str:
        return "grokassist"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "kb": self.kb if isinstance(self.kb, str) else getattr(self.kb, "name", None),
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="grokassist",
            ls_model_name=str(kwargs.get("model") or self.model),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop or [])
        return params

    # -- the grokassist side, created on first use ----------------------------------------

    def _knowledge_base(self) -> KnowledgeBase | None:
        if self.kb is None and not self.sources:
            return None
        with self._lock:
            if self._base is None:
                self._base = open_knowledge_base(self.kb, data_dir=self.data_dir, sources=self.sources)
            return self._base

    def _backend_options(self) -> dict[str, dict[str, Any]]:
        http: dict[str, Any] = {}
        if self.api_key is not None:
            http["api_key"] = self.api_key
        if self.timeout is not None:
            http["timeout"] = self.timeout
        if self.max_retries is not None:
            http["max_retries"] = self.max_retries
        return {scheme: http for scheme in _HTTP_SCHEMES} if http else {}

    def _chain(self, spec: str) -> list[ChatBackend]:
        with self._lock:
            chain = self._chains.get(spec)
            if chain is None:
                chain = parse_backend_chain(spec, options=self._backend_options())
                self._chains[spec] = chain
                _OPEN.update(chain)
                weakref.finalize(self, _close, list(chain))
            return chain

    def _assistant(self, spec: str, base: KnowledgeBase) -> Assistant:
        chain = self._chain(spec)
        with self._lock:
            assistant = self._assistants.get(spec)
            if assistant is None:
                assistant = Assistant(base, backend=chain, sessions=self._sessions)
                self._assistants[spec] = assistant
            return assistant

    def _settings(self, stop: list[str] | None, kwargs: dict[str, Any]) -> GenerationSettings:
        stops = stop if stop is not None else kwargs.get("stop", self.stop)
        return GenerationSettings(
            max_tokens=kwargs.get("max_tokens", self.max_tokens),
            temperature=kwargs.get("temperature", self.temperature),
            stop=tuple(stops) if stops else None,
        )

    # -- streaming: the primitive -----------------------------------------------------------

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        spec = str(kwargs.get("model") or self.model)
        settings = self._settings(stop, kwargs)
        base = self._knowledge_base()
        if base is not None:
            history, question = _conversation(messages)
            session = self._start_session(history)
            try:
                assistant = self._assistant(spec, base)
                filters = kwargs.get("filters", self.filters)
                for item in assistant.stream(question, session=session, filters=filters, settings=settings):
                    if isinstance(item, Answer):
                        yield self._last(spec, item.backend, item.usage, _answer_metadata(item))
                    elif item:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=item))
                        if run_manager:
                            run_manager.on_llm_new_token(item, chunk=chunk)
                        yield chunk
            finally:
                self._sessions.clear(session)
            return
        request = self._raw_request(messages, settings)
        errors: list[str] = []
        for backend in self._chain(spec):
            started = False
            usage: Usage | None = None
            try:
                for piece in backend.stream(request):
                    if piece.usage is not None:
                        usage = piece.usage
                    if piece.text:
                        started = True
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece.text))
                        if run_manager:
                            run_manager.on_llm_new_token(piece.text, chunk=chunk)
                        yield chunk
            except BackendError as exc:
                if started:
                    raise
                errors.append(f"{backend.name}: {exc}")
                continue
            if not started:
                errors.append(f"{backend.name}: produced no text")
                continue
            yield self._last(spec, backend.name, usage, {})
            return
        raise BackendError("every backend failed: " + "; ".join(errors))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        spec = str(kwargs.get("model") or self.model)
        settings = self._settings(stop, kwargs)
        base = self._knowledge_base()
        if base is not None:
            history, question = _conversation(messages)
            session = self._start_session(history)
            try:
                assistant = self._assistant(spec, base)
                filters = kwargs.get("filters", self.filters)
                stream = assistant.astream(question, session=session, filters=filters, settings=settings)
                async for item in stream:
                    if isinstance(item, Answer):
                        yield self._last(spec, item.backend, item.usage, _answer_metadata(item))
                    elif item:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=item))
                        if run_manager:
                            await run_manager.on_llm_new_token(item, chunk=chunk)
                        yield chunk
            finally:
                self._sessions.clear(session)
            return
        request = self._raw_request(messages, settings)
        errors: list[str] = []
        for backend in self._chain(spec):
            started = False
            usage: Usage | None = None
            try:
                async for piece in backend.astream(request):
                    if piece.usage is not None:
                        usage = piece.usage
                    if piece.text:
                        started = True
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece.text))
                        if run_manager:
                            await run_manager.on_llm_new_token(piece.text, chunk=chunk)
                        yield chunk
            except BackendError as exc:
                if started:
                    raise
                errors.append(f"{backend.name}: {exc}")
                continue
            if not started:
                errors.append(f"{backend.name}: produced no text")
                continue
            yield self._last(spec, backend.name, usage, {})
            return
        raise BackendError("every backend failed: " + "; ".join(errors))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return _collect(list(self._stream(messages, stop=stop, run_manager=run_manager, **kwargs)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks = [c async for c in self._astream(messages, stop=stop, run_manager=run_manager, **kwargs)]
        return _collect(chunks)

    def close(self) -> None:
        """Release the backends this model created (a loaded local model, HTTP clients)."""
        with self._lock:
            chains, self._chains, self._assistants = list(self._chains.values()), {}, {}
        for chain in chains:
            _close(chain)

    # -- helpers ----------------------------------------------------------------------------

    def _start_session(self, history: Sequence[Message]) -> str:
        session = uuid.uuid4().hex
        if history:
            self._sessions.append(session, *history)
        return session

    def _raw_request(self, messages: list[BaseMessage], settings: GenerationSettings) -> ChatRequest:
        converted = _merge([_message(m) for m in messages])
        if not converted:
            raise ConfigurationError("no messages to answer")
        if all(split_uri(uri)[0] == "extractive" for uri in split_backend_chain(self.model)):
            raise ConfigurationError(
                "the extractive backend answers only from a knowledge base: give ChatGrokAssist a kb"
            )
        # no question and no passages: backends take the messages as a conversation to continue
        return ChatRequest(messages=tuple(converted), settings=settings)

    def _last(
        self, spec: str, backend: str, usage: Usage | None, metadata: dict[str, Any]
    ) -> ChatGenerationChunk:
        """The closing chunk: no text, the response metadata and the token counts."""
        prompt = usage.prompt_tokens if usage is not None else 0
        completion = usage.completion_tokens if usage is not None else 0
        message = AIMessageChunk(
            content="",
            chunk_position="last",
            response_metadata={
                "model_name": spec,
                "model_provider": "grokassist",
                "backend": backend,
                **metadata,
            },
            usage_metadata=UsageMetadata(
                input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion
            ),
        )
        return ChatGenerationChunk(message=message, generation_info={"finish_reason": "stop"})


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else str(message.content)


def _message(message: BaseMessage) -> Message:
    if isinstance(message, SystemMessage):
        return Message(role="system", content=_text(message))
    if isinstance(message, AIMessage):
        return Message(role="assistant", content=_text(message))
    return Message(role="user", content=_text(message))  # human, tool and other messages


def _merge(messages: list[Message]) -> list[Message]:
    """Consecutive messages of one role joined: chat templates expect turns to alternate."""
    out: list[Message] = []
    for message in messages:
        if out and out[-1].role == message.role:
            out[-1] = Message(role=message.role, content=f"{out[-1].content}\n\n{message.content}")
        else:
            out.append(message)
    return out


def _conversation(messages: list[BaseMessage]) -> tuple[list[Message], str]:
    """The earlier user and assistant turns, and the question (the last human message)."""
    turns = [m for m in messages if not isinstance(m, SystemMessage)]
    last = max((i for i, m in enumerate(turns) if isinstance(m, HumanMessage)), default=len(turns) - 1)
    if last < 0:
        raise ConfigurationError("no question: give ChatGrokAssist at least one human message")
    history = _merge([_message(m) for m in turns[:last]])
    return history, _text(turns[last])


def _answer_metadata(answer: Answer) -> dict[str, Any]:
    data = answer.model_dump(mode="json")
    return {
        "citations": data["citations"],
        "confidence": data["confidence"],
        "abstained": data["abstained"],
        "actions": data["actions"],
        "query": data["query"],
    }


def _collect(chunks: list[ChatGenerationChunk]) -> ChatResult:
    if not chunks:
        raise BackendError("the backend produced nothing")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    message = total.message
    response = AIMessage(
        content=message.content,
        response_metadata=message.response_metadata,
        usage_metadata=getattr(message, "usage_metadata", None),
        id=message.id,
    )
    return ChatResult(generations=[ChatGeneration(message=response, generation_info=total.generation_info)])
