"""Zendesk Support's ticket API in memory (recorded/zendesk.json), and its human agent."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

import httpx

from grokassist.adapters.ticketing import TicketStatus

from .fakes import FakeService

EMAIL = "bot@example.com"
TOKEN = "zd-token-6wQv1x"
BOT_ID, AGENT_ID = 35436, 5246746
STATUS = {"pending": "pending", "resolved": "solved", "closed": "closed", "open": "open"}


class FakeZendesk(FakeService):
    vendor = "zendesk"

    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[int, dict[str, Any]] = {}
        self.audits: dict[int, list[dict[str, Any]]] = {}
        self.keys: dict[str, tuple[bytes, int]] = {}
        self.lookup_misses = False  # make the external_id look-up answer nothing
        self.users = {
            BOT_ID: {**self.shapes["user"], "id": BOT_ID, "name": "GrokAssist Bot", "email": EMAIL},
            AGENT_ID: {
                **self.shapes["user"],
                "id": AGENT_ID,
                "name": "Alex Agent",
                "email": "alex@example.com",
            },
        }
        self._ids = iter(range(1001, 10**6))
        self.route("GET", r"/api/v2/users/me", lambda r: self.answer(200, {"user": self.users[BOT_ID]}))
        self.route("GET", r"/api/v2/tickets", self.list_tickets)
        self.route("POST", r"/api/v2/tickets", self.create)
        self.route("PUT", r"/api/v2/tickets/(\d+)", self.update)
        self.route("GET", r"/api/v2/tickets/(\d+)/audits", self.list_audits)

    def authorized(self, request: httpx.Request) -> bool:
        expected = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    # -- routes -------------------------------------------------------------------------------

    def list_tickets(self, request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("external_id")
        tickets = [t for t in self.tickets.values() if wanted is None or t["external_id"] == wanted]
        if self.lookup_misses:
            tickets = []
        return self.answer(
            200, {"tickets": tickets, "next_page": None, "previous_page": None, "count": len(tickets)}
        )

    def create(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if key in self.keys:
            body, ticket_id = self.keys[key]
            if body != request.content:
                return self.error(400)
            return self.answer(201, {"ticket": self.tickets[ticket_id]}, {"x-idempotency-lookup": "hit"})
        payload = self.body(request)
        data = payload.get("ticket") if isinstance(payload, dict) else None
        comment = (data or {}).get("comment") or {}
        if not data or not (comment.get("body") or comment.get("html_body")):
            return self.answer(
                400, {"error": "ParameterMissing", "description": "Parameter ticket is required"}
            )
        email = (data.get("requester") or {}).get("email")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            return self.error(422)
        ticket_id = next(self._ids)
        ticket = copy.deepcopy(self.shapes["ticket"])
        ticket.update(
            id=ticket_id,
            url=f"https://example.zendesk.com/api/v2/tickets/{ticket_id}.json",
            subject=data.get("subject"),
            raw_subject=data.get("subject"),
            description=comment.get("body"),
            priority=data.get("priority"),
            status="new",
            tags=list(data.get("tags") or []),
            external_id=data.get("external_id"),
            requester_id=BOT_ID if email is None else 20978392,
            submitter_id=BOT_ID,
            created_at=self.stamp(),
        )
        self.tickets[ticket_id] = ticket
        self.audits[ticket_id] = []
        create = {**self.shapes["create_event"], "id": next(self._ids)}
        audit = self._audit(ticket_id, BOT_ID, [create, self._comment(BOT_ID, comment["body"], True)])
        if key:
            self.keys[key] = (request.content, ticket_id)
        return self.answer(
            201, {"ticket": ticket, "audit": audit}, {"x-idempotency-lookup": "miss"} if key else None
        )

    def update(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return self.error(404)
        if ticket["status"] == "closed":
            return self.error(422)
        data = (self.body(request) or {}).get("ticket") or {}
        comment = data.get("comment") or {}
        events = []
        if comment:
            if not str(comment.get("body", "")).strip():
                return self.error(422)
            events.append(self._comment(BOT_ID, comment["body"], bool(comment.get("public", True))))
        if events:
            self._audit(int(ticket_id), BOT_ID, events)
        return self.answer(200, {"ticket": ticket})

    def list_audits(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        if int(ticket_id) not in self.tickets:
            return self.error(404)
        audits = self.audits[int(ticket_id)]
        size = int(request.url.params.get("page[size]", "100"))
        start = int(request.url.params.get("page[after]", "0"))
        page = audits[start : start + size]
        more = start + size < len(audits)
        body: dict[str, Any] = {
            "audits": page,
            "meta": {
                "has_more": more,
                "after_cursor": str(start + size) if more else None,
                "before_cursor": None,
            },
            "links": {"next": None, "prev": None},
        }
        if request.url.params.get("include") == "users":
            body["users"] = [self.users[i] for i in {a["author_id"] for a in page}]
        return self.answer(200, body)

    # -- state --------------------------------------------------------------------------------

    def _comment(self, author: int, body: str, public: bool) -> dict[str, Any]:
        return {
            **self.shapes["comment_event"],
            "id": next(self._ids),
            "body": body,
            "plain_body": body,
            "html_body": f'<div class="zd-comment"><p dir="auto">{body}</p></div>',
            "public": public,
            "author_id": author,
        }

    def _audit(self, ticket_id: int, author: int, events: list[dict[str, Any]]) -> dict[str, Any]:
        audit = {
            **copy.deepcopy(self.shapes["audit"]),
            "id": next(self._ids),
            "ticket_id": ticket_id,
            "author_id": author,
            "created_at": self.stamp(),
            "events": events,
        }
        self.audits[ticket_id].append(audit)
        self.tickets[ticket_id]["updated_at"] = audit["created_at"]
        return audit

    # -- the human agent ----------------------------------------------------------------------

    async def reply(self, ticket_id: str, body: str) -> None:
        self._audit(int(ticket_id), AGENT_ID, [self._comment(AGENT_ID, body, True)])

    async def note(self, ticket_id: str, body: str) -> None:
        self._audit(int(ticket_id), AGENT_ID, [self._comment(AGENT_ID, body, False)])

    async def set_status(self, ticket_id: str, status: TicketStatus) -> bool:
        ticket = self.tickets[int(ticket_id)]
        change = {**self.shapes["change_event"], "id": next(self._ids)}
        change.update(value=STATUS[status], previous_value=ticket["status"])
        ticket["status"] = STATUS[status]
        self._audit(int(ticket_id), AGENT_ID, [change])
        return True
