"""The ticketing protocol: what grokassist needs of a help-desk system.

One :class:`TicketingAdapter` per system (Request Tracker, Zendesk, Freshdesk,
Jira Service Management, ServiceNow, GitHub Issues). The outbox worker calls
:meth:`~TicketingAdapter.create_ticket` to hand a conversation to a person,
:meth:`~TicketingAdapter.add_comment` to post the assistant's draft as an
internal note, and :meth:`~TicketingAdapter.updates_since` to bring a person's
public replies back into the conversation.

``create_ticket`` is idempotent by :attr:`NewTicket.external_id`: a second call
with the same id returns the ticket of the first (the system's idempotency key,
or a look-up by external id before creating), so a worker that crashed between
"ticket created" and "acknowledged" never creates a duplicate.

Adapters are async (httpx or the system's client in a worker thread) and
translate every vendor error once, at the boundary, into
:class:`~grokassist.errors.TicketingError` (``retry_after`` set on 429/503).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "NewTicket",
    "TicketRef",
    "TicketStatus",
    "TicketUpdate",
    "TicketingAdapter",
    "UpdateKind",
]

#: The lifecycle states grokassist cares about, mapped from each system's own.
TicketStatus = Literal["open", "pending", "resolved", "closed"]
#: What a :class:`TicketUpdate` is.
UpdateKind = Literal["public_reply", "internal_note", "status"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewTicket(_Frozen):
    """A ticket to create: the whole story of one escalated conversation."""

    external_id: str = Field(min_length=1, max_length=200)  # grokassist's escalation id: the idempotency key
    subject: str = Field(min_length=1, max_length=250)
    body: str  # transcript, cited sources, confidence, reason (already redacted)
    requester_email: str | None = None
    requester_name: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    tags: tuple[str, ...] = ()
    metadata: dict[str, str] = Field(default_factory=dict)  # host-product fields: plan, device, locale...


class TicketRef(_Frozen):
    """A ticket as the system knows it."""

    id: str  # the system's ticket id (RT number, Zendesk id, Jira key, GitHub issue number...)
    url: str = ""
    status: TicketStatus = "open"
    external_id: str | None = None


class TicketUpdate(_Frozen):
    """Something that happened on a ticket after a cursor: a reply, a note or a status change."""

    ticket_id: str
    kind: UpdateKind
    author: str = ""
    body: str = ""
    status: TicketStatus | None = None
    created: datetime | None = None
    cursor: str  # opaque; pass it back to ``updates_since`` to get what came after this update
    own: bool = False  # written by the adapter's own identity (its notes and replies): skip it


@runtime_checkable
class TicketingAdapter(Protocol):
    """A help-desk system. Third parties implement this without importing a base class."""

    name: str

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        """Create the ticket, or return the existing one with the same ``external_id``."""
        ...

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        """The ticket created for ``external_id``, if any."""
        ...

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        """Add a public reply (the customer sees it) or an internal note (agents only)."""
        ...

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        """Replies, notes and status changes after ``cursor`` (all of them for ``None``), oldest first.

        Updates authored by the adapter itself (its own notes and replies) are included with their
        author and ``own=True``, so the caller can skip its own.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
