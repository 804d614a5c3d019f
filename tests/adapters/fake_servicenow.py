"""ServiceNow's Table API (incident and sys_journal_field) in memory (recorded/servicenow.json)."""

from __future__ import annotations

import base64
import copy
import uuid
from typing import Any

import httpx

from grokassist.adapters.ticketing import TicketStatus

from .fakes import FakeService

USER, PASSWORD = "grokassist.integration", "sn-password-7Hd"
AGENT = "alex.agent"
STATE = {"open": "2", "pending": "3", "resolved": "6", "closed": "7"}


class FakeServiceNow(FakeService):
    vendor = "servicenow"

    def __init__(self) -> None:
        super().__init__()
        self.incidents: dict[str, dict[str, Any]] = {}
        self.journal: list[dict[str, Any]] = []
        self.route("GET", r"/api/now/table/incident", self.query)
        self.route("POST", r"/api/now/table/incident", self.create)
        self.route("GET", r"/api/now/table/incident/([0-9a-f]{32})", self.read)
        self.route("PATCH", r"/api/now/table/incident/([0-9a-f]{32})", self.update)
        self.route("GET", r"/api/now/table/sys_journal_field", self.query_journal)

    def authorized(self, request: httpx.Request) -> bool:
        return (
            request.headers.get("Authorization")
            == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        )

    def _time(self) -> str:
        return self.now().strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def _fields(request: httpx.Request, record: dict[str, Any]) -> dict[str, Any]:
        wanted = request.url.params.get("sysparm_fields")
        return {k: v for k, v in record.items() if not wanted or k in wanted.split(",")}

    @staticmethod
    def _conditions(query: str) -> tuple[dict[str, str], list[str]]:
        equal, within = {}, []
        for part in query.split("^"):
            if part.startswith("ORDERBY"):
                continue
            if "IN" in part and "=" not in part:
                field, _, values = part.partition("IN")
                within = values.split(",")
                equal[field + "__in"] = field
            else:
                field, _, value = part.partition("=")
                equal[field] = value
        return equal, within

    # -- routes -------------------------------------------------------------------------------

    def query(self, request: httpx.Request) -> httpx.Response:
        equal, _ = self._conditions(request.url.params.get("sysparm_query", ""))
        found = [i for i in self.incidents.values() if all(i.get(k) == v for k, v in equal.items())]
        found.sort(key=lambda i: i["sys_created_on"])
        limit = int(request.url.params.get("sysparm_limit", "10000"))
        return self.answer(200, {"result": [self._fields(request, i) for i in found[:limit]]})

    def create(self, request: httpx.Request) -> httpx.Response:
        data = self.body(request)
        if not isinstance(data, dict) or not data.get("short_description"):
            return self.error(400)
        record = copy.deepcopy(self.shapes["incident"])
        now = self._time()
        record.update({k: str(v) for k, v in data.items() if k in record})
        record.update(
            sys_id=uuid.uuid4().hex,
            number=f"INC{len(self.incidents) + 10001:07d}",
            state="1",
            incident_state="1",
            sys_created_on=now,
            sys_updated_on=now,
            sys_created_by=USER,
            opened_at=now,
        )
        self.incidents[record["sys_id"]] = record
        return self.answer(201, {"result": self._fields(request, record)})

    def read(self, request: httpx.Request, sys_id: str) -> httpx.Response:
        record = self.incidents.get(sys_id)
        return self.answer(200, {"result": self._fields(request, record)}) if record else self.error(404)

    def update(self, request: httpx.Request, sys_id: str) -> httpx.Response:
        record = self.incidents.get(sys_id)
        if record is None:
            return self.error(404)
        data = self.body(request)
        if not isinstance(data, dict):
            return self.error(400)
        for element in ("comments", "work_notes"):
            if data.get(element):
                self._journal(sys_id, element, str(data[element]), USER)
        return self.answer(200, {"result": self._fields(request, record)})

    def query_journal(self, request: httpx.Request) -> httpx.Response:
        equal, within = self._conditions(request.url.params.get("sysparm_query", ""))
        rows = [
            j
            for j in self.journal
            if j["element_id"] == equal.get("element_id") and (not within or j["element"] in within)
        ]
        rows.sort(key=lambda j: j["sys_created_on"])
        offset = int(request.url.params.get("sysparm_offset", "0"))
        limit = int(request.url.params.get("sysparm_limit", "10000"))
        return self.answer(200, {"result": [self._fields(request, j) for j in rows[offset : offset + limit]]})

    # -- state --------------------------------------------------------------------------------

    def _journal(self, sys_id: str, element: str, value: str, author: str) -> None:
        entry = copy.deepcopy(self.shapes["journal"])
        entry.update(
            sys_id=uuid.uuid4().hex,
            element=element,
            element_id=sys_id,
            value=value,
            sys_created_on=self._time(),
            sys_created_by=author,
        )
        self.journal.append(entry)
        self.incidents[sys_id]["sys_updated_on"] = entry["sys_created_on"]

    # -- the human agent ----------------------------------------------------------------------

    async def reply(self, ticket_id: str, body: str) -> None:
        self._journal(ticket_id, "comments", body, AGENT)

    async def note(self, ticket_id: str, body: str) -> None:
        self._journal(ticket_id, "work_notes", body, AGENT)

    async def set_status(self, ticket_id: str, status: TicketStatus) -> bool:
        self.incidents[ticket_id].update(
            state=STATE[status], incident_state=STATE[status], sys_updated_on=self._time()
        )
        return True
