"""The Jira Service Management adapter against its recorded shapes: conformance, then the details."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from grokassist.adapters.ticketing import NewTicket, open_ticketing
from grokassist.adapters.ticketing._http import marker
from grokassist.adapters.ticketing.jira_sm import JiraServiceManagementAdapter, map_status
from grokassist.config import TicketingSettings
from grokassist.errors import ConfigurationError, TicketingAuthError, TicketNotFoundError
from grokassist.testing import FAULT_KINDS, FaultKind, check_ticketing_conformance

from .fake_jira_sm import EMAIL, TOKEN, FakeJiraSM


def make(service: FakeJiraSM, token: str = TOKEN, **options: object) -> JiraServiceManagementAdapter:
    return JiraServiceManagementAdapter(
        "https://acme.atlassian.net",
        "1",
        "10",
        user=EMAIL,
        token=token,
        transport=service.transport,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def jsm() -> AsyncIterator[tuple[FakeJiraSM, JiraServiceManagementAdapter]]:
    service = FakeJiraSM()
    adapter = make(service)
    yield service, adapter
    await adapter.aclose()


async def test_jsm_passes_the_conformance_check(jsm: tuple[FakeJiraSM, JiraServiceManagementAdapter]) -> None:
    service, adapter = jsm

    async def faulty(kind: FaultKind) -> JiraServiceManagementAdapter:
        broken = FakeJiraSM()
        if kind == "auth":
            return make(broken, token="expired-token")
        broken.fault = kind
        return make(broken)

    report = await check_ticketing_conformance(
        adapter, service, faulty=faulty, missing_ticket_id="HELP-999", prefix="jsm"
    )
    assert report.faults_checked == list(FAULT_KINDS)
    assert report.statuses_checked == ["pending", "resolved", "closed"]


async def test_jsm_create_sends_the_documented_shape(
    jsm: tuple[FakeJiraSM, JiraServiceManagementAdapter],
) -> None:
    service, adapter = jsm
    ticket = NewTicket(
        external_id="esc_jsm_1",
        subject="VPN drops",
        body="customer: the VPN drops at noon.",
        requester_email="lee@example.com",
        requester_name="Lee",
        priority="high",
        tags=("vpn", "remote work"),
    )
    ref = await adapter.create_ticket(ticket)
    assert (
        ref.id == "HELP-1" and ref.url == "https://acme.atlassian.net/browse/HELP-1" and ref.status == "open"
    )
    sent = json.loads(
        next(r for r in service.requests if r.method == "POST" and r.url.path.endswith("/request")).content
    )
    assert sent["serviceDeskId"] == "1" and sent["requestTypeId"] == "10" and "raiseOnBehalfOf" not in sent
    fields = sent["requestFieldValues"]
    assert fields["summary"] == "VPN drops" and fields["labels"] == [
        marker("esc_jsm_1"),
        "vpn",
        "remote-work",
    ]
    for line in (
        "the VPN drops at noon.",
        "priority: high",
        "requester: Lee <lee@example.com>",
        "escalation: esc_jsm_1",
    ):
        assert line in fields["description"]
    behalf = make(service, raise_on_behalf=True)
    try:
        await behalf.create_ticket(ticket.model_copy(update={"external_id": "esc_jsm_2"}))
    finally:
        await behalf.aclose()
    last = json.loads(
        [r for r in service.requests if r.method == "POST" and r.url.path.endswith("/request")][-1].content
    )
    assert last["raiseOnBehalfOf"] == "lee@example.com"


async def test_jsm_errors(jsm: tuple[FakeJiraSM, JiraServiceManagementAdapter]) -> None:
    service, adapter = jsm
    with pytest.raises(TicketNotFoundError):
        await adapter.add_comment("not a key!", "hello", public=True)
    assert service.requests == []  # refused before sending
    broken = make(service, token="wrong")
    try:
        with pytest.raises(TicketingAuthError) as caught:
            await broken.find_ticket("x")
    finally:
        await broken.aclose()
    assert "Client must be authenticated" in caught.value.body


def test_jsm_status_mapping_and_uri() -> None:
    assert map_status("Waiting for support", "NEW") == "open"
    assert map_status("Waiting for customer", "INDETERMINATE") == "pending"
    assert map_status("Resolved", "DONE") == "resolved" and map_status("Canceled", "DONE") == "closed"
    settings = TicketingSettings(user=EMAIL, token=TOKEN)
    adapter = open_ticketing("jsm://acme/1/10", settings=settings)
    assert (
        isinstance(adapter, JiraServiceManagementAdapter) and adapter.base_url == "https://acme.atlassian.net"
    )
    with pytest.raises(ConfigurationError, match="SERVICE_DESK_ID/REQUEST_TYPE_ID"):
        open_ticketing("jsm://acme.atlassian.net/1", settings=settings)
