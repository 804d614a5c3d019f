"""Test helpers for grokassist and its plugins: a scripted fake backend, an in-process
ticketing system, and the conformance checks that every backend, store and ticketing
adapter implementation should pass.

>>> from grokassist.testing import FakeBackend
>>> backend = FakeBackend(["Restart the router [1]."])
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime

from .adapters.ticketing.base import NewTicket, TicketRef, TicketStatus, TicketUpdate
from .backends.base import ChatBackend, ChatRequest, GenerationSettings, SyncBackend, collect
from .errors import BackendError, TicketingError
from .stores.base import (
    AnswerLog,
    ConversationStore,
    DeliveryPolicy,
    Escalation,
    Outbox,
    RateLimits,
    SessionOwnership,
    Store,
    new_escalation_id,
)
from .types import Answer, Chunk, Citation, Message, Usage

__all__ = [
    "FakeBackend",
    "FakeTicketing",
    "check_answer_log_conformance",
    "check_backend_conformance",
    "check_backend_conformance_async",
    "check_conversation_store_conformance",
    "check_outbox_conformance",
    "check_rate_limits_conformance",
    "check_session_ownership_conformance",
    "check_store_conformance",
    "sample_escalation",
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


# -- a ticketing system in this process -----------------------------------------------------------


class FakeTicketing:
    """An in-process ticketing system that honours the :class:`TicketingAdapter` contract.

    ``create_ticket`` is idempotent by external id and counts the tickets it really made
    (``created``); ``fail`` holds errors raised by the next calls, in order;
    ``crash_after_create`` raises after the ticket exists (a worker dying before its ack).
    :meth:`reply` and :meth:`set_status` act as a person working the ticket.
    """

    name = "fake"

    def __init__(self) -> None:
        self.tickets: dict[str, NewTicket] = {}
        self.status: dict[str, TicketStatus] = {}
        self.events: dict[str, list[TicketUpdate]] = {}
        self.created = 0
        self.calls: list[str] = []
        self.fail: list[BaseException] = []
        self.crash_after_create: BaseException | None = None
        self._lock = threading.Lock()

    def _begin(self, call: str) -> None:
        self.calls.append(call)
        if self.fail:
            raise self.fail.pop(0)

    def _ref(self, ticket_id: str) -> TicketRef:
        ticket = self.tickets[ticket_id]
        return TicketRef(
            id=ticket_id,
            url=f"https://tickets.example.com/{ticket_id}",
            status=self.status[ticket_id],
            external_id=ticket.external_id,
        )

    def _event(self, ticket_id: str, **fields: object) -> None:
        events = self.events[ticket_id]
        events.append(
            TicketUpdate.model_validate(
                {
                    "ticket_id": ticket_id,
                    "cursor": str(len(events) + 1),
                    "created": datetime.now(UTC),
                    **fields,
                }
            )
        )

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        self._begin("create_ticket")
        with self._lock:
            found = next((i for i, t in self.tickets.items() if t.external_id == ticket.external_id), None)
            if found is None:
                found = str(1000 + len(self.tickets))
                self.tickets[found], self.status[found], self.events[found] = ticket, "open", []
                self.created += 1
        if self.crash_after_create is not None:
            crash, self.crash_after_create = self.crash_after_create, None
            raise crash
        return self._ref(found)

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        self._begin("find_ticket")
        found = next((i for i, t in self.tickets.items() if t.external_id == external_id), None)
        return self._ref(found) if found is not None else None

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        self._begin("add_comment")
        if ticket_id not in self.tickets:
            raise TicketingError(f"no ticket {ticket_id}")
        self._event(
            ticket_id, kind="public_reply" if public else "internal_note", author="grokassist", body=body
        )

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        self._begin("updates_since")
        if ticket_id not in self.tickets:
            raise TicketingError(f"no ticket {ticket_id}")
        return list(self.events[ticket_id][int(cursor or 0) :])

    async def aclose(self) -> None:
        return None

    def reply(self, ticket_id: str, body: str, author: str = "Dana (support)") -> None:
        """A person's public reply on the ticket."""
        self._event(ticket_id, kind="public_reply", author=author, body=body)

    def set_status(self, ticket_id: str, status: TicketStatus) -> None:
        """A person resolving, closing or reopening the ticket."""
        self.status[ticket_id] = status
        self._event(ticket_id, kind="status", status=status)

    def notes(self, ticket_id: str) -> list[str]:
        return [u.body for u in self.events[ticket_id] if u.kind == "internal_note"]


# -- store conformance --------------------------------------------------------------------------


def _user(text: str) -> Message:
    return Message(role="user", content=text)


def _contents(messages: list[Message]) -> list[str]:
    return [m.content for m in messages]


def sample_escalation(
    session_id: str | None = "s", *, created: float | None = None, **fields: object
) -> Escalation:
    """An escalation to queue in tests (due now)."""
    escalation_id = new_escalation_id()
    now = time.time() if created is None else created
    ticket = NewTicket(
        external_id=escalation_id, subject="The customer asked for a person", body="Customer: help"
    )
    return Escalation.model_validate(
        {
            "id": escalation_id,
            "created": now,
            "client": "key:a",
            "session_id": session_id,
            "transcript": [_user("help")],
            "ticket": ticket,
            "due": min(now, time.time()),
            **fields,
        }
    )


def check_conversation_store_conformance(history: ConversationStore) -> None:
    """Histories are isolated, bounded to ``max_messages`` (3), the least recently used
    evicted past ``max_sessions`` (2). ``history`` must be new, with those limits."""
    assert isinstance(history, ConversationStore), "does not satisfy the ConversationStore protocol"
    for i in range(5):
        history.append("a", _user(f"a{i}"))
    history.append("b", _user("b0"), Message(role="assistant", content="b1", author="Dana"))
    assert _contents(history.history("a")) == ["a2", "a3", "a4"], "history is not bounded"
    assert _contents(history.history("b")) == ["b0", "b1"]
    assert history.history("b")[1] == Message(role="assistant", content="b1", author="Dana"), "author lost"
    history.history("a")  # touch a: b becomes the least recently used
    history.append("c", _user("c0"))
    assert "b" not in history and "a" in history and len(history) == 2, "not least recently used"
    assert history.history("unknown") == []
    history.clear("a")
    assert history.history("a") == [] and "a" not in history


def check_session_ownership_conformance(
    make_store: Callable[..., Store], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Only the owner may use a session; dropping, eviction past ``max_sessions`` and expiry
    after ``ttl_s`` idle forget it with its history. Takes about a second (real time)."""
    store = make_store(ttl_s=3600.0, max_sessions=2, max_messages=3)
    try:
        sessions, history = store.sessions, store.conversations
        assert isinstance(sessions, SessionOwnership), "does not satisfy the SessionOwnership protocol"
        sid = sessions.create("key:a")
        assert len(sid) >= 43 and sid != sessions.create("key:a")
        assert sessions.owns(sid, "key:a")
        assert not sessions.owns(sid, "key:b") and not sessions.owns("made-up", "key:a")
        history.append(sid, _user("hello"))
        sessions.drop(sid)
        assert not sessions.owns(sid, "key:a") and history.history(sid) == []

        first = sessions.create("key:a")
        history.append(first, _user("first"))
        for _ in range(2):
            sessions.create("key:a")
        assert not sessions.owns(first, "key:a"), "sessions past max_sessions are kept"
        assert history.history(first) == []
    finally:
        store.close()

    store = make_store(ttl_s=0.5, max_sessions=100, max_messages=10)
    try:
        sid = store.sessions.create("key:a")
        store.conversations.append(sid, _user("hello"))
        sleep(0.3)
        assert store.sessions.owns(sid, "key:a")
        assert _contents(store.conversations.history(sid)) == ["hello"]
        sleep(0.3)
        assert store.sessions.owns(sid, "key:a"), "use does not keep a session alive"
        sleep(0.7)
        assert not store.sessions.owns(sid, "key:a"), "an idle session did not expire"
        assert store.conversations.history(sid) == [], "an expired session kept its history"
    finally:
        store.close()


def check_answer_log_conformance(answers: AnswerLog) -> None:
    """Answers are kept with their client; feedback replaces feedback; ``recent`` is per session."""
    assert isinstance(answers, AnswerLog), "does not satisfy the AnswerLog protocol"
    cited = Citation(
        index=1,
        doc_id="router/reset.md",
        title="Reset",
        source="",
        passage_id="router/reset.md#0",
        text="Hold it.",
        score=0.8,
    )
    answer = Answer(
        text="Hold the button [1].", confidence=0.9, question="How?", session_id="s", citations=(cited,)
    )
    answer_id = answers.add("key:a", answer)
    assert answer_id.startswith("ans_")
    assert answers.owner(answer_id) == "key:a" and answers.owner("ans_unknown") is None
    assert answers.get(answer_id) == answer and answers.get("ans_unknown") is None
    assert answers.feedback(answer_id) is None
    answers.rate(answer_id, "key:a", False, "too short")
    answers.rate(answer_id, "key:a", True, "thanks")
    rated = answers.feedback(answer_id)
    assert rated is not None and rated.helpful is True and rated.comment == "thanks"
    assert rated.answer_id == answer_id and rated.answer == answer
    answers.rate("ans_unknown", "key:a", True, "")
    assert answers.feedback("ans_unknown") is None

    later = [
        Answer(text=f"{i}", confidence=0.1, abstained=True, question=f"q{i}", session_id="s")
        for i in range(3)
    ]
    for each in later:
        answers.add("key:a", each)
    answers.add("key:a", Answer(text="elsewhere", confidence=0.5, question="q", session_id="other"))
    assert [a.text for a in answers.recent("s", 3)] == ["2", "1", "0"], "recent is not newest first"
    assert [a.text for a in answers.recent("s")] == ["2", "1", "0", answer.text]
    assert answers.recent("nobody") == []


def check_rate_limits_conformance(limits: RateLimits) -> None:
    """A burst, then a wait of about 1/rate; buckets are per key."""
    assert isinstance(limits, RateLimits), "does not satisfy the RateLimits protocol"
    limiter = limits.limiter(0.5, 2)
    assert [limiter.acquire("client") for _ in range(2)] == [0.0, 0.0]
    assert 1.0 < limiter.acquire("client") <= 2.0
    assert limiter.acquire("other client") == 0.0


def check_outbox_conformance(outbox: Outbox, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Claims are leased and fenced, failures back off (honouring Retry-After) up to the dead
    letter, and the handoff state follows the ticket. ``outbox`` must be new and empty.
    Takes about a second (leases and backoff are real time)."""
    assert isinstance(outbox, Outbox), "does not satisfy the Outbox protocol"
    policy = DeliveryPolicy(max_attempts=3, lease_s=0.3, backoff_base_s=0.05, backoff_cap_s=0.1)
    first, second = sample_escalation("s1"), sample_escalation("s2", created=time.time() + 0.001)
    outbox.enqueue(first)
    outbox.enqueue(second)
    assert outbox.get(first.id) == first and outbox.get("esc_unknown") is None
    assert [e.id for e in outbox.escalations("pending")] == [first.id, second.id]
    assert [e.id for e in outbox.escalations(limit=1)] == [first.id]

    # a claim leases one escalation to one worker
    one = outbox.claim("w1", policy)
    two = outbox.claim("w2", policy)
    assert one is not None and two is not None and one.id == first.id and two.id == second.id
    assert one.status == "delivering" and one.attempts == 1 and one.worker == "w1" and one.lease
    assert outbox.claim("w3", policy) is None, "a leased escalation was claimed again"

    # ack is fenced by the lease
    assert not outbox.ack(one.id, "not-the-lease", "T-1")
    assert outbox.ack(one.id, one.lease or "", "T-1", "https://t/1")
    assert not outbox.ack(one.id, one.lease or "", "T-1"), "acknowledged twice"
    done = outbox.get(one.id)
    assert done is not None and done.status == "delivered" and done.ticket_id == "T-1"
    assert done.ticket_url == "https://t/1" and done.ticket_status == "open" and done.lease is None

    # a failure backs off, never sooner than Retry-After
    failed = outbox.fail(two.id, two.lease or "", "HTTP 429", policy, retry_after=0.4)
    assert failed is not None and failed.status == "pending" and failed.last_error == "HTTP 429"
    assert failed.due >= time.time() + 0.3
    assert outbox.fail(two.id, two.lease or "", "again", policy) is None, "failed under a spent lease"
    assert outbox.claim("w1", policy) is None, "claimed before Retry-After"
    sleep(0.45)
    again = outbox.claim("w1", policy)
    assert again is not None and again.id == two.id and again.attempts == 2

    # a worker that dies keeps its lease until it ends; then another takes over
    sleep(0.35)
    taken = outbox.claim("w2", policy)
    assert taken is not None and taken.id == two.id and taken.attempts == 3 and taken.worker == "w2"
    assert not outbox.ack(two.id, again.lease or "", "T-2"), "a stale lease acknowledged"
    assert outbox.fail(two.id, again.lease or "", "late", policy) is None

    # past max_attempts: the dead letter; retry queues it again
    dead = outbox.fail(two.id, taken.lease or "", "HTTP 500", policy)
    assert dead is not None and dead.status == "dead" and "HTTP 500" in dead.last_error
    assert outbox.claim("w1", policy) is None
    assert [e.id for e in outbox.escalations("dead")] == [two.id]
    assert outbox.retry(two.id) and not outbox.retry("esc_unknown") and not outbox.retry(one.id)
    revived = outbox.claim("w1", policy)
    assert revived is not None and revived.id == two.id and revived.attempts == 1

    # a lease that runs out with the attempts used up is a dead letter, not another claim
    strict = policy.model_copy(update={"max_attempts": 1})
    sleep(0.35)
    assert outbox.claim("w1", strict) is None
    gone = outbox.get(two.id)
    assert gone is not None and gone.status == "dead" and "gave up after 1 attempts" in gone.last_error

    # the handoff: a person has the conversation until the ticket is resolved or released
    assert outbox.active("s1") == outbox.get(first.id)
    assert outbox.active("s2") is None, "a dead letter holds the conversation"
    assert [e.id for e in outbox.open_tickets()] == [first.id]
    tracked = outbox.track(first.id, cursor="c7")
    assert tracked is not None and tracked.cursor == "c7" and tracked.ticket_status == "open"
    resolved = outbox.track(first.id, ticket_status="resolved")
    assert resolved is not None and resolved.cursor == "c7" and not resolved.holds_conversation
    assert outbox.active("s1") is None and outbox.open_tickets() == []
    waiting = sample_escalation("s3")
    outbox.enqueue(waiting)
    assert outbox.active("s3") == waiting, "a queued escalation does not hold its conversation"
    assert outbox.release(waiting.id) and outbox.active("s3") is None and not outbox.release(waiting.id)

    # workers racing for many escalations: each claimed (and acknowledged) once
    many = [sample_escalation(None, created=time.time() + i / 1000) for i in range(30)]
    for escalation in many:
        outbox.enqueue(escalation)
    relaxed = DeliveryPolicy(lease_s=60)
    acked: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (claimed := outbox.claim(name, relaxed)) is not None:
            if claimed.id == waiting.id:
                continue
            assert outbox.ack(claimed.id, claimed.lease or "", f"T-{claimed.id}")
            with lock:
                acked.append(claimed.id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(acked) == sorted(e.id for e in many), "an escalation was delivered twice or not at all"


def check_store_conformance(
    make_store: Callable[..., Store], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Every concern of a store. ``make_store(ttl_s=..., max_sessions=..., max_messages=...)``
    must return a new, empty store; this closes the stores it makes. Takes a few seconds."""
    store = make_store(ttl_s=3600.0, max_sessions=2, max_messages=3)
    try:
        assert store.kind, "a store names its kind"
        check_conversation_store_conformance(store.conversations)
        check_answer_log_conformance(store.answers)
        check_rate_limits_conformance(store.limits)
        check_outbox_conformance(store.outbox, sleep=sleep)
        store.ping()
    finally:
        store.close()
    check_session_ownership_conformance(make_store, sleep=sleep)
