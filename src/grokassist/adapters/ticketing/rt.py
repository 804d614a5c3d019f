"""Request Tracker 5, over its REST 2 API (``/REST/2.0``), with httpx.

- **Idempotency**: RT has no idempotency key. Every ticket carries the escalation id in a ticket
  custom field (``GrokAssist External ID`` by default, single free-form value, unique values);
  :meth:`create_ticket` looks it up with TicketSQL before creating, and checks after creating that
  RT stored it (RT silently drops a custom-field value the user may not set).
- **Public vs internal**: ``correspond`` (mailed to the requestors) vs ``comment`` (staff only).
- **Updates**: the ticket's transactions after a transaction id (the cursor), oldest first:
  ``Correspond`` -> public reply, ``Comment`` -> internal note, ``Status`` -> status. The
  creating transaction is the ticket itself, not an update.
- **Status**: ``new``/``open`` -> open, ``stalled`` -> pending, ``resolved`` -> resolved,
  ``rejected``/``deleted`` -> closed.

Why httpx and not the ``rt`` package: ``rt.rest2.AsyncRt`` is async too, but its history call
fixes the fields it asks for (no ``OldValue``/``NewValue``, so a status change would have to be
parsed out of an English description), cannot ask for the transactions after a cursor (every
poll pages through the whole history), turns an empty search into ``NotFoundError`` and a comment
on a missing ticket into ``BadRequestError("Permission Denied")``, hides response headers, and
logs request bodies (the customer's transcript) at debug level. Five REST calls do not need it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ...errors import (
    ConfigurationError,
    TicketingAuthError,
    TicketingValidationError,
    TicketNotFoundError,
)
from ._http import DEFAULT_TIMEOUT, HttpAdapter, html_to_text, parse_time, story
from .base import NewTicket, TicketRef, TicketStatus, TicketUpdate, UpdateKind

__all__ = ["RequestTrackerAdapter"]

STATUS: dict[str, TicketStatus] = {
    "new": "open",
    "open": "open",
    "stalled": "pending",
    "resolved": "resolved",
    "rejected": "closed",
    "deleted": "closed",
}
#: RT 5's default ``$PriorityAsString`` names 0 Low, 50 Medium, 100 High.
PRIORITY = {"low": 0, "normal": 50, "high": 100, "urgent": 100}
_KINDS: dict[str, UpdateKind] = {"Correspond": "public_reply", "Comment": "internal_note", "Status": "status"}
_PAGE = 100


def _quote(value: str) -> str:
    """A TicketSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class RequestTrackerAdapter(HttpAdapter):
    """Tickets in one RT queue. ``url`` is RT's web address (``https://rt.example.com`` or ``.../rt``).

    Authenticate with an auth token (RT 5: *Logged in as -> Settings -> Auth Tokens*) or a user
    and password. The user needs, on the queue: SeeQueue, CreateTicket, ShowTicket, ReplyToTicket,
    CommentOnTicket, ShowTicketComments, ModifyTicket, SeeCustomField and ModifyCustomField.
    """

    system = "Request Tracker"

    def __init__(
        self,
        url: str,
        queue: str = "General",
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        external_id_field: str = "GrokAssist External ID",
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        if not queue:
            raise ConfigurationError("Request Tracker: a queue is needed (rt://host/QUEUE)")
        if token:
            headers, auth = {"Authorization": f"token {token}"}, None
        elif user and password:
            headers, auth = {}, (user, password)
        else:
            raise ConfigurationError("Request Tracker: set a token, or a user and a password")
        self.web_url = url.rstrip("/")
        super().__init__(
            f"{self.web_url}/REST/2.0",
            headers=headers,
            auth=auth,
            timeout=timeout,
            transport=transport,
            verify=verify,
        )
        self.name = f"rt:{self.web_url}/{queue}"
        self.queue = queue
        self.external_id_field = external_id_field
        self._user = user if not token else None
        self._token_owner = token.split("-")[1] if token and token.count("-") >= 2 else None
        self._lock = asyncio.Lock()

    # -- the protocol -------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        existing = await self.find_ticket(ticket.external_id)
        if existing is not None:
            return existing
        body: dict[str, Any] = {
            "Queue": self.queue,
            "Subject": ticket.subject,
            "Content": story(ticket),
            "ContentType": "text/plain",
            "Priority": PRIORITY[ticket.priority],
            "CustomFields": {self.external_id_field: ticket.external_id},
        }
        if ticket.requester_email:
            body["Requestor"] = ticket.requester_email
        created = await self._request("POST", "/ticket", json_body=body)
        ticket_id = str(created["id"])
        stored = await self._request("GET", f"/ticket/{ticket_id}", params={"fields": "Status,CustomFields"})
        if ticket.external_id not in self._external_ids(stored):
            raise TicketingValidationError(
                f"ticket {ticket_id} was created but RT did not store its external id in the custom "
                f"field {self.external_id_field!r}: create that field (single free-form value) for "
                f"queue {self.queue!r} and give the user SeeCustomField and ModifyCustomField "
                "(docs/ticketing.md); until then a retry cannot find this ticket",
                system=self.system,
            )
        return self._ref(ticket_id, str(stored.get("Status", "new")), ticket.external_id)

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        query = f"'CF.{{{self.external_id_field}}}' = {_quote(external_id)}"
        found = await self._request(
            "GET",
            "/tickets",
            params={"query": query, "fields": "Status", "orderby": "id", "order": "ASC", "per_page": 1},
        )
        items = found.get("items") or []
        if not items:
            return None
        return self._ref(str(items[0]["id"]), str(items[0].get("Status", "")), external_id)

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        self._check_id(ticket_id)
        if not body.strip():
            raise TicketingValidationError("an empty comment was not sent", system=self.system)
        action = "correspond" if public else "comment"
        try:
            await self._request(
                "POST",
                f"/ticket/{ticket_id}/{action}",
                json_body={"Content": body, "ContentType": "text/plain"},
            )
        except TicketingValidationError as exc:
            # RT answers 400 "Permission Denied" both for a ticket that does not exist (the GET
            # raises TicketNotFoundError) and for one the user may not reply to or comment on
            await self._request("GET", f"/ticket/{ticket_id}", params={"fields": "Status"})
            if "Permission Denied" in exc.body:
                raise TicketingAuthError(
                    f"may not {action} on ticket {ticket_id}: grant ReplyToTicket and CommentOnTicket",
                    system=self.system,
                    status_code=exc.status_code,
                    body=exc.body,
                ) from exc
            raise

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        self._check_id(ticket_id)
        after = self._cursor(cursor)
        own = await self._own_name()
        transactions = await self._transactions(ticket_id, after)
        if not transactions and after == 0:
            # every ticket has its Create transaction: nothing at all means no such ticket
            await self._request("GET", f"/ticket/{ticket_id}", params={"fields": "Status"})
        updates: list[TicketUpdate] = []
        for txn in transactions:
            kind = _KINDS.get(str(txn.get("Type")))
            if kind is None:
                continue
            creator = txn.get("Creator") or {}
            name = str(creator.get("Name") or creator.get("id") or "")
            common: dict[str, Any] = {
                "ticket_id": ticket_id,
                "author": str(creator.get("RealName") or name),
                "created": parse_time(txn.get("Created")),
                "cursor": str(txn["id"]),
                "own": bool(own) and name == own,
            }
            if kind == "status":
                old, new = STATUS.get(str(txn.get("OldValue"))), STATUS.get(str(txn.get("NewValue")))
                if new is None or new == old:
                    continue  # new -> open is one state for grokassist
                updates.append(TicketUpdate(kind="status", status=new, **common))
            else:
                text = await self._content(str(txn["id"]))
                updates.append(TicketUpdate(kind=kind, body=text, **common))
        return updates

    # -- helpers ------------------------------------------------------------------------------

    def _ref(self, ticket_id: str, status: str, external_id: str) -> TicketRef:
        return TicketRef(
            id=ticket_id,
            url=f"{self.web_url}/Ticket/Display.html?id={ticket_id}",
            status=STATUS.get(status.lower(), "open"),
            external_id=external_id,
        )

    def _external_ids(self, ticket: dict[str, Any]) -> list[str]:
        values: list[str] = []
        for field in ticket.get("CustomFields") or []:
            if field.get("name") == self.external_id_field:
                values.extend(str(v) for v in field.get("values") or [])
        return values

    def _check_id(self, ticket_id: str) -> None:
        if not ticket_id.isdigit():
            raise TicketNotFoundError(
                f"no ticket {ticket_id!r}: RT ticket ids are numbers", system=self.system
            )

    def _cursor(self, cursor: str | None) -> int:
        if cursor is None:
            return 0
        if not cursor.isdigit():
            raise TicketingValidationError(f"malformed cursor {cursor[:40]!r}", system=self.system)
        return int(cursor)

    async def _own_name(self) -> str | None:
        """The adapter's RT user name (looked up once for a token: ``1-<user id>-<secret>``)."""
        if self._user is None and self._token_owner is not None:
            async with self._lock:
                if self._user is None:
                    user = await self._request("GET", f"/user/{self._token_owner}")
                    self._user = str(user.get("Name") or "")
        return self._user

    async def _transactions(self, ticket_id: str, after: int) -> list[dict[str, Any]]:
        search = [
            {"field": "ObjectType", "value": "RT::Ticket"},
            {"field": "ObjectId", "value": int(ticket_id)},
            {"field": "id", "operator": ">", "value": after},
            {"field": "Type", "operator": "IN", "value": ["Create", *_KINDS]},
        ]
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            result = await self._request(
                "POST",
                "/transactions",
                params={
                    "fields": "Type,Creator,Created,OldValue,NewValue,Field",
                    "fields[Creator]": "Name,RealName",
                    "orderby": "id",
                    "order": "ASC",
                    "per_page": _PAGE,
                    "page": page,
                },
                json_body=search,
            )
            items = result.get("items") or []
            found.extend(items)
            if len(items) < _PAGE:
                return found
            page += 1

    async def _content(self, transaction_id: str) -> str:
        """The text of a reply or comment: its text/plain part, else its text/html part as text."""
        result = await self._request(
            "GET",
            f"/transaction/{transaction_id}/attachments",
            params={"fields": "ContentType,Content,Filename", "per_page": _PAGE},
        )
        parts = [p for p in result.get("items") or [] if not p.get("Filename")]
        for part in parts:
            if str(part.get("ContentType", "")).startswith("text/plain"):
                return str(part.get("Content") or "").strip()
        for part in parts:
            if str(part.get("ContentType", "")).startswith("text/html"):
                return html_to_text(str(part.get("Content") or ""))
        return ""


def from_uri(uri: str, **options: Any) -> RequestTrackerAdapter:
    """``rt://host[:port][/rt-path]/QUEUE`` (``rt+http://`` for plain HTTP)."""
    from .registry import split_uri

    origin, _, parts = split_uri(uri)
    if not parts:
        raise ConfigurationError(f"{uri!r} names no queue: write rt://host/QUEUE")
    *path, queue = parts
    url = "/".join([origin, *path])
    return RequestTrackerAdapter(url, queue, **options)
