"""What every HTTP ticketing adapter shares: one async httpx client, error translation, cursors, text.

Each vendor error is translated here, once, into the :class:`~grokassist.errors.TicketingError`
tree: 401/403 -> :class:`TicketingAuthError`, 404 -> :class:`TicketNotFoundError`, 400/409/422 ->
:class:`TicketingValidationError`, 429 -> :class:`TicketingRateLimitError` and 5xx, refused
connections and timeouts -> :class:`TicketingUnavailableError`, with ``Retry-After`` as
``retry_after``. Credentials live only in the client's headers or auth: never in a message, a
log line or a ``repr``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from ..._http import retry_after
from ...errors import (
    ConfigurationError,
    TicketingAuthError,
    TicketingError,
    TicketingRateLimitError,
    TicketingUnavailableError,
    TicketingValidationError,
    TicketNotFoundError,
)
from .base import NewTicket

__all__ = [
    "HttpAdapter",
    "decode_cursor",
    "encode_cursor",
    "html_to_text",
    "marker",
    "parse_time",
    "story",
]

#: Seconds for one request. Help desks answer in well under a second; 15 s rides out a slow
#: search without holding an outbox worker for long.
DEFAULT_TIMEOUT = 15.0
_VALIDATION = {400, 409, 422}


class HttpAdapter:
    """Base of the httpx adapters: ``_request`` sends, checks and decodes; ``aclose`` closes.

    The async client is made on first use and remade if the event loop changed (a client is
    bound to the loop it first ran on).
    """

    name = "http"
    system = "ticketing"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{self.system}: base URL must start with http:// or https://: {base_url!r}"
            )
        if timeout <= 0:
            raise ConfigurationError(f"{self.system}: timeout must be positive, not {timeout}")
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": "grokassist", **(headers or {})}
        self._auth = auth
        self._timeout = timeout
        self._transport = transport
        self._verify = verify
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, credentials=<redacted>)"

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                auth=self._auth,
                timeout=self._timeout,
                transport=self._transport,
                verify=self._verify,
                follow_redirects=False,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(RuntimeError):  # its event loop is gone: nothing to release
                await client.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The response, whatever its status; transport failures become :class:`TicketingUnavailableError`."""
        try:
            return await self._http().request(method, path, params=params, json=json_body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TicketingUnavailableError(
                f"no answer within {self._timeout:g} s ({method} {path})", system=self.system
            ) from exc
        except httpx.TransportError as exc:
            raise TicketingUnavailableError(
                f"cannot reach {self.base_url} ({type(exc).__name__})", system=self.system
            ) from exc

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send, raise the translated error for a status of 300 or more, and decode the JSON answer."""
        response = await self._send(method, path, params=params, json_body=json_body, headers=headers)
        if response.status_code >= 300:
            raise self._error(response, f"{method} {path}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise TicketingError(
                f"answered {method} {path} with something that is not JSON",
                system=self.system,
                status_code=response.status_code,
                body=response.text[:200],
            ) from exc

    def _error(self, response: httpx.Response, what: str) -> TicketingError:
        """The :class:`TicketingError` for an HTTP error status."""
        status = response.status_code
        body = response.text[:1000]
        wait = retry_after(response.headers)
        kwargs: dict[str, Any] = {"system": self.system, "status_code": status, "body": body}
        if status in (401, 403):
            return TicketingAuthError(f"{what} refused: check the credentials and their rights", **kwargs)
        if status == 404:
            return TicketNotFoundError(f"{what}: not found", **kwargs)
        if status in _VALIDATION:
            return TicketingValidationError(f"{what} was refused as invalid", **kwargs)
        if status == 429:
            return TicketingRateLimitError(f"{what}: rate limited", retry_after=wait, **kwargs)
        if status >= 500:
            return TicketingUnavailableError(f"{what}: server error", retry_after=wait, **kwargs)
        return TicketingError(f"{what} failed", retry_after=wait, **kwargs)


def encode_cursor(state: Mapping[str, Any]) -> str:
    """An opaque cursor for ``state`` (URL-safe, no padding)."""
    raw = json.dumps(dict(state), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, system: str) -> dict[str, Any]:
    """The state in a cursor from :func:`encode_cursor`; ``{}`` for ``None``."""
    if not cursor:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise TicketingValidationError(f"malformed cursor {cursor[:40]!r}", system=system) from exc
    if not isinstance(state, dict):
        raise TicketingValidationError(f"malformed cursor {cursor[:40]!r}", system=system)
    return state


def marker(external_id: str) -> str:
    """A tag or label that marks the ticket of ``external_id`` where the system has no external id.

    ``grokassist-`` and 12 hex digits of its SHA-256: no spaces, short enough for any tag field.
    """
    return "grokassist-" + hashlib.sha256(external_id.encode()).hexdigest()[:12]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; ServiceNow's ``YYYY-MM-DD HH:MM:SS`` is UTC)."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) == 19 and text[10] == " ":
        text = text.replace(" ", "T") + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def html_to_text(html: str) -> str:
    """The readable text of an HTML comment (agents' replies are HTML in most help desks)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"]):
        block.append("\n")
    lines = (line.strip() for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line).strip()


def story(
    ticket: NewTicket, *, with_tags: bool = True, with_priority: bool = False, with_requester: bool = False
) -> str:
    """The ticket's body and, after ``--``, what the system has no field for: metadata, tags, id."""
    extra = [f"{key}: {value}" for key, value in sorted(ticket.metadata.items())]
    if with_requester and ticket.requester_email:
        name = f"{ticket.requester_name} " if ticket.requester_name else ""
        extra.append(f"requester: {name}<{ticket.requester_email}>")
    if with_priority:
        extra.append(f"priority: {ticket.priority}")
    if with_tags and ticket.tags:
        extra.append("tags: " + ", ".join(ticket.tags))
    extra.append(f"escalation: {ticket.external_id}")
    return ticket.body.rstrip() + "\n\n--\n" + "\n".join(extra)
