"""The Request Tracker adapter against a real RT 5 (started by the suite), through the conformance check."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from grokassist.adapters.ticketing import NewTicket, TicketStatus
from grokassist.adapters.ticketing.registry import open_ticketing
from grokassist.adapters.ticketing.rt import RequestTrackerAdapter
from grokassist.config import TicketingSettings
from grokassist.errors import ConfigurationError, TicketingAuthError, TicketingValidationError
from grokassist.testing import FaultKind, check_ticketing_conformance

from .rt_server import RTServer

pytestmark = pytest.mark.integration

#: RT's statuses for grokassist's (the agent sets these through REST 2)
RT_STATUS = {"open": "open", "pending": "stalled", "resolved": "resolved", "closed": "rejected"}


class RTAgent:
    """The human agent: RT user ``agent``, over REST 2 (blocking calls, in a worker thread)."""

    def __init__(self, rt: RTServer) -> None:
        self.rt = rt

    async def reply(self, ticket_id: str, body: str) -> None:
        await anyio.to_thread.run_sync(self.rt.reply_as_agent, ticket_id, body)

    async def note(self, ticket_id: str, body: str) -> None:
        await anyio.to_thread.run_sync(self.rt.note_as_agent, ticket_id, body)

    async def set_status(self, ticket_id: str, status: TicketStatus) -> bool:
        await anyio.to_thread.run_sync(self.rt.set_status, ticket_id, RT_STATUS[status])
        return True


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a hung server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


@pytest.fixture
async def adapter(rt_server: RTServer) -> AsyncIterator[RequestTrackerAdapter]:
    adapter = open_ticketing(
        rt_server.adapter_uri, settings=TicketingSettings(), token=rt_server.adapter_token
    )
    assert isinstance(adapter, RequestTrackerAdapter)
    yield adapter
    await adapter.aclose()


async def test_rt_passes_the_conformance_check(
    rt_server: RTServer, adapter: RequestTrackerAdapter, silent_port: int
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now

    async def faulty(kind: FaultKind) -> RequestTrackerAdapter | None:
        if kind == "auth":
            return RequestTrackerAdapter(rt_server.url, token="1-27-0123456789abcdef0123456789abcdef")
        if kind == "unreachable":
            return RequestTrackerAdapter(f"http://127.0.0.1:{closed_port}", token=rt_server.adapter_token)
        if kind == "timeout":
            return RequestTrackerAdapter(f"http://127.0.0.1:{silent_port}", token="x-1-y", timeout=0.5)
        return None  # RT has no rate limit; its 400s and 5xx are covered by the SaaS fakes' shared layer

    report = await check_ticketing_conformance(adapter, RTAgent(rt_server), faulty=faulty, prefix="rt")
    assert report.statuses_checked == ["pending", "resolved", "closed"]
    assert report.faults_checked == ["auth", "timeout", "unreachable"]


async def test_rt_ticket_carries_the_whole_story_and_basic_auth_works(rt_server: RTServer) -> None:
    adapter = RequestTrackerAdapter(
        rt_server.url, user=rt_server.adapter_user, password=rt_server.adapter_password
    )
    ticket = NewTicket(
        external_id="rt-story-1",
        subject="Cancel my subscription",
        body="customer: I want to cancel.\nassistant: I can't do that, a person will help.",
        requester_email="dana@example.com",
        priority="urgent",
        tags=("billing", "cancel"),
        metadata={"plan": "family", "device": "router gen 3"},
    )
    try:
        ref = await adapter.create_ticket(ticket)
    finally:
        await adapter.aclose()
    stored = await anyio.to_thread.run_sync(
        lambda: rt_server.request("GET", f"/ticket/{ref.id}?fields=Subject,Priority,Requestor,CustomFields")
    )
    assert stored["Subject"] == "Cancel my subscription" and stored["Priority"] == "100"
    assert [r["id"] for r in stored["Requestor"]] == ["dana@example.com"]
    history = await anyio.to_thread.run_sync(lambda: rt_server.request("GET", f"/ticket/{ref.id}/history"))
    create = history["items"][0]["id"]
    parts = await anyio.to_thread.run_sync(
        lambda: rt_server.request("GET", f"/transaction/{create}/attachments?fields=Content")
    )
    content = parts["items"][0]["Content"]
    for line in ("I want to cancel.", "device: router gen 3", "plan: family", "tags: billing, cancel"):
        assert line in content
    assert ref.url == f"{rt_server.url}/Ticket/Display.html?id={ref.id}"


async def test_rt_refuses_to_create_where_it_cannot_store_the_external_id(rt_server: RTServer) -> None:
    adapter = RequestTrackerAdapter(
        rt_server.url, token=rt_server.adapter_token, external_id_field="No Such Field"
    )
    try:
        with pytest.raises(TicketingValidationError, match="did not store its external id"):
            await adapter.create_ticket(NewTicket(external_id="rt-nofield", subject="s", body="b"))
    finally:
        await adapter.aclose()


async def test_rt_wrong_password_is_an_auth_error_without_the_secret(rt_server: RTServer) -> None:
    adapter = RequestTrackerAdapter(rt_server.url, user="grokassist", password="wrong-password-123")
    try:
        with pytest.raises(TicketingAuthError) as caught:
            await adapter.find_ticket("anything")
    finally:
        await adapter.aclose()
    assert caught.value.status_code == 401 and not caught.value.retryable
    assert "wrong-password-123" not in str(caught.value) and "wrong-password-123" not in repr(adapter)


def test_rt_uri_forms() -> None:
    settings = TicketingSettings()
    adapter = open_ticketing("rt://rt.example.com/rt/Support", settings=settings, token="t")
    assert isinstance(adapter, RequestTrackerAdapter)
    assert adapter.base_url == "https://rt.example.com/rt/REST/2.0" and adapter.queue == "Support"
    plain = open_ticketing("rt+http://127.0.0.1:8080/General", settings=settings, user="u", password="p")
    assert isinstance(plain, RequestTrackerAdapter) and plain.base_url == "http://127.0.0.1:8080/REST/2.0"
    with pytest.raises(ConfigurationError, match="no queue"):
        open_ticketing("rt://rt.example.com", settings=settings, token="t")
    with pytest.raises(ConfigurationError, match="token, or a user and a password"):
        open_ticketing("rt://rt.example.com/General", settings=settings)
