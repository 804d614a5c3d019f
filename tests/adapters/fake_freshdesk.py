"""Freshdesk's ticket API v2 in memory (recorded/freshdesk.json), and its human agent."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

import httpx

from grokassist.adapters.ticketing import TicketStatus

from .fakes import FakeService

API_KEY = "fd-key-Xq81kz"
BOT_ID, AGENT_ID = 1, 2
STATUS = {"open": 2, "pending": 3, "resolved": 4, "closed": 5}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class FakeFreshdesk(FakeService):
    vendor = "freshdesk"

    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self.search_lags = False  # the search index has not caught up yet
        agent = self.shapes["agent"]
        self.agents = {
            BOT_ID: {**agent, "id": BOT_ID, "contact": {**agent["contact"], "name": "GrokAssist Bot"}},
            AGENT_ID: {**agent, "id": AGENT_ID, "contact": {**agent["contact"], "name": "Alex Agent"}},
        }
        self._ids = iter(range(101, 10**6))
        self.route("GET", r"/api/v2/agents/me", lambda r: self.answer(200, self.agents[BOT_ID]))
        self.route("GET", r"/api/v2/agents/(\d+)", self.agent)
        self.route("GET", r"/api/v2/tickets", self.list_tickets)
        self.route("POST", r"/api/v2/tickets", self.create)
        self.route("GET", r"/api/v2/tickets/(\d+)", self.view)
        self.route("GET", r"/api/v2/search/tickets", self.search)
        self.route("POST", r"/api/v2/tickets/(\d+)/reply", self.reply_route)
        self.route("POST", r"/api/v2/tickets/(\d+)/notes", self.note_route)
        self.route("GET", r"/api/v2/tickets/(\d+)/conversations", self.list_conversations)

    def authorized(self, request: httpx.Request) -> bool:
        return (
            request.headers.get("Authorization")
            == "Basic " + base64.b64encode(f"{API_KEY}:X".encode()).decode()
        )

    # -- routes -------------------------------------------------------------------------------

    def agent(self, request: httpx.Request, agent_id: str) -> httpx.Response:
        found = self.agents.get(int(agent_id))
        return self.answer(200, found) if found else self.error(404)

    def list_tickets(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        tickets = [t for t in self.tickets.values() if t["requester_email"] == params.get("email")]
        tickets.sort(key=lambda t: t["created_at"], reverse=params.get("order_type", "desc") == "desc")
        size, page = int(params.get("per_page", "30")), int(params.get("page", "1"))
        return self.answer(200, [self._public(t) for t in tickets[(page - 1) * size : page * size]])

    def create(self, request: httpx.Request) -> httpx.Response:
        data = self.body(request) or {}
        if not _EMAIL.fullmatch(str(data.get("email", ""))):
            return self.error(400)
        if not data.get("subject") or not data.get("description") or data.get("priority") not in (1, 2, 3, 4):
            return self.error(400)
        ticket_id = next(self._ids)
        ticket = copy.deepcopy(self.shapes["ticket"])
        ticket.update(
            id=ticket_id,
            subject=data["subject"],
            description=data["description"],
            priority=data["priority"],
            status=data.get("status", 2),
            source=data.get("source", 2),
            tags=list(data.get("tags") or []),
            requester_email=data["email"],
            created_at=self.stamp(),
        )
        ticket["updated_at"] = ticket["created_at"]
        self.tickets[ticket_id] = ticket
        self.conversations[ticket_id] = []
        return self.answer(201, self._public(ticket))

    def view(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        ticket = self.tickets.get(int(ticket_id))
        return self.answer(200, self._public(ticket)) if ticket else self.error(404)

    def search(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"\"tag:'([^']+)'\"", request.url.params.get("query", ""))
        if match is None:
            return self.error(400)
        hits = [] if self.search_lags else [t for t in self.tickets.values() if match.group(1) in t["tags"]]
        return self.answer(200, {"results": [self._public(t) for t in hits], "total": len(hits)})

    def reply_route(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        return self._converse(int(ticket_id), BOT_ID, (self.body(request) or {}).get("body"), private=False)

    def note_route(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        data = self.body(request) or {}
        return self._converse(
            int(ticket_id), BOT_ID, data.get("body"), private=bool(data.get("private", True))
        )

    def list_conversations(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        if int(ticket_id) not in self.tickets:
            return self.error(404)
        size, page = int(request.url.params.get("per_page", "30")), int(request.url.params.get("page", "1"))
        return self.answer(200, self.conversations[int(ticket_id)][(page - 1) * size : page * size])

    # -- state --------------------------------------------------------------------------------

    @staticmethod
    def _public(ticket: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in ticket.items() if k != "requester_email"}

    def _converse(self, ticket_id: int, author: int, body: Any, *, private: bool) -> httpx.Response:
        if ticket_id not in self.tickets:
            return self.error(404)
        if not body or not str(body).strip():
            return self.answer(
                400,
                {
                    "description": "Validation failed",
                    "errors": [
                        {
                            "field": "body",
                            "message": "It should not be blank as this is a mandatory field",
                            "code": "invalid_value",
                        }
                    ],
                },
            )
        item = copy.deepcopy(self.shapes["conversation"])
        text = re.sub(r"<[^>]+>", "", str(body).replace("<br>", "\n"))
        item.update(
            id=next(self._ids),
            body=body,
            body_text=text,
            private=private,
            source=2 if private else 0,
            user_id=author,
            ticket_id=ticket_id,
            created_at=self.stamp(),
        )
        self.conversations[ticket_id].append(item)
        self.tickets[ticket_id]["updated_at"] = item["created_at"]
        return self.answer(201, item)

    # -- the human agent ----------------------------------------------------------------------

    async def reply(self, ticket_id: str, body: str) -> None:
        self._converse(int(ticket_id), AGENT_ID, f"<div>{body}</div>", private=False)

    async def note(self, ticket_id: str, body: str) -> None:
        self._converse(int(ticket_id), AGENT_ID, f"<div>{body}</div>", private=True)

    async def set_status(self, ticket_id: str, status: TicketStatus) -> bool:
        ticket = self.tickets[int(ticket_id)]
        ticket.update(status=STATUS[status], updated_at=self.stamp())
        return True
