"""Saved state in this process's memory: one worker only, gone on restart.

Also the in-process pieces the other stores reuse: :class:`RateLimiter` (SQLite's rate
limits are per process too) and :class:`SessionStore` (the assistant's default history).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ..types import Answer, Message
from . import base
from ._outbox import RecordOutbox
from .base import DAY, ConversationStore, Escalation, EscalationStatus, Feedback, Limiter

__all__ = [
    "LocalRateLimits",
    "MemoryAnswers",
    "MemoryOutbox",
    "MemorySessions",
    "MemoryStore",
    "RateLimiter",
    "SessionStore",
]


class SessionStore:
    """Conversation history per session id; least recently used sessions are evicted."""

    def __init__(self, *, max_sessions: int = 10_000, max_messages: int = 40) -> None:
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self._data: OrderedDict[str, list[Message]] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, session_id: str) -> list[Message]:
        """A copy of the session's messages (empty for an unknown session)."""
        with self._lock:
            messages = self._data.get(session_id)
            if messages is None:
                return []
            self._data.move_to_end(session_id)
            return list(messages)

    def append(self, session_id: str, *messages: Message) -> None:
        """Add messages to a session, creating it if needed."""
        with self._lock:
            history = self._data.setdefault(session_id, [])
            history.extend(messages)
            del history[: max(0, len(history) - self.max_messages)]
            self._data.move_to_end(session_id)
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)

    def clear(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock:
            self._data.pop(session_id, None)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


class MemorySessions:
    """Server-issued session ids, each bound to the client that created it.

    ``on_expire`` is called with each session id that expires, is evicted or is dropped.
    """

    def __init__(
        self,
        *,
        ttl_s: float = DAY,
        max_sessions: int = 10_000,
        on_expire: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._on_expire = on_expire
        self._clock = clock
        self._owners: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id -> (owner, last used)
        self._lock = threading.Lock()

    def create(self, owner: str) -> str:
        session_id = base.new_session_id()
        with self._lock:
            self._owners[session_id] = (owner, self._clock())
            dropped = self._expire_locked()
        self._notify(dropped)
        return session_id

    def owns(self, session_id: str, owner: str) -> bool:
        with self._lock:
            dropped = self._expire_locked()
            entry = self._owners.get(session_id)
            ok = entry is not None and hmac.compare_digest(entry[0], owner)
            if ok:
                self._owners[session_id] = (owner, self._clock())
                self._owners.move_to_end(session_id)
        self._notify(dropped)
        return ok

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._owners.pop(session_id, None)
        self._notify([session_id])

    def __len__(self) -> int:
        with self._lock:
            return len(self._owners)

    def _expire_locked(self) -> list[str]:
        dropped: list[str] = []
        deadline = self._clock() - self.ttl_s
        while self._owners:
            session_id, (_, used) = next(iter(self._owners.items()))
            if used >= deadline and len(self._owners) <= self.max_sessions:
                break
            self._owners.popitem(last=False)
            dropped.append(session_id)
        return dropped

    def _notify(self, dropped: list[str]) -> None:
        if self._on_expire is not None:
            for session_id in dropped:
                self._on_expire(session_id)


class MemoryAnswers:
    """The last ``max_answers`` answers (the oldest are dropped with their feedback)."""

    #: Answer ids remembered per session for :meth:`recent`.
    RECENT = 20

    def __init__(self, *, max_answers: int = 100_000) -> None:
        self.max_answers = max_answers
        self._answers: OrderedDict[str, tuple[str, Answer]] = OrderedDict()
        self._feedback: dict[str, tuple[bool, str]] = {}
        self._by_session: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def add(self, client: str, answer: Answer) -> str:
        answer_id = base.new_answer_id()
        with self._lock:
            self._answers[answer_id] = (client, answer)
            if answer.session_id:
                self._by_session.setdefault(answer.session_id, deque(maxlen=self.RECENT)).appendleft(
                    answer_id
                )
            while len(self._answers) > self.max_answers:
                dropped, (_, old) = self._answers.popitem(last=False)
                self._feedback.pop(dropped, None)
                ids = self._by_session.get(old.session_id or "")
                if ids is not None and dropped in ids:
                    ids.remove(dropped)
                    if not ids:
                        del self._by_session[old.session_id or ""]
        return answer_id

    def owner(self, answer_id: str) -> str | None:
        with self._lock:
            found = self._answers.get(answer_id)
        return found[0] if found else None

    def get(self, answer_id: str) -> Answer | None:
        with self._lock:
            found = self._answers.get(answer_id)
        return found[1] if found else None

    def recent(self, session_id: str, limit: int = 10) -> list[Answer]:
        with self._lock:
            ids = list(self._by_session.get(session_id, ()))[:limit]
            return [self._answers[i][1] for i in ids if i in self._answers]

    def rate(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        with self._lock:
            if answer_id in self._answers:
                self._feedback[answer_id] = (helpful, comment)

    def feedback(self, answer_id: str) -> Feedback | None:
        with self._lock:
            rating, found = self._feedback.get(answer_id), self._answers.get(answer_id)
        if rating is None or found is None:
            return None
        return Feedback(answer_id=answer_id, helpful=rating[0], comment=rating[1], answer=found[1])


class MemoryOutbox(RecordOutbox):
    """The outbox in a dictionary, behind a lock (look-ups scan it: fine at one process's scale)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self._records: dict[str, Escalation] = {}
        self._lock = threading.Lock()

    def _insert(self, escalation: Escalation) -> None:
        with self._lock:
            if escalation.id in self._records:
                raise ValueError(f"escalation {escalation.id} already exists")
            self._records[escalation.id] = escalation

    def _change(
        self, escalation_id: str, change: Callable[[Escalation], Escalation | None]
    ) -> Escalation | None:
        with self._lock:
            found = self._records.get(escalation_id)
            changed = change(found) if found is not None else None
            if changed is not None:
                self._records[escalation_id] = changed
            return changed

    def get(self, escalation_id: str) -> Escalation | None:
        with self._lock:
            return self._records.get(escalation_id)

    def _due(self, now: float, limit: int) -> list[str]:
        with self._lock:
            due = [
                (e.claimable_at, e.created, e.id)
                for e in self._records.values()
                if e.claimable_at is not None
            ]
        return [i for at, _, i in sorted(due) if at is not None and at <= now][:limit]

    def _holding(self, session_id: str) -> str | None:
        with self._lock:
            return next(
                (e.id for e in self._records.values() if e.session_id == session_id and e.holds_conversation),
                None,
            )

    def _select(self, status: EscalationStatus | None, open_tickets: bool, limit: int) -> list[Escalation]:
        with self._lock:
            found = [
                e
                for e in self._records.values()
                if (status is None or e.status == status) and (not open_tickets or e.ticket_open)
            ]
        return sorted(found, key=lambda e: e.created)[:limit]


class RateLimiter:
    """A token bucket per client, in this process: ``burst`` requests at once, refilled
    at ``rate`` per second.

    The least recently seen clients are forgotten past ``max_clients`` (a
    forgotten client starts again with a full bucket).
    """

    in_memory = True

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token: ``0.0`` if allowed, else the seconds to wait for the next one."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait


class LocalRateLimits:
    """Rate limits of this process only (each worker or replica counts its own)."""

    def limiter(self, rate: float, burst: int) -> Limiter:
        return RateLimiter(rate, burst)


class MemoryStore:
    """Everything in this process's memory: one worker only, gone on restart.

    ``conversations`` defaults to a new :class:`SessionStore`; the server passes its
    assistant's, so that history stays where it always was.
    """

    kind = "memory"

    def __init__(
        self,
        *,
        ttl_s: float = DAY,
        max_sessions: int = 10_000,
        max_messages: int = 40,
        max_answers: int = 100_000,
        conversations: ConversationStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conversations: ConversationStore = (
            conversations
            if conversations is not None
            else SessionStore(max_sessions=max_sessions, max_messages=max_messages)
        )
        self.sessions = MemorySessions(
            ttl_s=ttl_s, max_sessions=max_sessions, on_expire=self.conversations.clear, clock=clock
        )
        self.answers = MemoryAnswers(max_answers=max_answers)
        self.outbox = MemoryOutbox()
        self.limits = LocalRateLimits()

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
