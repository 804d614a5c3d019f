"""Prometheus metrics of one app (its own registry, so several apps can live in a process)."""

from __future__ import annotations

import time
from typing import Any

from .._optional import require
from .security import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "MetricsMiddleware"]

prometheus_client = require(
    "prometheus_client", package="prometheus-client", extra="server", feature="/metrics"
)

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        p = prometheus_client
        self.registry = p.CollectorRegistry()
        r = self.registry
        self.requests = p.Counter(
            "grokassist_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = p.Histogram(
            "grokassist_http_request_duration_seconds",
            "Time to the end of the response (whole stream for SSE)",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.first_token = p.Histogram(
            "grokassist_first_token_seconds",
            "Time to the first streamed text piece",
            buckets=_BUCKETS,
            registry=r,
        )
        self.answers = p.Counter("grokassist_answers", "Answers served", ["api"], registry=r)
        self.abstentions = p.Counter(
            "grokassist_abstentions", "Answers where the assistant abstained", registry=r
        )
        self.backend_errors = p.Counter(
            "grokassist_backend_errors", "Requests failed by the model backends", ["type"], registry=r
        )
        self.store_errors = p.Counter(
            "grokassist_store_errors", "Requests failed by the session store (answered 503)", registry=r
        )
        self.rate_limited = p.Counter("grokassist_rate_limited", "Requests answered 429", registry=r)
        self.guard_blocks = p.Counter(
            "grokassist_guard_blocks", "Answers withheld by the output guard", ["reason"], registry=r
        )
        self.feedback = p.Counter("grokassist_feedback", "Ratings received", ["helpful"], registry=r)
        self.escalations = p.Counter(
            "grokassist_escalations", "Conversations handed to a person, by trigger", ["trigger"], registry=r
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return prometheus_client.generate_latest(self.registry), prometheus_client.CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every HTTP request and times it, labelled by route template (not raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route: Any = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, label, str(status)).inc()
            self.metrics.latency.labels(method, label).observe(time.perf_counter() - start)
