"""The GitHub Issues adapter against GitHub's recorded shapes: conformance, then the details."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from grokassist.adapters.ticketing import NewTicket, open_ticketing
from grokassist.adapters.ticketing._http import marker
from grokassist.adapters.ticketing.github import INTERNAL, GitHubIssuesAdapter
from grokassist.config import TicketingSettings
from grokassist.errors import (
    ConfigurationError,
    TicketingAuthError,
    TicketingRateLimitError,
    TicketNotFoundError,
)
from grokassist.testing import FAULT_KINDS, FaultKind, check_ticketing_conformance

from .fake_github import BOT, OTHER, TOKEN, FakeGitHub

TICKET = NewTicket(
    external_id="esc_gh_1",
    subject="App crashes on login",
    body="customer: the app closes when I log in.",
    priority="high",
    tags=("bug",),
)


def make(
    service: FakeGitHub | httpx.MockTransport, token: str = TOKEN, **options: object
) -> GitHubIssuesAdapter:
    transport = service.transport if isinstance(service, FakeGitHub) else service
    return GitHubIssuesAdapter("acme/support", token=token, transport=transport, **options)  # type: ignore[arg-type]


@pytest.fixture
async def github() -> AsyncIterator[tuple[FakeGitHub, GitHubIssuesAdapter]]:
    service = FakeGitHub()
    adapter = make(service)
    yield service, adapter
    await adapter.aclose()


async def test_github_passes_the_conformance_check(github: tuple[FakeGitHub, GitHubIssuesAdapter]) -> None:
    service, adapter = github

    async def faulty(kind: FaultKind) -> GitHubIssuesAdapter:
        broken = FakeGitHub()
        if kind == "auth":
            return make(broken, token="ghp_revoked")
        broken.fault = kind
        return make(broken)

    report = await check_ticketing_conformance(adapter, service, faulty=faulty, prefix="gh")
    assert report.faults_checked == list(FAULT_KINDS)
    assert report.statuses_checked == ["pending", "resolved", "closed"]


async def test_github_issue_shape_and_internal_notes(github: tuple[FakeGitHub, GitHubIssuesAdapter]) -> None:
    service, adapter = github
    ref = await adapter.create_ticket(TICKET)
    sent = json.loads(next(r for r in service.requests if r.method == "POST").content)
    assert sent["title"] == "App crashes on login" and sent["labels"] == ["grokassist", "bug"]
    assert f"<!-- {marker('esc_gh_1')} -->" in sent["body"] and "priority: high" in sent["body"]
    assert ref.url == "https://github.com/acme/support/issues/1"
    await adapter.add_comment(ref.id, "Draft: try reinstalling [1]", public=False)
    posted = service.comments[1][-1]["body"]
    assert posted.startswith(INTERNAL) and "not the customer" in posted
    (note,) = await adapter.updates_since(ref.id)
    assert note.kind == "internal_note" and note.body.endswith("Draft: try reinstalling [1]") and note.own


async def test_github_finds_its_issue_among_others_before_search_sees_it(
    github: tuple[FakeGitHub, GitHubIssuesAdapter],
) -> None:
    service, adapter = github
    service.search_lags = True
    for i in range(3):
        service.open_issue(OTHER, f"unrelated {i}", f"<!-- {marker('esc_gh_1')} --> copied by someone", [])
    first = await adapter.create_ticket(TICKET)
    assert (await adapter.create_ticket(TICKET)).id == first.id and len(service.issues) == 4
    listing = next(r for r in service.requests if r.method == "GET" and r.url.path.endswith("/issues"))
    assert listing.url.params["creator"] == BOT and listing.url.params["state"] == "all"
    assert await adapter.find_ticket("esc_gh_other") is None  # not someone else's pasted marker
    for i in range(3):
        service.open_issue(OTHER, f"marker {i}", f"<!-- {marker('esc_gh_other')} -->", [])
    service.search_lags = False
    search_only = make(service, lookup_pages=0)  # as if the account had opened too many issues to list
    try:
        assert await search_only.find_ticket("esc_gh_other") is None
        found = await search_only.find_ticket("esc_gh_1")
        assert found is not None and found.id == first.id
    finally:
        await search_only.aclose()


async def test_github_rate_limits_arrive_with_their_wait() -> None:
    service = FakeGitHub()
    reset = int(time.time()) + 120

    def primary(request: httpx.Request) -> httpx.Response:
        response = service.error(403, "rate")
        response.headers["x-ratelimit-reset"] = str(reset)
        return response

    adapter = make(httpx.MockTransport(primary), login=BOT)
    try:
        with pytest.raises(TicketingRateLimitError) as caught:
            await adapter.find_ticket("x")
    finally:
        await adapter.aclose()
    assert caught.value.status_code == 403 and caught.value.retryable
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120
    forbidden = make(httpx.MockTransport(lambda r: service.error(403)), login=BOT)
    gone = make(httpx.MockTransport(lambda r: service.error(410)), login=BOT)
    try:
        with pytest.raises(TicketingAuthError):
            await forbidden.find_ticket("x")
        with pytest.raises(TicketNotFoundError):
            await gone.updates_since("1")
    finally:
        await forbidden.aclose()
        await gone.aclose()


def test_github_uri_forms() -> None:
    settings = TicketingSettings(token=TOKEN)
    adapter = open_ticketing("github://acme/support", settings=settings)
    assert isinstance(adapter, GitHubIssuesAdapter) and adapter.base_url == "https://api.github.com"
    enterprise = open_ticketing("github://ghe.acme.com/acme/support", settings=settings)
    assert (
        isinstance(enterprise, GitHubIssuesAdapter) and enterprise.base_url == "https://ghe.acme.com/api/v3"
    )
    with pytest.raises(ConfigurationError, match="OWNER/REPO"):
        open_ticketing("github://acme", settings=settings)
    with pytest.raises(ConfigurationError, match="token"):
        open_ticketing("github://acme/support", settings=TicketingSettings())
