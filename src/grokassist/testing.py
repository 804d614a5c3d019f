"""Test helpers for grokassist and its plugins: a scripted fake backend and
conformance checks that every backend implementation should pass.

>>> from grokassist.testing import FakeBackend
>>> backend = FakeBackend(["Restart the router [1]."])
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

from .backends.base import ChatBackend, ChatRequest, GenerationSettings, SyncBackend, collect
from .errors import BackendError
from .types import Chunk, Usage

__all__ = ["FakeBackend", "check_backend_conformance", "check_backend_conformance_async"]


class FakeBackend(SyncBackend):
    """A scripted backend: replies come from a list (cycled) or a function.

    ``fail`` makes it raise the given error before (``fail_after=0``) or after
    ``fail_after`` streamed pieces. Every request is recorded in ``requests``.
    """

    name = "fake"

    def __init__(
        self,
        replies: Sequence[str] | Callable[[ChatRequest], str] | str = ("I can help with that [1].",),
        *,
        fail: BackendError | None = None,
        fail_after: int = 0,
        name: str = "fake",
        **_: object,
    ) -> None:
        if isinstance(replies, str):
            replies = (replies,) if replies else ("I can help with that [1].",)
        self._replies = replies
        self.fail = fail
        self.fail_after = fail_after
        self.name = name
        self.defaults = GenerationSettings()
        self.requests: list[ChatRequest] = []
        self.closed = False
        self._lock = threading.Lock()
        self._count = 0

    def _reply(self, request: ChatRequest) -> str:
        if callable(self._replies):
            return self._replies(request)
        with self._lock:
            text = self._replies[self._count % len(self._replies)]
            self._count += 1
        return text

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        self.requests.append(request)
        if self.fail is not None and self.fail_after == 0:
            raise self.fail
        words = self._reply(request).split(" ")
        for i, word in enumerate(words):
            if self.fail is not None and i == self.fail_after:
                raise self.fail
            yield Chunk(text=word if i == 0 else " " + word)
        yield Chunk(finish_reason="stop", usage=Usage(prompt_tokens=0, completion_tokens=len(words)))

    def close(self) -> None:
        self.closed = True


def _request() -> ChatRequest:
    from .types import Message, Passage, ScoredPassage

    passage = Passage(
        id="d#0", doc_id="d", text="Restart the router by unplugging it for 30 seconds.", title="Router"
    )
    return ChatRequest(
        messages=(Message(role="user", content="How do I restart the router?"),),
        question="How do I restart the router?",
        passages=(ScoredPassage(passage=passage, score=1.0, dense_score=0.8),),
        settings=GenerationSettings(max_tokens=16, temperature=0.0),
    )


def check_backend_conformance(backend: ChatBackend, request: ChatRequest | None = None) -> None:
    """Assert that ``backend`` honours the :class:`ChatBackend` contract (sync side)."""
    assert isinstance(backend, ChatBackend), "does not satisfy the ChatBackend protocol"
    assert isinstance(backend.name, str) and backend.name
    req = request or _request()
    chunks = list(backend.stream(req))
    assert chunks, "stream yielded nothing"
    assert all(isinstance(c, Chunk) for c in chunks)
    assert collect(chunks).text.strip(), "stream produced no text"
    # cancelling: closing the iterator after the first piece must not raise
    it = iter(backend.stream(req))
    next(it)
    close = getattr(it, "close", None)
    if close is not None:
        close()


async def check_backend_conformance_async(backend: ChatBackend, request: ChatRequest | None = None) -> None:
    """Assert the async side of the :class:`ChatBackend` contract."""
    req = request or _request()
    stream: AsyncIterator[Chunk] = backend.astream(req)
    chunks = [c async for c in stream]
    assert chunks and collect(chunks).text.strip(), "astream produced no text"
