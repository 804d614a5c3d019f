"""The :class:`ChatBackend` protocol and what every backend shares.

A backend turns a :class:`ChatRequest` into a stream of :class:`Chunk` s.
Streaming is the primitive: ``complete`` collects a stream. Sync-native
backends (llama.cpp, ONNX) subclass :class:`SyncBackend`, whose async twin runs
the sync stream in a worker thread; network backends implement both sides.

Cancelling a stream is closing its iterator (``it.close()`` / ``await
it.aclose()``), which the robot runtime uses for barge-in.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Protocol, Self, runtime_checkable

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict

from ..types import ChatRequest, Chunk, GenerationSettings, Usage

__all__ = [
    "ChatBackend",
    "ChatRequest",
    "Completion",
    "GenerationSettings",
    "SyncBackend",
    "collect",
]


class Completion(BaseModel):
    """A collected stream."""

    model_config = ConfigDict(frozen=True)

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None


@runtime_checkable
class ChatBackend(Protocol):
    """A model backend. Third parties implement this without importing a base."""

    name: str

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        """Yield the answer piece by piece."""
        ...

    def astream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Async twin of :meth:`stream`."""
        ...

    def close(self) -> None:
        """Release resources (models, connections)."""
        ...

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        ...


def collect(chunks: Iterator[Chunk] | Sequence[Chunk]) -> Completion:
    """Collect a stream of chunks into a :class:`Completion`."""
    parts: list[str] = []
    finish: str | None = None
    usage: Usage | None = None
    for chunk in chunks:
        parts.append(chunk.text)
        finish = chunk.finish_reason or finish
        usage = chunk.usage or usage
    return Completion(text="".join(parts), finish_reason=finish, usage=usage)


class SyncBackend:
    """Base for sync-native backends: the async twin runs in a worker thread.

    Subclasses implement :meth:`stream` (and :meth:`close` when they hold
    resources). Each pulled chunk is produced by a worker thread, so the event
    loop is never blocked; closing the async iterator closes the sync one.
    Cancelling the consuming task returns at once; the sync iterator is then
    closed as soon as the chunk being produced is done (a lock orders the two:
    closing a generator while a thread runs it would fail and leave it open,
    holding whatever it holds, such as llama.cpp's model lock).
    """

    name: str = "sync"

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:  # pragma: no cover - abstract
        raise NotImplementedError

    def complete(self, request: ChatRequest) -> Completion:
        """Generate the whole answer."""
        return collect(self.stream(request))

    async def acomplete(self, request: ChatRequest) -> Completion:
        """Async twin of :meth:`complete`."""
        parts: list[Chunk] = [c async for c in self.astream(request)]
        return collect(parts)

    async def astream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        iterator = self.stream(request)
        sentinel = object()
        turn = threading.Lock()  # a pull in flight finishes before the close

        def pull() -> Any:
            with turn:
                return next(iterator, sentinel)

        def close() -> None:
            with turn:
                closer = getattr(iterator, "close", None)
                if closer is not None:
                    closer()

        try:
            while True:
                item = await anyio.to_thread.run_sync(pull, abandon_on_cancel=True)
                if item is sentinel:
                    return
                yield item
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
