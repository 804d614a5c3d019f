"""Freshdesk, over its REST API v2 (``/api/v2``), with httpx.

- **Idempotency**: Freshdesk has no idempotency key and no external id on tickets. Each ticket
  gets a marker tag (``grokassist-`` and 12 hex digits of the escalation id's SHA-256) and the id
  in its description. :meth:`find_ticket` first lists the requester's newest tickets
  (``GET /tickets?email=``, a database listing, so a ticket created a moment ago is there), then
  asks the search API (``tag:'...'``) for older ones: the search index trails by up to minutes,
  which is why it is not the first look.
- **Public vs internal**: ``POST /tickets/{id}/reply`` (mailed to the requester) vs
  ``POST /tickets/{id}/notes`` with ``private: true``.
- **Updates**: the ticket's conversations after a conversation id, oldest first (a private
  note -> internal note, anything else -> public reply), then the ticket's status if it moved;
  the cursor holds both.
- **Status**: 2 Open -> open, 3 Pending -> pending, 4 Resolved -> resolved, 5 Closed -> closed;
  custom statuses (6 and up, such as "Waiting on customer") -> pending.

Why httpx: the ``python-freshdesk`` client is synchronous and was last released in 2022; the
API is plain JSON over HTTP with ``Retry-After`` on 429.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ...errors import ConfigurationError, TicketingError, TicketingValidationError, TicketNotFoundError
from ._http import (
    DEFAULT_TIMEOUT,
    HttpAdapter,
    decode_cursor,
    encode_cursor,
    html_to_text,
    marker,
    parse_time,
    story,
)
from .base import NewTicket, TicketRef, TicketStatus, TicketUpdate

__all__ = ["FreshdeskAdapter"]

STATUS: dict[int, TicketStatus] = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
PRIORITY = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
_PORTAL = 2  # ticket source: Portal
_PAGE = 100


def _status(code: Any) -> TicketStatus:
    try:
        number = int(code)
    except (TypeError, ValueError):
        return "open"
    return STATUS.get(number, "pending" if number > 5 else "open")


class FreshdeskAdapter(HttpAdapter):
    """Tickets in one Freshdesk account (``https://DOMAIN.freshdesk.com``), with an agent's API key.

    The agent needs to create tickets, reply, add private notes and view tickets in the groups
    the tickets land in. A requester is compulsory in Freshdesk: tickets without the customer's
    e-mail go in the name of ``default_requester``.
    """

    system = "Freshdesk"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        default_requester: str | None = None,
        lookup_pages: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ConfigurationError("Freshdesk: set the agent's API key as the token")
        if user or password:
            raise ConfigurationError("Freshdesk: authenticate with the API key alone (token=...)")
        self.web_url = url.rstrip("/")
        super().__init__(f"{self.web_url}/api/v2", auth=(token, "X"), timeout=timeout, transport=transport)
        self.name = f"freshdesk:{self.web_url}"
        self.default_requester = default_requester
        self.lookup_pages = int(lookup_pages)
        self._me: int | None = None
        self._names: dict[Any, str] = {}
        self._lock = asyncio.Lock()

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        existing = await self.find_ticket(ticket.external_id, requester=ticket.requester_email)
        if existing is not None:
            return existing
        email = ticket.requester_email or self.default_requester
        if not email:
            raise TicketingValidationError(
                "Freshdesk needs a requester: the ticket has no e-mail and default_requester is not set",
                system=self.system,
            )
        body: dict[str, Any] = {
            "subject": ticket.subject,
            "description": _html(story(ticket, with_tags=False)),
            "email": email,
            "priority": PRIORITY[ticket.priority],
            "status": 2,
            "source": _PORTAL,
            "tags": [*ticket.tags, marker(ticket.external_id)],
        }
        if ticket.requester_name and ticket.requester_email:
            body["name"] = ticket.requester_name
        created = await self._request("POST", "/tickets", json_body=body)
        return self._ref(created, ticket.external_id)

    async def find_ticket(self, external_id: str, *, requester: str | None = None) -> TicketRef | None:
        tag = marker(external_id)
        email = requester or self.default_requester
        if email:
            for page in range(1, self.lookup_pages + 1):
                tickets = await self._request(
                    "GET",
                    "/tickets",
                    params={
                        "email": email,
                        "order_by": "created_at",
                        "order_type": "desc",
                        "per_page": _PAGE,
                        "page": page,
                    },
                )
                mine = [t for t in tickets if tag in (t.get("tags") or [])]
                if mine:
                    return self._ref(min(mine, key=lambda t: int(t["id"])), external_id)
                if len(tickets) < _PAGE:
                    break
        found = await self._request("GET", "/search/tickets", params={"query": f"\"tag:'{tag}'\""})
        results = found.get("results") or []
        if not results:
            return None
        return self._ref(min(results, key=lambda t: int(t["id"])), external_id)

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        _check_id(ticket_id, self.system)
        if not body.strip():
            raise TicketingValidationError("an empty comment was not sent", system=self.system)
        if public:
            await self._request("POST", f"/tickets/{ticket_id}/reply", json_body={"body": _html(body)})
        else:
            await self._request(
                "POST", f"/tickets/{ticket_id}/notes", json_body={"body": _html(body), "private": True}
            )

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        _check_id(ticket_id, self.system)
        state = decode_cursor(cursor, system=self.system)
        last_id = int(state.get("c", 0))
        last_status = _status(state.get("s", 2))
        me = await self._my_id()
        ticket = await self._request("GET", f"/tickets/{ticket_id}")
        conversations = await self._conversations(ticket_id)
        updates: list[TicketUpdate] = []
        for item in sorted(conversations, key=lambda c: int(c["id"])):
            if int(item["id"]) <= last_id:
                continue
            last_id = int(item["id"])
            text = item.get("body_text") or html_to_text(str(item.get("body") or ""))
            author = item.get("user_id")
            updates.append(
                TicketUpdate(
                    ticket_id=ticket_id,
                    kind="internal_note" if item.get("private") else "public_reply",
                    author=await self._name(author, item),
                    body=str(text).strip(),
                    created=parse_time(item.get("created_at")),
                    cursor=encode_cursor({"c": last_id, "s": state.get("s", 2)}),
                    own=author is not None and author == me,
                )
            )
        status = _status(ticket.get("status"))
        if status != last_status:
            updates.append(
                TicketUpdate(
                    ticket_id=ticket_id,
                    kind="status",
                    status=status,
                    created=parse_time(ticket.get("updated_at")),
                    cursor=encode_cursor({"c": last_id, "s": ticket.get("status")}),
                )
            )
        return updates

    # -- helpers ------------------------------------------------------------------------------

    def _ref(self, ticket: dict[str, Any], external_id: str) -> TicketRef:
        return TicketRef(
            id=str(ticket["id"]),
            url=f"{self.web_url}/a/tickets/{ticket['id']}",
            status=_status(ticket.get("status")),
            external_id=external_id,
        )

    async def _my_id(self) -> int | None:
        if self._me is None:
            async with self._lock:
                if self._me is None:
                    me = await self._request("GET", "/agents/me")
                    self._me = int(me["id"])
                    self._names[self._me] = str((me.get("contact") or {}).get("name") or "")
        return self._me

    async def _name(self, user_id: Any, item: dict[str, Any]) -> str:
        """The author's name: an agent's from ``/agents/{id}``, else the sender's address."""
        if user_id in self._names:
            return self._names[user_id]
        name = str(item.get("from_email") or "")
        try:
            agent = await self._request("GET", f"/agents/{user_id}")
            name = str((agent.get("contact") or {}).get("name") or name)
        except TicketNotFoundError:
            pass  # a contact (the customer), not an agent
        name = name or f"user {user_id}"
        self._names[user_id] = name
        return name

    async def _conversations(self, ticket_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            items = await self._request(
                "GET", f"/tickets/{ticket_id}/conversations", params={"per_page": _PAGE, "page": page}
            )
            if not isinstance(items, list):
                raise TicketingError("conversations are not a list", system=self.system)
            found.extend(items)
            if len(items) < _PAGE:
                return found
            page += 1


def _check_id(ticket_id: str, system: str) -> None:
    if not ticket_id.isdigit():
        raise TicketNotFoundError(f"no ticket {ticket_id!r}: Freshdesk ticket ids are numbers", system=system)


def _html(text: str) -> str:
    """Plain text as the HTML Freshdesk stores (escaped, line breaks kept)."""
    import html

    return "<div>" + html.escape(text).replace("\n", "<br>") + "</div>"


def from_uri(uri: str, **options: Any) -> FreshdeskAdapter:
    """``freshdesk://DOMAIN`` (``DOMAIN.freshdesk.com``) or ``freshdesk://support.example.com``."""
    from .registry import split_uri

    origin, _, _ = split_uri(uri, default_host="{}.freshdesk.com")
    return FreshdeskAdapter(origin, **options)
