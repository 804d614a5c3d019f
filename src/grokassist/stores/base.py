"""The contracts of saved state: one protocol per concern, and the models they keep.

* :class:`ConversationStore`: conversation history per session, bounded;
* :class:`SessionOwnership`: server-issued session ids bound to the client that made them;
* :class:`AnswerLog`: the answers served and the feedback on them;
* :class:`Outbox`: escalations waiting for (or handed to) a person, delivered exactly once;
* :class:`RateLimits`: token buckets (:class:`Limiter`).

A :class:`Store` bundles one implementation of each, over one technology (memory,
SQLite or Redis: :mod:`grokassist.stores.memory`, :mod:`~grokassist.stores.sqlite`,
:mod:`~grokassist.stores.redis`); :func:`~grokassist.stores.open_store` picks one by URL.
Every failure of a store is raised as :class:`~grokassist.errors.SessionStoreError`.
"""

from __future__ import annotations

import secrets
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..adapters.ticketing.base import NewTicket, TicketStatus
from ..types import Answer, Message

__all__ = [
    "DAY",
    "AnswerLog",
    "ConversationStore",
    "DeliveryPolicy",
    "Escalation",
    "EscalationStatus",
    "Feedback",
    "Limiter",
    "Outbox",
    "RateLimits",
    "SessionOwnership",
    "Store",
    "Trigger",
]

DAY = 24 * 3600.0


# -- conversations ------------------------------------------------------------------------------


@runtime_checkable
class ConversationStore(Protocol):
    """Conversation history per session id, bounded to ``max_messages`` per session."""

    max_messages: int

    def history(self, session_id: str) -> list[Message]:
        """A copy of the session's messages (empty for an unknown session)."""
        ...

    def append(self, session_id: str, *messages: Message) -> None:
        """Add messages to a session, creating it if needed."""
        ...

    def clear(self, session_id: str) -> None:
        """Forget a session."""
        ...

    def __contains__(self, session_id: object) -> bool: ...

    def __len__(self) -> int: ...


# -- session ownership --------------------------------------------------------------------------


@runtime_checkable
class SessionOwnership(Protocol):
    """Server-issued session ids (256-bit random tokens), each bound to the client that made it.

    Sessions expire after ``ttl_s`` idle and the least recently used are evicted past
    ``max_sessions``; their conversation history goes with them.
    """

    def create(self, owner: str) -> str:
        """Issue a new session id for ``owner``."""
        ...

    def owns(self, session_id: str, owner: str) -> bool:
        """Whether ``session_id`` is live and ``owner``'s (and mark it used).

        The same answer for "not yours" and "does not exist".
        """
        ...

    def drop(self, session_id: str) -> None:
        """Forget a session and its history."""
        ...


# -- answers and feedback -----------------------------------------------------------------------


class Feedback(BaseModel):
    """A rating, with the answer it rates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_id: str
    helpful: bool
    comment: str
    answer: Answer


@runtime_checkable
class AnswerLog(Protocol):
    """The answers served (with the client they were served to) and the feedback on them."""

    def add(self, client: str, answer: Answer) -> str:
        """Record an answer served to ``client``; returns its id (``ans_...``)."""
        ...

    def owner(self, answer_id: str) -> str | None:
        """The client an answer was served to, or ``None`` for an unknown id."""
        ...

    def get(self, answer_id: str) -> Answer | None:
        """An answer, or ``None``."""
        ...

    def recent(self, session_id: str, limit: int = 10) -> list[Answer]:
        """The last answers served in a session, newest first."""
        ...

    def rate(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        """Store (or replace) the rating of a known answer (an unknown id is ignored)."""
        ...

    def feedback(self, answer_id: str) -> Feedback | None:
        """The rating of an answer, or ``None``."""
        ...


# -- the outbox ---------------------------------------------------------------------------------

#: ``pending``: waiting to be delivered (not before ``due``); ``delivering``: claimed by a
#: worker whose lease ends at ``due``; ``delivered``: the ticket exists; ``dead``: gave up
#: after ``max_attempts`` (``grokassist outbox retry ID`` queues it again).
EscalationStatus = Literal["pending", "delivering", "delivered", "dead"]

#: Why a conversation went to a person.
Trigger = Literal["requested", "abstained", "negative_feedback", "repeated_failure", "keyword"]


class Escalation(BaseModel):
    """A conversation handed to a person: what the ticket will say, and how its delivery goes.

    ``ticket`` is built (and redacted) when the escalation is queued, so what leaves the
    process is decided once; ``draft`` is the assistant's draft reply, posted as an
    internal note for the agent. After delivery, ``ticket_id`` names the ticket and the
    conversation belongs to a person (:attr:`holds_conversation`) until the ticket is
    resolved or closed, or the handoff is released.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    created: float
    client: str
    session_id: str | None = None
    answer_id: str | None = None
    trigger: Trigger = "requested"
    reason: str = ""
    contact: str = ""
    transcript: list[Message] = Field(default_factory=list)
    ticket: NewTicket
    draft: str = ""

    status: EscalationStatus = "pending"
    #: pending: not before this time; delivering: the lease ends then (wall-clock seconds).
    due: float = 0.0
    attempts: int = 0
    lease: str | None = None
    worker: str | None = None
    last_error: str = ""

    ticket_id: str | None = None
    ticket_url: str = ""
    ticket_status: TicketStatus | None = None
    cursor: str | None = None
    delivered_at: float | None = None
    released: bool = False
    #: What the customer wrote after the escalation (redacted), waiting to reach the ticket.
    inbox: list[str] = Field(default_factory=list)

    @property
    def claimable_at(self) -> float | None:
        """When a worker may claim it (``None``: never again without ``retry``)."""
        return self.due if self.status in ("pending", "delivering") else None

    @property
    def holds_conversation(self) -> bool:
        """Whether a person has the conversation: the assistant stays quiet in it."""
        return (
            self.session_id is not None
            and self.status != "dead"
            and not self.released
            and self.ticket_status not in ("resolved", "closed")
        )

    @property
    def ticket_open(self) -> bool:
        """Whether its ticket is watched for replies and status changes."""
        return self.status == "delivered" and self.holds_conversation


class DeliveryPolicy(BaseModel):
    """How hard the outbox tries before an escalation becomes a dead letter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Attempts (claims) before the dead letter; a worker that dies mid-delivery uses one.
    #: 20 attempts with the backoff below span about two hours of ticketing outage.
    max_attempts: int = Field(default=20, ge=1)
    #: A claim's lease: longer than one delivery (a create, a look-up and a note) can take
    #: with the adapter's timeouts, or a second worker would start the same delivery.
    lease_s: float = Field(default=120.0, gt=0)
    #: Exponential backoff between attempts: base * 2**(attempt - 1), at most ``backoff_cap_s``,
    #: times a random factor in [0.5, 1] (so replicas do not retry in step); never sooner
    #: than the ticketing system's ``Retry-After``.
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_cap_s: float = Field(default=600.0, gt=0)


@runtime_checkable
class Outbox(Protocol):
    """Escalations on their way to a ticketing system, delivered exactly once.

    A worker :meth:`claim` s the next due escalation with a lease (no other worker gets it
    until the lease ends), creates the ticket, then :meth:`ack` s with the lease token, or
    :meth:`fail` s (retried with backoff, a dead letter after ``max_attempts``). An ``ack``
    or ``fail`` with a lease that is no longer current changes nothing and returns
    ``None``/``False``. Exactly once comes from both sides: the lease keeps two workers from
    delivering at once, and the ticketing adapter's idempotent ``create_ticket`` (by
    ``external_id``, the escalation id) makes a delivery repeated after a crash find the
    ticket instead of creating another.
    """

    def enqueue(self, escalation: Escalation) -> None:
        """Queue a new escalation (its ``id`` must be new)."""
        ...

    def claim(self, worker: str, policy: DeliveryPolicy) -> Escalation | None:
        """Lease the next due escalation to ``worker`` (its ``lease`` is the token), or ``None``.

        One whose lease ended with ``max_attempts`` used becomes a dead letter instead.
        """
        ...

    def ack(self, escalation_id: str, lease: str, ticket_id: str, ticket_url: str = "") -> bool:
        """Record delivery under the current ``lease``; ``False`` if the lease is not current."""
        ...

    def fail(
        self,
        escalation_id: str,
        lease: str,
        error: str,
        policy: DeliveryPolicy,
        retry_after: float | None = None,
        *,
        final: bool = False,
    ) -> Escalation | None:
        """Record a failed attempt: due again after the backoff (at least ``retry_after`` s),
        or dead past ``max_attempts`` or when ``final`` (trying again cannot help).
        ``None`` if the lease is not current."""
        ...

    def retry(self, escalation_id: str) -> bool:
        """Queue a pending or dead escalation again, due now, its attempts reset."""
        ...

    def get(self, escalation_id: str) -> Escalation | None:
        """One escalation, or ``None``."""
        ...

    def escalations(self, status: EscalationStatus | None = None, limit: int = 100) -> list[Escalation]:
        """Escalations (of one ``status``), oldest first."""
        ...

    def active(self, session_id: str) -> Escalation | None:
        """The escalation that holds this conversation (a person has it), if any."""
        ...

    def open_tickets(self, limit: int = 100) -> list[Escalation]:
        """Delivered escalations whose ticket is still open: watched for replies."""
        ...

    def track(
        self, escalation_id: str, *, cursor: str | None = None, ticket_status: TicketStatus | None = None
    ) -> Escalation | None:
        """Record how far the ticket's updates were read, and its status."""
        ...

    def release(self, escalation_id: str) -> bool:
        """Give the conversation back to the assistant (the ticket stays as it is)."""
        ...

    def note(self, escalation_id: str, text: str) -> bool:
        """Keep a message the customer wrote while a person has the conversation, for the
        ticket; ``False`` if the escalation no longer holds it."""
        ...

    def forwarded(self, escalation_id: str, count: int) -> Escalation | None:
        """Drop the first ``count`` messages of the inbox: they reached the ticket."""
        ...


# -- rate limits --------------------------------------------------------------------------------


class Limiter(Protocol):
    """Token buckets by key. ``in_memory`` says :meth:`acquire` never waits on I/O."""

    in_memory: bool

    def acquire(self, key: str) -> float:
        """Take one token: ``0.0`` if allowed, else the seconds to wait for the next one."""
        ...


@runtime_checkable
class RateLimits(Protocol):
    """Where token buckets live: this process, or shared by every replica."""

    def limiter(self, rate: float, burst: int) -> Limiter:
        """Buckets refilled at ``rate`` per second, ``burst`` at once."""
        ...


# -- one store of each ----------------------------------------------------------------------------


class Store(Protocol):
    """One implementation of each concern, over one technology."""

    #: ``"memory"``, ``"sqlite"`` or ``"redis"`` (reported by ``/readyz``).
    kind: str

    @property
    def conversations(self) -> ConversationStore: ...

    @property
    def sessions(self) -> SessionOwnership: ...

    @property
    def answers(self) -> AnswerLog: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def limits(self) -> RateLimits: ...

    def ping(self) -> None:
        """Raise :class:`~grokassist.errors.SessionStoreError` unless the store answers."""
        ...

    def close(self) -> None:
        """Release connections (the data stays where it is)."""
        ...


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_answer_id() -> str:
    return "ans_" + secrets.token_urlsafe(16)


def new_escalation_id() -> str:
    return "esc_" + secrets.token_hex(8)
