"""Jira Service Management (Cloud), over the service desk REST API, with httpx.

- **Idempotency**: Jira has no idempotency key. Each request carries a marker label
  (``grokassist-`` and 12 hex digits of the escalation id's SHA-256, set through
  ``requestFieldValues``, so the request type must show the Labels field, hidden or not) and the
  id in its description; :meth:`find_ticket` looks the label up with JQL
  (``POST /rest/api/3/search/jql``) before creating.
- **Public vs internal**: a request comment with ``public: true`` (the customer sees it in the
  portal and by mail) or ``public: false`` (agents only).
- **Updates**: the request's comments after a comment id and its status changes after a time,
  merged oldest first; the cursor holds both.
- **Status**: from the status category and name: ``DONE`` -> resolved (closed for Closed,
  Canceled, Declined, Rejected, Won't do), a name with "waiting for customer" or "pending" ->
  pending, anything else -> open.

Why httpx and not ``jira``: the ``jira`` package is synchronous, its session retries 429 and 503
itself with sleeps (the outbox must see ``Retry-After``), and it wraps the platform API: the
service desk endpoints this adapter needs (create request, public/internal comments, status
history) are not all there.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ...errors import ConfigurationError, TicketingValidationError, TicketNotFoundError
from ._http import DEFAULT_TIMEOUT, HttpAdapter, decode_cursor, encode_cursor, marker, parse_time, story
from .base import NewTicket, TicketRef, TicketStatus, TicketUpdate

__all__ = ["JiraServiceManagementAdapter", "map_status"]

_CLOSED = ("closed", "canceled", "cancelled", "declined", "rejected", "won't do")
_PAGE = 100


def map_status(name: str, category: str) -> TicketStatus:
    """grokassist's status for a JSM status name and category (``NEW``, ``INDETERMINATE``, ``DONE``)."""
    lowered = name.lower()
    if category.upper() == "DONE":
        return "closed" if lowered in _CLOSED else "resolved"
    if "waiting for customer" in lowered or "pending" in lowered:
        return "pending"
    return "open"


class JiraServiceManagementAdapter(HttpAdapter):
    """Requests in one service desk (``service_desk_id``) of one request type (``request_type_id``).

    Authenticate with an agent's Atlassian e-mail (``user``) and API token. The agent must be a
    member of the service desk project (Service Desk Team role) to raise requests, add internal
    comments and browse them.
    """

    system = "Jira Service Management"

    def __init__(
        self,
        url: str,
        service_desk_id: str,
        request_type_id: str,
        *,
        user: str | None = None,
        token: str | None = None,
        password: str | None = None,
        raise_on_behalf: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not (user and token) or password:
            raise ConfigurationError(
                "Jira Service Management: set user (the agent's e-mail) and token (an API token)"
            )
        self.web_url = url.rstrip("/")
        super().__init__(self.web_url, auth=(user, token), timeout=timeout, transport=transport)
        self.name = f"jsm:{self.web_url}/{service_desk_id}/{request_type_id}"
        self.service_desk_id = str(service_desk_id)
        self.request_type_id = str(request_type_id)
        self.raise_on_behalf = raise_on_behalf in (True, "true", "1", "yes")
        self._me: str | None = None
        self._lock = asyncio.Lock()

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        existing = await self.find_ticket(ticket.external_id)
        if existing is not None:
            return existing
        body: dict[str, Any] = {
            "serviceDeskId": self.service_desk_id,
            "requestTypeId": self.request_type_id,
            "requestFieldValues": {
                "summary": ticket.subject,
                "description": story(ticket, with_priority=True, with_requester=not self.raise_on_behalf),
                "labels": [marker(ticket.external_id), *(t.replace(" ", "-") for t in ticket.tags)],
            },
        }
        if self.raise_on_behalf and ticket.requester_email:
            body["raiseOnBehalfOf"] = ticket.requester_email
        created = await self._request("POST", "/rest/servicedeskapi/request", json_body=body)
        status = created.get("currentStatus") or {}
        return self._ref(
            str(created["issueKey"]),
            map_status(str(status.get("status", "")), str(status.get("statusCategory", "NEW"))),
            ticket.external_id,
        )

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        found = await self._request(
            "POST",
            "/rest/api/3/search/jql",
            json_body={"jql": f'labels = "{marker(external_id)}" ORDER BY created ASC', "fields": ["status"]},
        )
        issues = found.get("issues") or []
        if not issues:
            return None
        status = (issues[0].get("fields") or {}).get("status") or {}
        category = str((status.get("statusCategory") or {}).get("key", "new"))
        category = {"indeterminate": "INDETERMINATE", "done": "DONE"}.get(category, "NEW")
        return self._ref(
            str(issues[0]["key"]), map_status(str(status.get("name", "")), category), external_id
        )

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        if not body.strip():
            raise TicketingValidationError("an empty comment was not sent", system=self.system)
        await self._request(
            "POST",
            f"/rest/servicedeskapi/request/{_key(ticket_id, self.system)}/comment",
            json_body={"body": body, "public": public},
        )

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        key = _key(ticket_id, self.system)
        state = decode_cursor(cursor, system=self.system)
        last_comment, last_time = int(state.get("c", 0)), state.get("t")
        me = await self._my_id()
        comments = await self._pages(
            f"/rest/servicedeskapi/request/{key}/comment", public="true", internal="true"
        )
        history = await self._pages(f"/rest/servicedeskapi/request/{key}/status")
        history.sort(key=lambda s: int((s.get("statusDate") or {}).get("epochMillis", 0)))
        events: list[tuple[int, int, dict[str, Any]]] = []  # (time, order, update fields)
        for comment in comments:
            if int(comment["id"]) <= last_comment:
                continue
            author = comment.get("author") or {}
            created = comment.get("created") or {}
            events.append(
                (
                    int(created.get("epochMillis", 0)),
                    int(comment["id"]),
                    {
                        "kind": "public_reply" if comment.get("public") else "internal_note",
                        "body": str(comment.get("body") or "").strip(),
                        "author": str(author.get("displayName") or author.get("accountId") or ""),
                        "created": parse_time(created.get("iso8601")),
                        "own": me is not None and author.get("accountId") == me,
                        "comment": int(comment["id"]),
                    },
                )
            )
        previous: TicketStatus | None = None
        for index, entry in enumerate(history):
            when = int((entry.get("statusDate") or {}).get("epochMillis", 0))
            status = map_status(str(entry.get("status", "")), str(entry.get("statusCategory", "NEW")))
            changed = previous is not None and status != previous
            previous = status
            if index == 0 or not changed or (last_time is not None and when <= int(last_time)):
                continue
            events.append(
                (
                    when,
                    0,
                    {
                        "kind": "status",
                        "status": status,
                        "created": parse_time((entry.get("statusDate") or {}).get("iso8601")),
                        "time": when,
                    },
                )
            )
        updates: list[TicketUpdate] = []
        comment_mark, time_mark = last_comment, last_time
        for _, _, fields in sorted(events, key=lambda e: (e[0], e[1])):
            comment_mark = max(comment_mark, fields.pop("comment", 0))
            time_mark = fields.pop("time", time_mark)
            cursor_state = {"c": comment_mark, "t": time_mark}
            updates.append(TicketUpdate(ticket_id=key, cursor=encode_cursor(cursor_state), **fields))
        return updates

    # -- helpers ------------------------------------------------------------------------------

    def _ref(self, key: str, status: TicketStatus, external_id: str) -> TicketRef:
        return TicketRef(id=key, url=f"{self.web_url}/browse/{key}", status=status, external_id=external_id)

    async def _my_id(self) -> str | None:
        if self._me is None:
            async with self._lock:
                if self._me is None:
                    me = await self._request("GET", "/rest/api/3/myself")
                    self._me = str(me["accountId"])
        return self._me

    async def _pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        values: list[dict[str, Any]] = []
        start = 0
        while True:
            page = await self._request("GET", path, params={**params, "start": start, "limit": _PAGE})
            items = page.get("values") or []
            values.extend(items)
            if page.get("isLastPage", True) or not items:
                return values
            start += len(items)


def _key(ticket_id: str, system: str) -> str:
    """A request key (``HELP-12``) or issue id, or a clear error before any request."""
    if not ticket_id or not all(part.isalnum() for part in ticket_id.split("-")):
        raise TicketNotFoundError(f"no request {ticket_id!r}: expected a key such as HELP-12", system=system)
    return ticket_id


def from_uri(uri: str, **options: Any) -> JiraServiceManagementAdapter:
    """``jsm://SITE.atlassian.net/SERVICE_DESK_ID/REQUEST_TYPE_ID`` (a bare SITE gets ``.atlassian.net``)."""
    from .registry import split_uri

    origin, _, parts = split_uri(uri, default_host="{}.atlassian.net")
    if len(parts) != 2:
        raise ConfigurationError(f"{uri!r}: write jsm://SITE/SERVICE_DESK_ID/REQUEST_TYPE_ID")
    return JiraServiceManagementAdapter(origin, parts[0], parts[1], **options)
