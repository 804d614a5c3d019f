"""Jira Service Management's request API (and the bits of Jira's platform API it needs) in memory."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

import httpx

from grokassist.adapters.ticketing import TicketStatus

from .fakes import FakeService

EMAIL, TOKEN = "bot@acme.example", "atl-token-Pq92"
BOT, AGENT = "5b10a2844c20165700ede21g", "5b10ac8d82e05b22cc7d4ef5"
#: grokassist status -> (JSM status name, status category)
STATUS = {
    "open": ("In Progress", "INDETERMINATE"),
    "pending": ("Waiting for customer", "INDETERMINATE"),
    "resolved": ("Resolved", "DONE"),
    "closed": ("Closed", "DONE"),
}


class FakeJiraSM(FakeService):
    vendor = "jira_sm"

    def __init__(self) -> None:
        super().__init__()
        self.requests_by_key: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, list[str]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.users = {
            BOT: {**self.shapes["myself"], "accountId": BOT, "displayName": "GrokAssist Bot"},
            AGENT: {**self.shapes["myself"], "accountId": AGENT, "displayName": "Alex Agent"},
        }
        self._ids = iter(range(10001, 10**6))
        self.route("GET", r"/rest/api/3/myself", lambda r: self.answer(200, self.users[BOT]))
        self.route("POST", r"/rest/api/3/search/jql", self.search)
        self.route("POST", r"/rest/servicedeskapi/request", self.create)
        self.route("POST", r"/rest/servicedeskapi/request/([^/]+)/comment", self.comment_route)
        self.route("GET", r"/rest/servicedeskapi/request/([^/]+)/comment", self.list_comments)
        self.route("GET", r"/rest/servicedeskapi/request/([^/]+)/status", self.list_status)

    def authorized(self, request: httpx.Request) -> bool:
        return (
            request.headers.get("Authorization")
            == "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        )

    def _date(self) -> dict[str, Any]:
        now = self.now()
        return {
            "iso8601": now.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "jira": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "friendly": "Today",
            "epochMillis": int(now.timestamp() * 1000),
        }

    # -- routes -------------------------------------------------------------------------------

    def search(self, request: httpx.Request) -> httpx.Response:
        jql = (self.body(request) or {}).get("jql", "")
        match = re.fullmatch(r'labels = "([^"]+)" ORDER BY created ASC', jql)
        if match is None:
            return self.answer(400, {"errorMessages": [f"Error in the JQL Query: {jql}"], "errors": {}})
        issues = []
        for key, labels in self.labels.items():
            if match.group(1) in labels:
                issue = copy.deepcopy(self.shapes["search_issue"])
                request_ = self.requests_by_key[key]
                name, category = (
                    request_["currentStatus"]["status"],
                    request_["currentStatus"]["statusCategory"],
                )
                issue.update(id=request_["issueId"], key=key)
                issue["fields"]["status"]["name"] = name
                issue["fields"]["status"]["statusCategory"]["key"] = {"NEW": "new", "DONE": "done"}.get(
                    category, "indeterminate"
                )
                issues.append(issue)
        return self.answer(200, {"issues": issues, "isLast": True})

    def create(self, request: httpx.Request) -> httpx.Response:
        data = self.body(request) or {}
        fields = data.get("requestFieldValues") or {}
        if data.get("serviceDeskId") != "1" or data.get("requestTypeId") != "10":
            return self.answer(404, self.shapes["errors"]["404"]["body"])
        if not fields.get("summary") or not isinstance(fields.get("labels", []), list):
            return self.error(400)
        if any(" " in label for label in fields.get("labels", [])):
            return self.error(400)
        number = len(self.requests_by_key) + 1
        key = f"HELP-{number}"
        created = copy.deepcopy(self.shapes["request"])
        date = self._date()
        status = {"status": "Waiting for support", "statusCategory": "NEW", "statusDate": date}
        created.update(
            issueId=str(next(self._ids)),
            issueKey=key,
            requestTypeId="10",
            serviceDeskId="1",
            createdDate=date,
            currentStatus=status,
            requestFieldValues=[
                {"fieldId": "summary", "label": "What do you need?", "value": fields["summary"]},
                {
                    "fieldId": "description",
                    "label": "Why do you need this?",
                    "value": fields.get("description"),
                },
            ],
        )
        self.requests_by_key[key] = created
        self.labels[key] = list(fields.get("labels", []))
        self.comments[key] = []
        self.history[key] = [status]
        return self.answer(201, created)

    def comment_route(self, request: httpx.Request, key: str) -> httpx.Response:
        if key not in self.requests_by_key:
            return self.error(404)
        data = self.body(request) or {}
        if not str(data.get("body", "")).strip():
            return self.error(400)
        return self.answer(201, self._comment(key, BOT, data["body"], bool(data.get("public", True))))

    def list_comments(self, request: httpx.Request, key: str) -> httpx.Response:
        if key not in self.requests_by_key:
            return self.error(404)
        return self._page(request, self.comments[key])

    def list_status(self, request: httpx.Request, key: str) -> httpx.Response:
        if key not in self.requests_by_key:
            return self.error(404)
        return self._page(request, list(reversed(self.history[key])))  # newest first

    def _page(self, request: httpx.Request, values: list[dict[str, Any]]) -> httpx.Response:
        start, limit = int(request.url.params.get("start", "0")), int(request.url.params.get("limit", "50"))
        chunk = values[start : start + limit]
        page = {
            **self.shapes["page"],
            "size": len(chunk),
            "start": start,
            "limit": limit,
            "isLastPage": start + limit >= len(values),
            "values": chunk,
        }
        return self.answer(200, page)

    # -- state --------------------------------------------------------------------------------

    def _comment(self, key: str, author: str, body: str, public: bool) -> dict[str, Any]:
        comment = copy.deepcopy(self.shapes["comment"])
        user = self.users[author]
        comment.update(
            id=str(next(self._ids)),
            body=body,
            public=public,
            created=self._date(),
            author={**comment["author"], "accountId": author, "displayName": user["displayName"]},
        )
        self.comments[key].append(comment)
        return comment

    # -- the human agent ----------------------------------------------------------------------

    async def reply(self, ticket_id: str, body: str) -> None:
        self._comment(ticket_id, AGENT, body, True)

    async def note(self, ticket_id: str, body: str) -> None:
        self._comment(ticket_id, AGENT, body, False)

    async def set_status(self, ticket_id: str, status: TicketStatus) -> bool:
        name, category = STATUS[status]
        entry = {"status": name, "statusCategory": category, "statusDate": self._date()}
        self.history[ticket_id].append(entry)
        self.requests_by_key[ticket_id]["currentStatus"] = entry
        return True
