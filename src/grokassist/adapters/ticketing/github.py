"""GitHub Issues, over the REST API, with httpx.

- **Idempotency**: GitHub has no idempotency key. Each issue carries, in its body, an HTML comment
  with a marker (``grokassist-`` and 12 hex digits of the escalation id's SHA-256), and the label
  ``grokassist`` for people. :meth:`find_ticket` lists the newest issues the adapter's own account
  opened (a database listing, so an issue opened a moment ago is there; labels play no part, as
  GitHub drops labels a token may not set), then asks the search API for older ones (the search
  index trails by up to a minute, so it is not the first look).
- **Public vs internal**: GitHub has no private comments. An internal note is a comment that
  starts with ``<!-- grokassist:internal -->`` and says it is internal; an agent marks a note
  the same way or by starting it with ``/note``. Anyone who can read the repository reads them:
  use a private repository.
- **Updates**: the issue's comments after a comment id, oldest first, then the issue's state if it
  moved; the cursor holds both.
- **Status**: open -> open (pending while it carries a label of ``pending_labels``), closed as
  completed -> resolved, closed as not planned or duplicate -> closed.

Why httpx and not ``PyGithub``: PyGithub is synchronous (requests) and its default retry sleeps
through rate limits in the calling thread; the outbox wants the wait (``Retry-After`` or
``x-ratelimit-reset``) to schedule the retry itself. Five endpoints do not need it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from ...errors import (
    ConfigurationError,
    TicketingError,
    TicketingRateLimitError,
    TicketingValidationError,
    TicketNotFoundError,
)
from ._http import DEFAULT_TIMEOUT, HttpAdapter, decode_cursor, encode_cursor, marker, parse_time, story
from .base import NewTicket, TicketRef, TicketStatus, TicketUpdate

__all__ = ["INTERNAL", "GitHubIssuesAdapter"]

#: The first line of an internal note.
INTERNAL = "<!-- grokassist:internal -->"
_NOTE_PREFIX = "/note"
_LABEL = "grokassist"
_PAGE = 100


class GitHubIssuesAdapter(HttpAdapter):
    """Issues of one repository (``owner/repo``), with a token that may read and write issues.

    A fine-grained personal access token (or a GitHub App's) needs *Issues: read and write* on the
    repository; a classic token the ``repo`` scope (``public_repo`` for a public one).
    """

    system = "GitHub"

    def __init__(
        self,
        repository: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        api_url: str = "https://api.github.com",
        web_url: str = "https://github.com",
        login: str | None = None,
        pending_labels: tuple[str, ...] | str = ("pending", "waiting for customer"),
        lookup_pages: int = 3,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token or password:
            raise ConfigurationError("GitHub: set a token (fine-grained, Issues: read and write)")
        owner, _, repo = repository.partition("/")
        if not owner or not repo or "/" in repo:
            raise ConfigurationError(f"GitHub: {repository!r} is not owner/repo")
        super().__init__(
            api_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            timeout=timeout,
            transport=transport,
        )
        self.repository = repository
        self.web_url = web_url.rstrip("/")
        self.name = f"github:{repository}"
        self._repo = f"/repos/{owner}/{repo}"
        self._login = login or user
        if isinstance(pending_labels, str):
            pending_labels = tuple(p.strip() for p in pending_labels.split(",") if p.strip())
        self.pending_labels = {label.lower() for label in pending_labels}
        self.lookup_pages = int(lookup_pages)
        self._lock = asyncio.Lock()

    # -- the protocol -------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        existing = await self.find_ticket(ticket.external_id)
        if existing is not None:
            return existing
        body = story(ticket, with_tags=False, with_priority=True, with_requester=True)
        created = await self._request(
            "POST",
            f"{self._repo}/issues",
            json_body={
                "title": ticket.subject,
                "body": f"{body}\n\n<!-- {marker(ticket.external_id)} -->",
                "labels": [_LABEL, *ticket.tags],
            },
        )
        return self._ref(created, ticket.external_id)

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        tag = marker(external_id)
        login = await self._my_login()
        for page in range(1, self.lookup_pages + 1):
            issues = await self._request(
                "GET",
                f"{self._repo}/issues",
                params={
                    "state": "all",
                    "creator": login,
                    "sort": "created",
                    "direction": "desc",
                    "per_page": _PAGE,
                    "page": page,
                },
            )
            mine = [i for i in issues if "pull_request" not in i and tag in (i.get("body") or "")]
            if mine:
                return self._ref(min(mine, key=lambda i: int(i["number"])), external_id)
            if len(issues) < _PAGE:
                return None  # every issue the account opened was listed
        found = await self._request(
            "GET", "/search/issues", params={"q": f'repo:{self.repository} is:issue in:body "{tag}"'}
        )
        items = [
            i
            for i in found.get("items") or []
            if tag in (i.get("body") or "") and (i.get("user") or {}).get("login") == login
        ]  # the account's own issues only: anyone can paste a marker into an issue
        return self._ref(min(items, key=lambda i: int(i["number"])), external_id) if items else None

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        _check_number(ticket_id, self.system)
        if not body.strip():
            raise TicketingValidationError("an empty comment was not sent", system=self.system)
        if not public:
            body = f"{INTERNAL}\n_Internal note from grokassist (for the team, not the customer)._\n\n{body}"
        await self._request("POST", f"{self._repo}/issues/{ticket_id}/comments", json_body={"body": body})

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        _check_number(ticket_id, self.system)
        state = decode_cursor(cursor, system=self.system)
        last_comment, last_status = int(state.get("c", 0)), state.get("s", "open")
        login = await self._my_login()
        issue = await self._request("GET", f"{self._repo}/issues/{ticket_id}")
        comments = await self._comments(ticket_id)
        updates: list[TicketUpdate] = []
        for comment in sorted(comments, key=lambda c: int(c["id"])):
            if int(comment["id"]) <= last_comment:
                continue
            last_comment = int(comment["id"])
            text = str(comment.get("body") or "")
            internal = text.lstrip().startswith((INTERNAL, _NOTE_PREFIX))
            if internal:
                text = text.replace(INTERNAL, "", 1).lstrip()
                text = text[len(_NOTE_PREFIX) :].lstrip() if text.startswith(_NOTE_PREFIX) else text
            author = str((comment.get("user") or {}).get("login") or "")
            updates.append(
                TicketUpdate(
                    ticket_id=ticket_id,
                    kind="internal_note" if internal else "public_reply",
                    author=author,
                    body=text.strip(),
                    created=parse_time(comment.get("created_at")),
                    cursor=encode_cursor({"c": last_comment, "s": last_status}),
                    own=author == login,
                )
            )
        status = self._status(issue)
        if status != last_status:
            updates.append(
                TicketUpdate(
                    ticket_id=ticket_id,
                    kind="status",
                    status=status,
                    author=str((issue.get("closed_by") or {}).get("login") or ""),
                    created=parse_time(issue.get("closed_at") or issue.get("updated_at")),
                    cursor=encode_cursor({"c": last_comment, "s": status}),
                )
            )
        return updates

    # -- helpers ------------------------------------------------------------------------------

    def _status(self, issue: dict[str, Any]) -> TicketStatus:
        if issue.get("state") == "closed":
            return "closed" if issue.get("state_reason") in ("not_planned", "duplicate") else "resolved"
        labels = {str(label.get("name", "")).lower() for label in issue.get("labels") or []}
        return "pending" if labels & self.pending_labels else "open"

    def _ref(self, issue: dict[str, Any], external_id: str) -> TicketRef:
        return TicketRef(
            id=str(issue["number"]),
            url=str(issue.get("html_url") or f"{self.web_url}/{self.repository}/issues/{issue['number']}"),
            status=self._status(issue),
            external_id=external_id,
        )

    async def _my_login(self) -> str:
        if self._login is None:
            async with self._lock:
                if self._login is None:
                    me = await self._request("GET", "/user")
                    self._login = str(me["login"])
        return self._login

    async def _comments(self, number: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            items = await self._request(
                "GET", f"{self._repo}/issues/{number}/comments", params={"per_page": _PAGE, "page": page}
            )
            found.extend(items)
            if len(items) < _PAGE:
                return found
            page += 1

    def _error(self, response: httpx.Response, what: str) -> TicketingError:
        """GitHub answers a rate limit with 403 or 429, ``x-ratelimit-remaining: 0`` or ``Retry-After``."""
        headers = response.headers
        limited = headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
        if response.status_code in (403, 429) and (limited or "rate limit" in response.text.lower()):
            error = super()._error(response, what)
            wait = error.retry_after
            reset = headers.get("x-ratelimit-reset")
            if wait is None and reset and reset.isdigit():
                wait = max(int(reset) - time.time(), 0.0)
            return TicketingRateLimitError(
                f"{what}: rate limited",
                system=self.system,
                status_code=response.status_code,
                body=response.text[:1000],
                retry_after=wait if wait is not None else 60.0,  # GitHub: wait at least a minute
            )
        if response.status_code == 410:  # issues disabled, or the issue was deleted
            return TicketNotFoundError(
                f"{what}: gone", system=self.system, status_code=410, body=response.text
            )
        return super()._error(response, what)


def _check_number(ticket_id: str, system: str) -> None:
    if not ticket_id.isdigit():
        raise TicketNotFoundError(f"no issue {ticket_id!r}: issue numbers are numbers", system=system)


def from_uri(uri: str, **options: Any) -> GitHubIssuesAdapter:
    """``github://OWNER/REPO``, or ``github://ghe.example.com/OWNER/REPO`` for GitHub Enterprise Server."""
    scheme, _, rest = uri.partition("://")
    parts = [p for p in rest.split("/") if p]
    if parts and "." in parts[0]:
        host, parts = parts[0], parts[1:]
        origin = f"{'http' if scheme.endswith('+http') else 'https'}://{host}"
        options.setdefault("api_url", f"{origin}/api/v3")
        options.setdefault("web_url", origin)
    if len(parts) != 2:
        raise ConfigurationError(f"{uri!r}: write github://OWNER/REPO")
    return GitHubIssuesAdapter("/".join(parts), **options)
