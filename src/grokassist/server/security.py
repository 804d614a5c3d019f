"""Rate limiting, session ownership and request size limits (no web framework needed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "BodyLimitMiddleware",
    "BodyTooLarge",
    "Client",
    "Limiter",
    "RateLimiter",
    "SessionRegistry",
    "key_fingerprint",
    "retry_after_header",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def key_fingerprint(key: str) -> str:
    """A short, non-reversible name for an API key (for logs, metrics and ownership)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Client:
    """Who is calling: ``key:<fingerprint>`` for an API key, ``ip:<address>`` otherwise."""

    id: str
    authenticated: bool


class Limiter(Protocol):
    """Token buckets by key (:class:`RateLimiter` here; ``RedisRateLimiter`` shared by replicas).

    ``in_memory`` says :meth:`acquire` never waits on I/O, so it may run on the event loop.
    """

    in_memory: bool

    def acquire(self, key: str) -> float:
        """Take one token: ``0.0`` if allowed, else the seconds to wait for the next one."""
        ...


class RateLimiter:
    """A token bucket per client, in this process: ``burst`` requests at once, refilled
    at ``rate`` per second.

    The least recently seen clients are forgotten past ``max_clients`` (a
    forgotten client starts again with a full bucket).
    """

    in_memory = True

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token: ``0.0`` if allowed, else the seconds to wait for the next one."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait


class SessionRegistry:
    """Server-issued session ids, each bound to the client that created it.

    Ids are 256-bit random tokens; a session is only usable by its owner, and
    ``lookup`` answers the same for "not yours" and "does not exist".
    ``on_expire`` is called with each session id that expires or is evicted.
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_sessions: int,
        on_expire: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._on_expire = on_expire
        self._clock = clock
        self._owners: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id -> (owner, last used)
        self._lock = threading.Lock()

    def create(self, owner: str) -> str:
        """Issue a new session id for ``owner``."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._owners[session_id] = (owner, self._clock())
            dropped = self._expire_locked()
        self._notify(dropped)
        return session_id

    def lookup(self, session_id: str, owner: str) -> bool:
        """Whether ``session_id`` is live and owned by ``owner`` (and mark it used)."""
        with self._lock:
            dropped = self._expire_locked()
            entry = self._owners.get(session_id)
            ok = entry is not None and hmac.compare_digest(entry[0], owner)
            if ok:
                self._owners[session_id] = (owner, self._clock())
                self._owners.move_to_end(session_id)
        self._notify(dropped)
        return ok

    def drop(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock:
            found = self._owners.pop(session_id, None) is not None
        if found:
            self._notify([session_id])

    def __len__(self) -> int:
        with self._lock:
            return len(self._owners)

    def _expire_locked(self) -> list[str]:
        dropped: list[str] = []
        deadline = self._clock() - self.ttl_s
        while self._owners:
            session_id, (_, used) = next(iter(self._owners.items()))
            if used >= deadline and len(self._owners) <= self.max_sessions:
                break
            self._owners.popitem(last=False)
            dropped.append(session_id)
        return dropped

    def _notify(self, dropped: list[str]) -> None:
        if self._on_expire is not None:
            for session_id in dropped:
                self._on_expire(session_id)


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


def retry_after_header(wait: float) -> str:
    """Whole seconds for a ``Retry-After`` header (at least 1)."""
    return str(max(1, math.ceil(wait)))
