"""ServiceNow, over the Table API (``/api/now/table``), with httpx.

- **Idempotency**: an incident's ``correlation_id`` is ServiceNow's field for the id of a record
  in another system; :meth:`create_ticket` queries it (a database query, consistent at once)
  before creating and sets it when creating.
- **Public vs internal**: the journal fields ``comments`` (additional comments, customer-visible)
  and ``work_notes`` (agents only), written with ``PATCH``.
- **Updates**: the record's ``sys_journal_field`` entries of those two fields after the cursor,
  oldest first, then the record's state if it moved; the cursor holds both. Ticket ids are the
  record's ``sys_id``.
- **Status**: incident ``state`` 1 New, 2 In Progress -> open; 3 On Hold -> pending;
  6 Resolved -> resolved; 7 Closed, 8 Canceled -> closed.

Why httpx and not ``pysnc``: pysnc's ``GlideRecord`` is synchronous (requests) and raises on a
429 without the ``Retry-After`` the outbox schedules by; the Table API is four plain calls.
"""

from __future__ import annotations

from typing import Any

import httpx

from ...errors import ConfigurationError, TicketingValidationError, TicketNotFoundError
from ._http import DEFAULT_TIMEOUT, HttpAdapter, decode_cursor, encode_cursor, parse_time, story
from .base import NewTicket, TicketRef, TicketStatus, TicketUpdate

__all__ = ["ServiceNowAdapter"]

STATUS: dict[str, TicketStatus] = {
    "1": "open",
    "2": "open",
    "3": "pending",
    "6": "resolved",
    "7": "closed",
    "8": "closed",
}
#: grokassist priority -> (impact, urgency); ServiceNow derives the priority from the two
IMPACT_URGENCY = {"low": ("3", "3"), "normal": ("2", "2"), "high": ("2", "1"), "urgent": ("1", "1")}
_PAGE = 100
_FIELDS = "sys_id,number,state,correlation_id,sys_updated_on"
_JOURNAL = "elementINcomments,work_notes"


class ServiceNowAdapter(HttpAdapter):
    """Records of one table (``incident`` by default) on ``https://INSTANCE.service-now.com``.

    Authenticate with a user and password (basic auth), or an OAuth access token plus ``user``
    (the integration user's name, to recognise its own comments). The user needs the ``itil`` role
    (or ACLs to create and read incidents, write ``comments`` and ``work_notes`` and read
    ``sys_journal_field``).
    """

    system = "ServiceNow"

    def __init__(
        self,
        url: str,
        table: str = "incident",
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers: dict[str, str] = {}
        auth: tuple[str, str] | None = None
        if token and user:
            headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            auth = (user, password)
        else:
            raise ConfigurationError("ServiceNow: set user and password, or an OAuth token and user")
        if not table.replace("_", "").isalnum():
            raise ConfigurationError(f"ServiceNow: {table!r} is not a table name")
        self.web_url = url.rstrip("/")
        super().__init__(self.web_url, headers=headers, auth=auth, timeout=timeout, transport=transport)
        self.name = f"servicenow:{self.web_url}/{table}"
        self.table = table
        self.user = user

    async def create_ticket(self, ticket: NewTicket) -> TicketRef:
        existing = await self.find_ticket(ticket.external_id)
        if existing is not None:
            return existing
        impact, urgency = IMPACT_URGENCY[ticket.priority]
        body = {
            "short_description": ticket.subject,
            "description": story(ticket, with_requester=True),
            "correlation_id": ticket.external_id,
            "correlation_display": "grokassist",
            "impact": impact,
            "urgency": urgency,
            "contact_type": "self-service",
        }
        created = await self._request(
            "POST",
            f"/api/now/table/{self.table}",
            params={"sysparm_fields": _FIELDS, "sysparm_exclude_reference_link": "true"},
            json_body=body,
        )
        return self._ref(created["result"], ticket.external_id)

    async def find_ticket(self, external_id: str) -> TicketRef | None:
        if any(c in external_id for c in "^=\n"):
            raise TicketingValidationError(
                f"external id {external_id!r} cannot be queried (^ and = are query syntax)",
                system=self.system,
            )
        found = await self._request(
            "GET",
            f"/api/now/table/{self.table}",
            params={
                "sysparm_query": f"correlation_id={external_id}^ORDERBYsys_created_on",
                "sysparm_fields": _FIELDS,
                "sysparm_limit": 1,
            },
        )
        records = found.get("result") or []
        return self._ref(records[0], external_id) if records else None

    async def add_comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        _check_sys_id(ticket_id, self.system)
        if not body.strip():
            raise TicketingValidationError("an empty comment was not sent", system=self.system)
        await self._request(
            "PATCH",
            f"/api/now/table/{self.table}/{ticket_id}",
            params={"sysparm_fields": "sys_id"},
            json_body={"comments" if public else "work_notes": body},
        )

    async def updates_since(self, ticket_id: str, cursor: str | None = None) -> list[TicketUpdate]:
        _check_sys_id(ticket_id, self.system)
        state = decode_cursor(cursor, system=self.system)
        seen_time, seen_ids, last_state = (
            str(state.get("t", "")),
            set(state.get("ids", [])),
            state.get("s", "1"),
        )
        record = await self._request(
            "GET", f"/api/now/table/{self.table}/{ticket_id}", params={"sysparm_fields": _FIELDS}
        )
        entries = await self._journal(ticket_id)
        updates: list[TicketUpdate] = []
        for entry in sorted(entries, key=lambda e: (str(e.get("sys_created_on")), str(e.get("sys_id")))):
            created, entry_id = str(entry.get("sys_created_on")), str(entry.get("sys_id"))
            if created < seen_time or (created == seen_time and entry_id in seen_ids):
                continue
            seen_ids = (seen_ids if created == seen_time else set()) | {entry_id}
            seen_time = created
            author = str(entry.get("sys_created_by") or "")
            updates.append(
                TicketUpdate(
                    ticket_id=ticket_id,
                    kind="public_reply" if entry.get("element") == "comments" else "internal_note",
                    author=author,
                    body=str(entry.get("value") or "").strip(),
                    created=parse_time(created),
                    cursor=encode_cursor({"t": seen_time, "ids": sorted(seen_ids), "s": last_state}),
                    own=bool(self.user) and author == self.user,
                )
            )
        now_state = str(record["result"].get("state", "1"))
        if STATUS.get(now_state, "open") != STATUS.get(str(last_state), "open"):
            updates.append(
                TicketUpdate(
                    ticket_id=ticket_id,
                    kind="status",
                    status=STATUS.get(now_state, "open"),
                    created=parse_time(record["result"].get("sys_updated_on")),
                    cursor=encode_cursor({"t": seen_time, "ids": sorted(seen_ids), "s": now_state}),
                )
            )
        return updates

    # -- helpers ------------------------------------------------------------------------------

    def _ref(self, record: dict[str, Any], external_id: str) -> TicketRef:
        sys_id = str(record["sys_id"])
        return TicketRef(
            id=sys_id,
            url=f"{self.web_url}/nav_to.do?uri={self.table}.do?sys_id={sys_id}",
            status=STATUS.get(str(record.get("state", "1")), "open"),
            external_id=external_id,
        )

    async def _journal(self, sys_id: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self._request(
                "GET",
                "/api/now/table/sys_journal_field",
                params={
                    "sysparm_query": f"element_id={sys_id}^{_JOURNAL}^ORDERBYsys_created_on",
                    "sysparm_fields": "sys_id,element,value,sys_created_on,sys_created_by",
                    "sysparm_limit": _PAGE,
                    "sysparm_offset": offset,
                },
            )
            items = page.get("result") or []
            entries.extend(items)
            if len(items) < _PAGE:
                return entries
            offset += len(items)


def _check_sys_id(ticket_id: str, system: str) -> None:
    if len(ticket_id) != 32 or not all(c in "0123456789abcdef" for c in ticket_id):
        raise TicketNotFoundError(f"no record {ticket_id!r}: ticket ids are 32-digit sys_ids", system=system)


def from_uri(uri: str, **options: Any) -> ServiceNowAdapter:
    """``servicenow://INSTANCE[/TABLE]`` (``INSTANCE.service-now.com``; table ``incident``)."""
    from .registry import split_uri

    origin, _, parts = split_uri(uri, default_host="{}.service-now.com")
    return ServiceNowAdapter(origin, *parts[:1], **options)
