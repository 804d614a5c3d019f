"""GitHub's issues REST API in memory (recorded/github.json), and its human agent."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx

from grokassist.adapters.ticketing import TicketStatus

from .fakes import FakeService

TOKEN = "github_pat_11AAfake"
BOT, AGENT, OTHER = "grokassist-bot", "alex-agent", "someone-else"
REPO = "/repos/acme/support"


class FakeGitHub(FakeService):
    vendor = "github"

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.search_lags = False
        self._ids = iter(range(5001, 10**6))
        self.route("GET", r"/user", lambda r: self.answer(200, {**self.shapes["user"], "login": BOT}))
        self.route("GET", REPO + r"/issues", self.list_issues)
        self.route("POST", REPO + r"/issues", self.create)
        self.route("GET", REPO + r"/issues/(\d+)", self.get_issue)
        self.route("GET", REPO + r"/issues/(\d+)/comments", self.list_comments)
        self.route("POST", REPO + r"/issues/(\d+)/comments", self.comment_route)
        self.route("GET", r"/search/issues", self.search)

    def authorized(self, request: httpx.Request) -> bool:
        return (
            request.headers.get("Authorization") == f"Bearer {TOKEN}"
            and request.headers.get("X-GitHub-Api-Version") == "2022-11-28"
        )

    # -- routes -------------------------------------------------------------------------------

    def list_issues(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        issues = [
            i for i in self.issues.values() if i["user"]["login"] == params.get("creator", i["user"]["login"])
        ]
        if params.get("state", "open") != "all":
            issues = [i for i in issues if i["state"] == params.get("state", "open")]
        issues.sort(key=lambda i: i["number"], reverse=params.get("direction", "desc") == "desc")
        size, page = int(params.get("per_page", "30")), int(params.get("page", "1"))
        return self.answer(200, issues[(page - 1) * size : page * size])

    def create(self, request: httpx.Request) -> httpx.Response:
        data = self.body(request) or {}
        if not data.get("title"):
            return self.error(422)
        return self.answer(
            201, self.open_issue(BOT, data["title"], data.get("body", ""), data.get("labels", []))
        )

    def get_issue(self, request: httpx.Request, number: str) -> httpx.Response:
        issue = self.issues.get(int(number))
        return self.answer(200, issue) if issue else self.error(404)

    def list_comments(self, request: httpx.Request, number: str) -> httpx.Response:
        if int(number) not in self.issues:
            return self.error(404)
        size, page = int(request.url.params.get("per_page", "30")), int(request.url.params.get("page", "1"))
        return self.answer(200, self.comments[int(number)][(page - 1) * size : page * size])

    def comment_route(self, request: httpx.Request, number: str) -> httpx.Response:
        if int(number) not in self.issues:
            return self.error(404)
        body = (self.body(request) or {}).get("body", "")
        if not body.strip():
            return self.error(422)
        return self.answer(201, self._comment(int(number), BOT, body))

    def search(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r'repo:acme/support is:issue in:body "([^"]+)"', request.url.params.get("q", ""))
        if match is None:
            return self.error(422)
        items = (
            []
            if self.search_lags
            else [i for i in self.issues.values() if match.group(1) in (i["body"] or "")]
        )
        return self.answer(200, {"total_count": len(items), "incomplete_results": False, "items": items})

    # -- state --------------------------------------------------------------------------------

    def open_issue(self, login: str, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        number = len(self.issues) + 1
        issue = copy.deepcopy(self.shapes["issue"])
        stamp = self.stamp()
        issue.update(
            id=next(self._ids),
            number=number,
            html_url=f"https://github.com/acme/support/issues/{number}",
            title=title,
            body=body,
            user={**issue["user"], "login": login},
            labels=[{**self.shapes["issue"]["labels"][0], "name": name} for name in labels],
            created_at=stamp,
            updated_at=stamp,
        )
        self.issues[number] = issue
        self.comments[number] = []
        return issue

    def _comment(self, number: int, login: str, body: str) -> dict[str, Any]:
        comment = copy.deepcopy(self.shapes["comment"])
        comment.update(
            id=next(self._ids), body=body, user={**comment["user"], "login": login}, created_at=self.stamp()
        )
        self.comments[number].append(comment)
        self.issues[number]["updated_at"] = comment["created_at"]
        return comment

    # -- the human agent ----------------------------------------------------------------------

    async def reply(self, ticket_id: str, body: str) -> None:
        self._comment(int(ticket_id), AGENT, body)

    async def note(self, ticket_id: str, body: str) -> None:
        self._comment(int(ticket_id), AGENT, f"/note {body}")

    async def set_status(self, ticket_id: str, status: TicketStatus) -> bool:
        issue = self.issues[int(ticket_id)]
        if status == "pending":
            issue["labels"].append({**self.shapes["issue"]["labels"][0], "name": "pending"})
        elif status in ("resolved", "closed"):
            issue.update(
                state="closed",
                state_reason="completed" if status == "resolved" else "not_planned",
                closed_at=self.stamp(),
                closed_by={**issue["user"], "login": AGENT},
            )
        else:
            issue.update(state="open", state_reason="reopened", closed_at=None)
        return True
