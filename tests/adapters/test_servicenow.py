"""The ServiceNow adapter against the Table API's recorded shapes: conformance, then the details."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from grokassist.adapters.ticketing import NewTicket, open_ticketing
from grokassist.adapters.ticketing.servicenow import ServiceNowAdapter
from grokassist.config import TicketingSettings
from grokassist.errors import ConfigurationError, TicketingValidationError
from grokassist.testing import FAULT_KINDS, FaultKind, check_ticketing_conformance

from .fake_servicenow import PASSWORD, USER, FakeServiceNow


def make(service: FakeServiceNow, password: str = PASSWORD) -> ServiceNowAdapter:
    return ServiceNowAdapter(
        "https://acme.service-now.com", user=USER, password=password, transport=service.transport
    )


@pytest.fixture
async def servicenow() -> AsyncIterator[tuple[FakeServiceNow, ServiceNowAdapter]]:
    service = FakeServiceNow()
    adapter = make(service)
    yield service, adapter
    await adapter.aclose()


async def test_servicenow_passes_the_conformance_check(
    servicenow: tuple[FakeServiceNow, ServiceNowAdapter],
) -> None:
    service, adapter = servicenow

    async def faulty(kind: FaultKind) -> ServiceNowAdapter:
        broken = FakeServiceNow()
        if kind == "auth":
            return make(broken, password="wrong")
        broken.fault = kind
        return make(broken)

    report = await check_ticketing_conformance(
        adapter, service, faulty=faulty, missing_ticket_id="0" * 32, prefix="sn"
    )
    assert report.faults_checked == list(FAULT_KINDS)
    assert report.statuses_checked == ["pending", "resolved", "closed"]


async def test_servicenow_create_uses_correlation_id(
    servicenow: tuple[FakeServiceNow, ServiceNowAdapter],
) -> None:
    service, adapter = servicenow
    ticket = NewTicket(
        external_id="esc_sn_1",
        subject="Printer on fire",
        body="customer: smoke is coming out.",
        requester_email="pat@example.com",
        priority="urgent",
    )
    ref = await adapter.create_ticket(ticket)
    sent = json.loads(next(r for r in service.requests if r.method == "POST").content)
    assert sent["correlation_id"] == "esc_sn_1" and sent["short_description"] == "Printer on fire"
    assert (sent["impact"], sent["urgency"]) == ("1", "1")
    assert "requester: <pat@example.com>" in sent["description"]
    assert ref.url == f"https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id={ref.id}"
    assert (await adapter.create_ticket(ticket)).id == ref.id and len(service.incidents) == 1
    with pytest.raises(TicketingValidationError, match="query syntax"):
        await adapter.find_ticket("esc^ORnumber=INC1")


async def test_servicenow_entries_in_the_same_second_are_all_seen(
    servicenow: tuple[FakeServiceNow, ServiceNowAdapter],
) -> None:
    service, adapter = servicenow
    ref = await adapter.create_ticket(NewTicket(external_id="esc_sn_2", subject="s", body="b"))
    service.now = lambda: service._clock  # type: ignore[method-assign]  # the clock stops
    await service.reply(ref.id, "first")
    first = await adapter.updates_since(ref.id)
    await service.reply(ref.id, "second, same second")
    second = await adapter.updates_since(ref.id, first[-1].cursor)
    assert [u.body for u in first] == ["first"] and [u.body for u in second] == ["second, same second"]


def test_servicenow_uri_and_credentials() -> None:
    adapter = open_ticketing("servicenow://acme", settings=TicketingSettings(user="u", password="p"))
    assert isinstance(adapter, ServiceNowAdapter) and adapter.base_url == "https://acme.service-now.com"
    assert adapter.table == "incident"
    other = open_ticketing(
        "servicenow://acme/sn_customerservice_case", settings=TicketingSettings(user="u", password="p")
    )
    assert isinstance(other, ServiceNowAdapter) and other.table == "sn_customerservice_case"
    with pytest.raises(ConfigurationError, match="user and password"):
        open_ticketing("servicenow://acme", settings=TicketingSettings(token="t"))
