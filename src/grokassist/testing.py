"""Test helpers for grokassist and its plugins: a scripted fake backend and
conformance checks that every backend and server store implementation should pass.

>>> from grokassist.testing import FakeBackend
>>> backend = FakeBackend(["Restart the router [1]."])
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from .backends.base import ChatBackend, ChatRequest, GenerationSettings, SyncBackend, collect
from .errors import BackendError
from .types import Answer, Chunk, Message, Usage

if TYPE_CHECKING:
    from .server.store import ServerStore

__all__ = [
    "FakeBackend",
    "StreamProbe",
    "check_backend_conformance",
    "check_backend_conformance_async",
    "check_server_store_conformance",
]


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


class StreamProbe(SyncBackend):
    """Wraps a backend and records, per stream, each chunk's time and when the stream was closed.

    Used to check that cancelling an answer really stops generation (the robot's
    barge-in): after ``close``, no chunk may be produced. Works for sync-native
    backends (llama.cpp, ONNX) and any backend with a ``stream`` method.
    """

    def __init__(self, inner: ChatBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.streams: list[dict[str, object]] = []

    def __getattr__(self, name: str) -> object:  # warm_up, tool_calling, prompt...
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("inner", "name", "streams"):
            object.__setattr__(self, name, value)
        else:  # options such as prompt_budget belong to the wrapped backend
            setattr(self.inner, name, value)

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        record: dict[str, object] = {"started": time.monotonic(), "chunks": [], "closed": None, "done": False}
        self.streams.append(record)
        chunks: list[float] = record["chunks"]  # type: ignore[assignment]
        inner = iter(self.inner.stream(request))
        try:
            for chunk in inner:
                chunks.append(time.monotonic())
                yield chunk
            record["done"] = True
        finally:
            close = getattr(inner, "close", None)
            if close is not None:
                close()
            record["closed"] = time.monotonic()

    def close(self) -> None:
        self.inner.close()


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


def check_server_store_conformance(
    make_store: Callable[..., ServerStore], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Assert that a server store honours the :class:`~grokassist.server.store.ServerStore` contract.

    ``make_store(ttl_s=..., max_sessions=..., max_messages=...)`` must return a new, empty
    store; this closes the stores it makes. Takes about a second (session expiry is real time).
    """

    def user(text: str) -> Message:
        return Message(role="user", content=text)

    def contents(messages: list[Message]) -> list[str]:
        return [m.content for m in messages]

    # conversation history: isolated, bounded in length, least recently used evicted
    store = make_store(ttl_s=3600.0, max_sessions=2, max_messages=3)
    try:
        history = store.conversations
        for i in range(5):
            history.append("a", user(f"a{i}"))
        history.append("b", user("b0"), Message(role="assistant", content="b1"))
        assert contents(history.history("a")) == ["a2", "a3", "a4"], "history is not bounded"
        assert contents(history.history("b")) == ["b0", "b1"]
        assert history.history("b")[1].role == "assistant"
        history.history("a")  # touch a: b becomes the least recently used
        history.append("c", user("c0"))
        assert "b" not in history and "a" in history and len(history) == 2, "not least recently used"
        assert history.history("unknown") == []
        history.clear("a")
        assert history.history("a") == [] and "a" not in history

        # ownership: only the owner may use a session; dropping forgets its history
        sid = store.create_session("key:a")
        assert len(sid) >= 43 and sid != store.create_session("key:a")
        assert store.owns_session(sid, "key:a")
        assert not store.owns_session(sid, "key:b") and not store.owns_session("made-up", "key:a")
        history.append(sid, user("hello"))
        store.drop_session(sid)
        assert not store.owns_session(sid, "key:a") and history.history(sid) == []

        # the oldest sessions are evicted past max_sessions, with their history
        first = store.create_session("key:a")
        history.append(first, user("first"))
        for _ in range(2):
            store.create_session("key:a")
        assert not store.owns_session(first, "key:a"), "sessions past max_sessions are kept"
        assert history.history(first) == []

        # answers, feedback
        answer = Answer(text="Hold the button [1].", confidence=0.9, question="How?", session_id="s")
        answer_id = store.add_answer("key:a", answer)
        assert store.answer_owner(answer_id) == "key:a" and store.answer_owner("ans_unknown") is None
        assert store.feedback(answer_id) is None
        store.set_feedback(answer_id, "key:a", False, "too short")
        store.set_feedback(answer_id, "key:a", True, "thanks")
        rated = store.feedback(answer_id)
        assert rated is not None and rated["helpful"] is True and rated["comment"] == "thanks"
        assert rated["answer_id"] == answer_id and rated["question"] == "How?"
        assert rated["text"] == answer.text and rated["answer"]["confidence"] == 0.9
        store.set_feedback("ans_unknown", "key:a", True, "")
        assert store.feedback("ans_unknown") is None

        # the escalation outbox
        transcript = [user("my router is broken"), Message(role="assistant", content="Sorry.")]
        first_id = store.add_escalation(
            "key:a", transcript, session_id="s", answer_id=answer_id, reason="human", contact="a@b.c"
        )
        second_id = store.add_escalation(
            "ip:1.2.3.4", [], session_id=None, answer_id=None, reason="", contact=""
        )
        assert [e.id for e in store.pending_escalations()] == [first_id, second_id]
        assert [e.id for e in store.pending_escalations(limit=1)] == [first_id]
        found = store.escalation(first_id)
        assert found is not None and found.transcript == transcript and found.contact == "a@b.c"
        assert found.session_id == "s" and found.answer_id == answer_id and found.status == "pending"
        store.mark_escalation(first_id, "delivered", ref="T-42")
        assert [e.id for e in store.pending_escalations()] == [second_id]
        delivered = store.escalation(first_id)
        assert delivered is not None and delivered.status == "delivered" and delivered.delivered_ref == "T-42"
        assert store.escalation("esc_unknown") is None

        # rate limits: a burst, then a wait of about 1/rate
        limiter = store.rate_limiter(0.5, 2)
        assert [limiter.acquire("client") for _ in range(2)] == [0.0, 0.0]
        assert 1.0 < limiter.acquire("client") <= 2.0
        assert limiter.acquire("other client") == 0.0
        store.ping()
    finally:
        store.close()

    # sessions expire after ttl_s idle, and their history with them; use keeps them alive
    store = make_store(ttl_s=0.5, max_sessions=100, max_messages=10)
    try:
        sid = store.create_session("key:a")
        store.conversations.append(sid, user("hello"))
        sleep(0.3)
        assert store.owns_session(sid, "key:a")
        assert contents(store.conversations.history(sid)) == ["hello"]
        sleep(0.3)
        assert store.owns_session(sid, "key:a"), "use does not keep a session alive"
        sleep(0.7)
        assert not store.owns_session(sid, "key:a"), "an idle session did not expire"
        assert store.conversations.history(sid) == [], "an expired session kept its history"
    finally:
        store.close()
