"""The Zendesk adapter against Zendesk's recorded shapes: the conformance check, then the details."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from grokassist.adapters.ticketing import NewTicket, open_ticketing
from grokassist.adapters.ticketing.zendesk import ZendeskAdapter
from grokassist.config import TicketingSettings
from grokassist.errors import (
    ConfigurationError,
    TicketingAuthError,
    TicketingUnavailableError,
    TicketingValidationError,
)
from grokassist.testing import FAULT_KINDS, FaultKind, check_ticketing_conformance

from .fake_zendesk import EMAIL, TOKEN, FakeZendesk

TICKET = NewTicket(
    external_id="esc_zd_1",
    subject="Refund for a double charge",
    body="customer: I was charged twice.",
    requester_email="sam@example.com",
    requester_name="Sam Customer",
    priority="urgent",
    tags=("billing", "refund"),
    metadata={"plan": "pro"},
)


def make(service: FakeZendesk, token: str = TOKEN) -> ZendeskAdapter:
    return ZendeskAdapter("https://acme.zendesk.com", user=EMAIL, token=token, transport=service.transport)


@pytest.fixture
async def zendesk() -> AsyncIterator[tuple[FakeZendesk, ZendeskAdapter]]:
    service = FakeZendesk()
    adapter = make(service)
    yield service, adapter
    await adapter.aclose()


async def test_zendesk_passes_the_conformance_check(zendesk: tuple[FakeZendesk, ZendeskAdapter]) -> None:
    service, adapter = zendesk

    async def faulty(kind: FaultKind) -> ZendeskAdapter:
        broken = FakeZendesk()
        if kind == "auth":
            return make(broken, token="wrong-token")
        broken.fault = kind
        return make(broken)

    report = await check_ticketing_conformance(adapter, service, faulty=faulty, prefix="zd")
    assert report.faults_checked == list(FAULT_KINDS)
    assert report.statuses_checked == ["pending", "resolved", "closed"]


async def test_zendesk_create_sends_the_documented_shape(zendesk: tuple[FakeZendesk, ZendeskAdapter]) -> None:
    service, adapter = zendesk
    ref = await adapter.create_ticket(TICKET)
    post = next(r for r in service.requests if r.method == "POST")
    assert post.url.path == "/api/v2/tickets" and post.headers["Idempotency-Key"] == "esc_zd_1"
    sent = json.loads(post.content)["ticket"]
    assert sent["external_id"] == "esc_zd_1" and sent["priority"] == "urgent"
    assert sent["tags"] == ["billing", "refund"] and sent["subject"] == "Refund for a double charge"
    assert sent["requester"] == {"email": "sam@example.com", "name": "Sam Customer"}
    assert "I was charged twice." in sent["comment"]["body"] and "plan: pro" in sent["comment"]["body"]
    assert ref.url == f"https://acme.zendesk.com/agent/tickets/{ref.id}" and ref.status == "open"


async def test_zendesk_idempotency_key_covers_a_lookup_that_misses(
    zendesk: tuple[FakeZendesk, ZendeskAdapter],
) -> None:
    """A create whose answer was lost, retried while the look-up misses: the key replays the ticket."""
    service, adapter = zendesk
    first = await adapter.create_ticket(TICKET)
    service.lookup_misses = True
    replay = await adapter.create_ticket(TICKET)
    assert replay.id == first.id and len(service.tickets) == 1
    posts = [r for r in service.requests if r.method == "POST"]
    assert len(posts) == 2 and posts[0].content == posts[1].content  # the same body: a replay, not a 400


async def test_zendesk_conflicts_and_refusals(zendesk: tuple[FakeZendesk, ZendeskAdapter]) -> None:
    service, adapter = zendesk
    with pytest.raises(TicketingValidationError) as invalid:
        await adapter.create_ticket(TICKET.model_copy(update={"requester_email": "not-an-email"}))
    assert invalid.value.status_code == 422 and "RecordInvalid" in invalid.value.body
    assert not invalid.value.retryable and service.tickets == {}

    # a 409 on create: a request with the same key is still in flight; retrying later is right
    def in_flight_409(request: httpx.Request) -> httpx.Response:
        return service.error(409) if request.method == "POST" else service._handle(request)

    conflict = httpx.MockTransport(in_flight_409)
    busy = ZendeskAdapter("https://acme.zendesk.com", user=EMAIL, token=TOKEN, transport=conflict)
    try:
        with pytest.raises(TicketingUnavailableError) as in_flight:
            await busy.create_ticket(TICKET)
    finally:
        await busy.aclose()
    assert in_flight.value.retryable and in_flight.value.status_code == 409


async def test_zendesk_secrets_stay_out_of_errors_and_reprs() -> None:
    service = FakeZendesk()
    adapter = make(service, token="sk-very-secret-zd")
    try:
        with pytest.raises(TicketingAuthError) as caught:
            await adapter.find_ticket("x")
    finally:
        await adapter.aclose()
    assert "sk-very-secret-zd" not in str(caught.value) + repr(caught.value) + repr(adapter)
    settings = TicketingSettings(url="zendesk://acme", user=EMAIL, token="sk-very-secret-zd")
    assert "sk-very-secret-zd" not in repr(settings) + str(settings.model_dump())


def test_zendesk_uri_and_credentials() -> None:
    settings = TicketingSettings(user=EMAIL, token=TOKEN)
    adapter = open_ticketing("zendesk://acme", settings=settings)
    assert isinstance(adapter, ZendeskAdapter) and adapter.base_url == "https://acme.zendesk.com/api/v2"
    mapped = open_ticketing("zendesk://help.acme.com", settings=settings)
    assert isinstance(mapped, ZendeskAdapter) and mapped.base_url == "https://help.acme.com/api/v2"
    with pytest.raises(ConfigurationError, match="API token"):
        open_ticketing("zendesk://acme", settings=TicketingSettings())
    with pytest.raises(ConfigurationError, match="not a password"):
        open_ticketing("zendesk://acme", settings=TicketingSettings(), user=EMAIL, password="pw", token="t")
    with pytest.raises(ConfigurationError, match=r"zendesk: .*queue"):
        open_ticketing("zendesk://acme", settings=settings, queue="General")
