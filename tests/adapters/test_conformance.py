"""The ticketing conformance check itself: the in-memory fake passes it, and broken adapters fail it."""

from __future__ import annotations

import pytest

from grokassist.adapters.ticketing import NewTicket, TicketingAdapter, TicketRef, TicketUpdate
from grokassist.errors import TicketingError, TicketingRateLimitError, TicketingUnavailableError
from grokassist.testing import (
    FAULT_KINDS,
    FakeTicketingAdapter,
    FaultKind,
    TicketingAgent,
    check_ticketing_conformance,
)


async def test_the_fake_help_desk_passes() -> None:
    desk = FakeTicketingAdapter()
    assert isinstance(desk, TicketingAdapter) and isinstance(desk.agent, TicketingAgent)
    report = await check_ticketing_conformance(desk, desk.agent)
    assert report.faults_checked == [] and report.faults_skipped == list(FAULT_KINDS)
    assert report.statuses_checked == ["pending", "resolved", "closed"]
    assert desk.created == 2


async def test_the_fake_replays_its_failures_in_order() -> None:
    desk = FakeTicketingAdapter()
    desk.fail = [TicketingRateLimitError("slow down", retry_after=3.0), TicketingUnavailableError("down")]
    ticket = NewTicket(external_id="e1", subject="s", body="b")
    with pytest.raises(TicketingRateLimitError):
        await desk.create_ticket(ticket)
    with pytest.raises(TicketingUnavailableError):
        await desk.create_ticket(ticket)
    assert (await desk.create_ticket(ticket)).id == (await desk.create_ticket(ticket)).id == "1"


class Duplicating(FakeTicketingAdapter):
    """Creates a new ticket every time: not idempotent."""

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        self.tickets[str(len(self.tickets) + 1)] = {"ext": ticket.external_id, "status": "open"}
        return self._ref(str(len(self.tickets)))


class Unmarked(FakeTicketingAdapter):
    """Does not mark its own comments."""

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        return [u.model_copy(update={"own": False}) for u in await super().updates_since(ticket_id, cursor)]


class Replaying(FakeTicketingAdapter):
    """Ignores the cursor: every poll returns everything again."""

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        return await super().updates_since(ticket_id, None)


class PublicNotes(FakeTicketingAdapter):
    """Posts internal notes as public replies."""

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        await super().add_comment(ticket_id, body, public=True)


class StatusBlind(FakeTicketingAdapter):
    """Reports every status change as open."""

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        updates = await super().updates_since(ticket_id, cursor)
        return [u.model_copy(update={"status": "open"}) if u.kind == "status" else u for u in updates]


class LenientCursor(FakeTicketingAdapter):
    """Treats a malformed cursor as no cursor."""

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        return await super().updates_since(ticket_id, cursor if cursor and cursor.isdigit() else None)


@pytest.mark.parametrize(
    ("broken", "complaint"),
    [
        (Duplicating, "second create"),
        (Unmarked, "not marked own"),
        (Replaying, "cursor does not advance"),
        (PublicNotes, "own comments"),
        (StatusBlind, "pending"),
        (LenientCursor, "malformed cursor"),
    ],
)
async def test_broken_adapters_fail(broken: type[FakeTicketingAdapter], complaint: str) -> None:
    desk = broken()
    with pytest.raises(AssertionError, match=complaint):
        await check_ticketing_conformance(desk, desk.agent)


async def test_a_fault_translated_to_the_wrong_error_fails() -> None:
    desk = FakeTicketingAdapter()

    async def faulty(kind: FaultKind) -> FakeTicketingAdapter | None:
        if kind != "rate_limit":
            return None
        broken = FakeTicketingAdapter()
        broken.fail = [TicketingError("429 seen as a plain error", status_code=429)]
        return broken

    with pytest.raises(AssertionError, match="expected TicketingRateLimitError"):
        await check_ticketing_conformance(desk, desk.agent, faulty=faulty)


async def test_a_rate_limit_without_its_retry_after_fails() -> None:
    desk = FakeTicketingAdapter()

    async def faulty(kind: FaultKind) -> FakeTicketingAdapter | None:
        if kind != "rate_limit":
            return None
        broken = FakeTicketingAdapter()
        broken.fail = [TicketingRateLimitError("429", status_code=429)]
        return broken

    with pytest.raises(AssertionError, match="Retry-After became None"):
        await check_ticketing_conformance(desk, desk.agent, faulty=faulty)
