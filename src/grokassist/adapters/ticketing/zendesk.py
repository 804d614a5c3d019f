"""Zendesk Support, over its REST API (``/api/v2``), with httpx.

- **Idempotency**: Zendesk honours an ``Idempotency-Key`` on ticket creation for two hours (a
  replay answers the first ticket with ``x-idempotency-lookup: hit``). Past that window the
  ticket's ``external_id`` is the handle: :meth:`create_ticket` lists ``GET /tickets?external_id=``
  (a database filter, not the search index, so a ticket created a moment ago is found) before
  creating, and sends the escalation id as both the key and the ``external_id``.
- **Public vs internal**: a comment with ``public: true`` (the requester is e-mailed) or
  ``public: false`` (an internal note), added with ``PUT /tickets/{id}``.
- **Updates**: the ticket's audits after an audit id (the cursor), oldest first; a ``Comment``
  event becomes a reply or a note by its ``public`` flag, a ``Change`` of ``status`` a status.
- **Status**: ``new``/``open`` -> open, ``pending``/``hold`` -> pending, ``solved`` -> resolved,
  ``closed`` -> closed.

Why httpx and not ``zenpy``: zenpy is synchronous (requests), has no way to send an
``Idempotency-Key`` on a create, and handles a 429 by sleeping in the calling thread, where the
outbox wants the ``Retry-After`` to schedule the retry itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ...errors import ConfigurationError, TicketingUnavailableError, TicketingValidationError
from ._http import DEFAULT_TIMEOUT, HttpAdapter, html_to_text, parse_time, story
from .base import NewTicket, TicketRef, TicketStatus, TicketUpdate, UpdateKind

__all__ = ["ZendeskAdapter"]

STATUS: dict[str, TicketStatus] = {
    "new": "open",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "resolved",
    "closed": "closed",
}
_PAGE = 100


class ZendeskAdapter(HttpAdapter):
    """Tickets in one Zendesk account (``https://SUBDOMAIN.zendesk.com``).

    Authenticate with an agent's e-mail address (``user``) and an API token, or with an OAuth
    access token alone. The agent needs to create tickets, comment publicly and privately and
    read audits: the Agent role does.
    """

    system = "Zendesk"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if password:
            raise ConfigurationError("Zendesk: use an API token (token=...), not a password")
        if not token:
            raise ConfigurationError(
                "Zendesk: set an API token (with user=the agent's e-mail) or an OAuth token"
            )
        headers: dict[str, str] = {}
        auth: tuple[str, str] | None = None
        if user:
            auth = (f"{user}/token", token)
        else:
            headers["Authorization"] = f"Bearer {token}"
        self.web_url = url.rstrip("/")
        super().__init__(
            f"{self.web_url}/api/v2", headers=headers, auth=auth, timeout=timeout, transport=transport
        )
        self.name = f"zendesk:{self.web_url}"
        self._me: int | None = None
        self._lock = asyncio.Lock()

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        existing = await self.find_ticket(ticket.external_id)
        if existing is not None:
            return existing
        body: dict[str, Any] = {
            "subject": ticket.subject,
            "comment": {"body": story(ticket, with_tags=False), "public": True},
            "priority": ticket.priority,
            "tags": list(ticket.tags),
            "external_id": ticket.external_id,
        }
        if ticket.requester_email:
            body["requester"] = {"email": ticket.requester_email, "name": ticket.requester_name or ""}
        try:
            created = await self._request(
                "POST",
                "/tickets",
                json_body={"ticket": body},
                headers={"Idempotency-Key": ticket.external_id},
            )
        except TicketingValidationError as exc:
            if exc.status_code == 409:  # the first request with this key is still being processed
                raise TicketingUnavailableError(
                    "a create with the same idempotency key is in flight",
                    system=self.system,
                    status_code=409,
                    body=exc.body,
                    retry_after=exc.retry_after,
                ) from exc
            raise
        return self._ref(created["ticket"])

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        found = await self._request("GET", "/tickets", params={"external_id": external_id})
        tickets = sorted(found.get("tickets") or [], key=lambda t: int(t["id"]))
        return self._ref(tickets[0]) if tickets else None

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        if not body.strip():
            raise TicketingValidationError("an empty comment was not sent", system=self.system)
        await self._request(
            "PUT",
            f"/tickets/{ticket_id}",
            json_body={"ticket": {"comment": {"body": body, "public": public}}},
        )

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        if cursor is not None and not cursor.isdigit():
            raise TicketingValidationError(f"malformed cursor {cursor[:40]!r}", system=self.system)
        after = int(cursor or 0)
        me = await self._my_id()
        audits, names = await self._audits(ticket_id)
        updates: list[TicketUpdate] = []
        for audit in sorted(audits, key=lambda a: int(a["id"])):
            events = audit.get("events") or []
            if int(audit["id"]) <= after or any(e.get("type") == "Create" for e in events):
                continue  # seen, or the audit that created the ticket
            author_id = audit.get("author_id")
            common: dict[str, Any] = {
                "ticket_id": str(ticket_id),
                "author": names.get(author_id, str(author_id or "")),
                "created": parse_time(audit.get("created_at")),
                "cursor": str(audit["id"]),
                "own": author_id is not None and author_id == me,
            }
            for event in events:
                if event.get("type") in ("Comment", "VoiceComment"):
                    text = (
                        event.get("plain_body")
                        or event.get("body")
                        or html_to_text(event.get("html_body") or "")
                    )
                    kind: UpdateKind = "public_reply" if event.get("public") else "internal_note"
                    updates.append(TicketUpdate(kind=kind, body=str(text).strip(), **common))
                elif event.get("type") == "Change" and event.get("field_name") == "status":
                    new, old = (
                        STATUS.get(str(event.get("value"))),
                        STATUS.get(str(event.get("previous_value"))),
                    )
                    if new is not None and new != old:
                        updates.append(TicketUpdate(kind="status", status=new, **common))
        return updates

    # -- helpers ------------------------------------------------------------------------------

    def _ref(self, ticket: dict[str, Any]) -> TicketRef:
        return TicketRef(
            id=str(ticket["id"]),
            url=f"{self.web_url}/agent/tickets/{ticket['id']}",
            status=STATUS.get(str(ticket.get("status")), "open"),
            external_id=ticket.get("external_id"),
        )

    async def _my_id(self) -> int | None:
        if self._me is None:
            async with self._lock:
                if self._me is None:
                    me = await self._request("GET", "/users/me")
                    self._me = int(me["user"]["id"])
        return self._me

    async def _audits(self, ticket_id: str) -> tuple[list[dict[str, Any]], dict[Any, str]]:
        audits: list[dict[str, Any]] = []
        names: dict[Any, str] = {}
        params: dict[str, Any] = {"page[size]": _PAGE, "include": "users"}
        while True:
            page = await self._request("GET", f"/tickets/{ticket_id}/audits", params=params)
            audits.extend(page.get("audits") or [])
            names.update({u["id"]: str(u.get("name") or "") for u in page.get("users") or []})
            meta = page.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return audits, names
            params = {**params, "page[after]": meta["after_cursor"]}


def from_uri(uri: str, **options: Any) -> ZendeskAdapter:
    """``zendesk://SUBDOMAIN`` (or ``zendesk://help.example.com`` for a host mapped to Zendesk)."""
    from .registry import split_uri

    origin, _, _ = split_uri(uri, default_host="{}.zendesk.com")
    return ZendeskAdapter(origin, **options)
