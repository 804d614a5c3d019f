"""The Freshdesk adapter against Freshdesk's recorded shapes: the conformance check, then the details."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from grokassist.adapters.ticketing import NewTicket, open_ticketing
from grokassist.adapters.ticketing._http import marker
from grokassist.adapters.ticketing.freshdesk import FreshdeskAdapter
from grokassist.config import TicketingSettings
from grokassist.errors import ConfigurationError, TicketingValidationError
from grokassist.testing import FAULT_KINDS, FaultKind, check_ticketing_conformance

from .fake_freshdesk import API_KEY, FakeFreshdesk

TICKET = NewTicket(
    external_id="esc_fd_1",
    subject="Router <b>keeps</b> dropping",
    body="customer: it drops every hour & the light blinks.",
    requester_email="kim@example.com",
    requester_name="Kim",
    priority="low",
    tags=("router",),
)


def make(service: FakeFreshdesk, key: str = API_KEY, **options: object) -> FreshdeskAdapter:
    return FreshdeskAdapter("https://acme.freshdesk.com", token=key, transport=service.transport, **options)  # type: ignore[arg-type]


@pytest.fixture
async def freshdesk() -> AsyncIterator[tuple[FakeFreshdesk, FreshdeskAdapter]]:
    service = FakeFreshdesk()
    adapter = make(service)
    yield service, adapter
    await adapter.aclose()


async def test_freshdesk_passes_the_conformance_check(
    freshdesk: tuple[FakeFreshdesk, FreshdeskAdapter],
) -> None:
    service, adapter = freshdesk

    async def faulty(kind: FaultKind) -> FreshdeskAdapter:
        broken = FakeFreshdesk()
        if kind == "auth":
            return make(broken, key="wrong-key")
        broken.fault = kind
        return make(broken)

    report = await check_ticketing_conformance(adapter, service, faulty=faulty, prefix="fd")
    assert report.faults_checked == list(FAULT_KINDS)
    assert report.statuses_checked == ["pending", "resolved", "closed"]


async def test_freshdesk_finds_a_new_ticket_before_the_search_index_has_it(
    freshdesk: tuple[FakeFreshdesk, FreshdeskAdapter],
) -> None:
    service, adapter = freshdesk
    service.search_lags = True
    first = await adapter.create_ticket(TICKET)
    again = await adapter.create_ticket(TICKET)
    assert again.id == first.id and len(service.tickets) == 1
    sent = json.loads(next(r for r in service.requests if r.method == "POST").content)
    assert sent["tags"] == ["router", marker("esc_fd_1")] and sent["priority"] == 1
    assert sent["email"] == "kim@example.com" and sent["name"] == "Kim" and sent["status"] == 2
    assert "it drops every hour &amp; the light blinks." in sent["description"]
    assert "escalation: esc_fd_1" in sent["description"]


async def test_freshdesk_finds_an_old_ticket_through_search(
    freshdesk: tuple[FakeFreshdesk, FreshdeskAdapter],
) -> None:
    service, adapter = freshdesk
    created = await adapter.create_ticket(TICKET)
    for i in range(120):  # the requester's newer tickets push it off the first page
        await adapter.create_ticket(TICKET.model_copy(update={"external_id": f"esc_fd_newer_{i}"}))
    service.requests.clear()
    found = await adapter.find_ticket("esc_fd_1", requester="kim@example.com")
    assert found is not None and found.id == created.id
    assert [r.url.path for r in service.requests] == ["/api/v2/tickets", "/api/v2/search/tickets"]


async def test_freshdesk_needs_a_requester(freshdesk: tuple[FakeFreshdesk, FreshdeskAdapter]) -> None:
    service, adapter = freshdesk
    anonymous = TICKET.model_copy(update={"requester_email": None, "external_id": "esc_anon"})
    with pytest.raises(TicketingValidationError, match="default_requester"):
        await adapter.create_ticket(anonymous)
    fallback = make(service, default_requester="escalations@acme.example")
    try:
        ref = await fallback.create_ticket(anonymous)
        assert service.tickets[int(ref.id)]["requester_email"] == "escalations@acme.example"
        assert (await fallback.create_ticket(anonymous)).id == ref.id
    finally:
        await fallback.aclose()
    with pytest.raises(TicketingValidationError) as invalid:
        await adapter.create_ticket(TICKET.model_copy(update={"requester_email": "nope", "external_id": "x"}))
    assert invalid.value.status_code == 400 and "invalid_value" in invalid.value.body


def test_freshdesk_uri() -> None:
    adapter = open_ticketing("freshdesk://acme", settings=TicketingSettings(token="k"))
    assert isinstance(adapter, FreshdeskAdapter) and adapter.base_url == "https://acme.freshdesk.com/api/v2"
    with pytest.raises(ConfigurationError, match="API key"):
        open_ticketing("freshdesk://acme", settings=TicketingSettings())
