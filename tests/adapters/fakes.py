"""In-memory stand-ins for the SaaS help desks nobody can reach from a test: each serves the
vendor's recorded request and response shapes (``recorded/<vendor>.json``, written from the
vendor's public API reference) through :class:`httpx.MockTransport`, checks the credentials the
adapter sends, and can be told to fail its next request the way the vendor fails.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from grokassist.testing import FAULT_RETRY_AFTER, FaultKind

RECORDED = Path(__file__).parent / "recorded"

Route = Callable[..., httpx.Response]


def recorded(vendor: str) -> dict[str, Any]:
    """The recorded shapes of ``vendor``: example objects and error answers."""
    data: dict[str, Any] = json.loads((RECORDED / f"{vendor}.json").read_text(encoding="utf-8"))
    return data


class FakeService:
    """One vendor's API in memory. Subclasses add routes with :meth:`route` and keep the state.

    ``fault`` fails the next request (``validation`` only the next write, so the adapter's
    look-up before creating goes through); ``requests`` records every request the adapter sent.
    """

    vendor = ""

    def __init__(self) -> None:
        self.shapes = recorded(self.vendor)
        self.fault: FaultKind | None = None
        self.requests: list[httpx.Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Route]] = []
        self._clock = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        self.transport = httpx.MockTransport(self._handle)

    # -- plumbing -------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Route) -> None:
        self._routes.append((method, re.compile(pattern + "$"), handler))

    def now(self) -> datetime:
        """A clock that ticks a second per call, so timestamps order the events."""
        self._clock += timedelta(seconds=1)
        return self._clock

    def stamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    def error(self, status: int, variant: str = "") -> httpx.Response:
        """The vendor's recorded answer for ``status`` (``variant``: e.g. ``"rate"`` for ``403-rate``)."""
        shape = self.shapes["errors"][f"{status}-{variant}" if variant else str(status)]
        headers = dict(shape.get("headers") or {})
        body = shape.get("body")
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=copy.deepcopy(body), headers=headers)

    def authorized(self, request: httpx.Request) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        fault = self.fault
        if fault is not None and not (fault == "validation" and request.method == "GET"):
            self.fault = None
            return self._fault(fault, request)
        if not self.authorized(request):
            return self.error(401)
        path = request.url.path
        for method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match and method == request.method:
                return handler(request, *match.groups())
        return self.error(404)

    def _fault(self, kind: FaultKind, request: httpx.Request) -> httpx.Response:
        if kind == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if kind == "unreachable":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if kind == "auth":
            return self.error(401)
        if kind == "validation":
            return self.error(self.shapes["validation_status"])
        if kind == "rate_limit":
            response = self.error(429)
            assert response.headers.get("Retry-After") == f"{FAULT_RETRY_AFTER:g}"
            return response
        return self.error(self.shapes["server_error_status"])

    @staticmethod
    def body(request: httpx.Request) -> Any:
        return json.loads(request.content or b"null")
