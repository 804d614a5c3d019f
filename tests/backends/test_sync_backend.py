"""SyncBackend's async twin: cancelling the consumer closes the sync stream (and frees what it holds)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from grokassist.backends.base import ChatRequest, SyncBackend
from grokassist.testing import StreamProbe
from grokassist.types import Chunk, Message

REQUEST = ChatRequest(messages=(Message(role="user", content="hi"),))


class Slow(SyncBackend):
    """Holds a lock while it streams, like llama.cpp's model lock; 50 ms a token."""

    name = "slow"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed = 0

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        with self.lock:
            try:
                for i in range(100):
                    time.sleep(0.05)
                    yield Chunk(text=f"t{i} ")
            finally:
                self.closed += 1


async def _consume(backend: SyncBackend, seen: list[str]) -> None:
    async for chunk in backend.astream(REQUEST):
        seen.append(chunk.text)


def test_cancelling_mid_token_closes_the_stream_and_releases_its_lock() -> None:
    async def scenario() -> tuple[Slow, list[str], float]:
        backend = Slow()
        seen: list[str] = []
        task = asyncio.create_task(_consume(backend, seen))
        await asyncio.sleep(0.32)  # in the middle of a token
        cancelled = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        returned = time.monotonic() - cancelled
        # the next stream can take the lock: the first one was closed, not left suspended
        again: list[str] = []
        nxt = asyncio.create_task(_consume(backend, again))
        await asyncio.sleep(0.2)
        nxt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await nxt
        assert again, "the second stream never got the lock"
        return backend, seen, returned

    backend, seen, returned = asyncio.run(scenario())
    assert 4 <= len(seen) <= 7 and backend.closed == 2
    assert returned < 0.2  # cancelling waits at most for the token in flight


def test_stream_probe_records_the_close() -> None:
    probe = StreamProbe(Slow())

    async def scenario() -> None:
        task = asyncio.create_task(_consume(probe, []))
        await asyncio.sleep(0.22)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    record = probe.streams[0]
    assert record["closed"] is not None and not record["done"]
    assert all(t <= record["closed"] for t in record["chunks"])  # type: ignore[union-attr,operator]
