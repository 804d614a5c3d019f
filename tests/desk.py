"""The in-memory help desk of ``grokassist.testing``, with what the handoff tests also need:
a crash right after a ticket is created (a worker dying before its ack), and a person's
replies and status changes from synchronous test code."""

from __future__ import annotations

from grokassist.adapters.ticketing.base import NewTicket, TicketRef, TicketStatus
from grokassist.testing import FakeTicketingAdapter


class Desk(FakeTicketingAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.crash_after_create: BaseException | None = None

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        ref = await super().create_ticket(ticket)
        if self.crash_after_create is not None:
            crash, self.crash_after_create = self.crash_after_create, None
            raise crash
        return ref

    def reply(self, ticket_id: str, body: str, author: str = "Dana (support)") -> None:
        """A person's public reply on the ticket."""
        self.record(ticket_id, kind="public_reply", body=body, author=author)

    def set_status(self, ticket_id: str, status: TicketStatus) -> None:
        """A person resolving, closing or reopening the ticket."""
        self.tickets[ticket_id]["status"] = status
        self.record(ticket_id, kind="status", status=status, author="Dana (support)")

    def notes(self, ticket_id: str) -> list[str]:
        return [e.body for e in self.events if e.ticket_id == ticket_id and e.kind == "internal_note"]

    def ticket(self, ticket_id: str) -> NewTicket:
        found: NewTicket = self.tickets[ticket_id]["ticket"]
        return found
