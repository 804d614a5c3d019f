"""Who may call what, who is calling, and request size limits (no web framework needed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "Access",
    "BodyLimitMiddleware",
    "BodyTooLarge",
    "Client",
    "key_fingerprint",
    "retry_after_header",
    "signature_valid",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def key_fingerprint(key: str) -> str:
    """A short, non-reversible name for an API key (for logs, metrics and ownership)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class Access(Enum):
    """What a route asks of its callers once API keys are configured (with none configured,
    every route is open: development only). Which route has which is in docs/security.md."""

    #: Probes and static files: anyone (``/healthz``, ``/readyz``, ``/widget.js``, the schema).
    PUBLIC = "public"
    #: The widget's customer routes: a key, or none while ``allow_anonymous`` is on (rate
    #: limited per address; sessions and answers belong to the client that made them).
    CUSTOMER = "customer"
    #: Server-to-server and operators' routes (the OpenAI-compatible API, the outbox,
    #: webhooks, metrics): always a key.
    KEY = "key"


@dataclass(frozen=True)
class Client:
    """Who is calling: ``key:<fingerprint>`` for an API key, ``ip:<address>`` otherwise."""

    id: str
    authenticated: bool


class BodyLimitMiddleware:
    """Answer 413 to a request body over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._reject(send, declared >= 0)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, True)

    async def _reject(self, send: Send, too_large: bool) -> None:
        status, kind, text = (
            (413, "request_too_large", f"the request body is larger than {self.max_bytes} bytes")
            if too_large
            else (400, "invalid_request", "invalid Content-Length header")
        )
        body = json.dumps({"error": {"type": kind, "message": text}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """A streamed request body went over the limit (the app maps it, or its cause, to 413)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"the request body is larger than {max_bytes} bytes")


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<hex HMAC-SHA256 of body under secret>`` (GitHub's shape)."""
    scheme, _, given = (header or "").partition("=")
    if scheme.strip().lower() != "sha256" or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def retry_after_header(wait: float) -> str:
    """Whole seconds for a ``Retry-After`` header (at least 1)."""
    return str(max(1, math.ceil(wait)))
