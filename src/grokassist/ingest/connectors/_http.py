"""The HTTP client every connector uses: retries with backoff on 429 and 5xx (honouring
``Retry-After``), errors translated once into :class:`~grokassist.errors.ConnectorError`
with the status, a short body and what to do, and never a credential in a message, a
log line or a repr.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ...errors import ConnectorError

__all__ = ["USER_AGENT", "Http", "TooLarge"]

logger = logging.getLogger("grokassist.ingest")

USER_AGENT = "grokassist/0.1 (support-docs connector)"
#: Longest wait for one ``Retry-After`` (seconds): a help centre that asks for more is
#: reported as rate limited instead of stalling an ingest.
_MAX_RETRY_AFTER_S = 60.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class TooLarge(Exception):
    """A response body over the size limit."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"{size} bytes, over the {limit} bytes limit")


class Http:
    """A small wrapper over :class:`httpx.Client` for one service."""

    def __init__(
        self,
        service: str,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        auth_hint: str = "",
        sleep: Callable[[float], None] = time.sleep,
        follow_redirects: bool = True,
    ) -> None:
        self.service = service
        self.max_retries = max_retries
        self.auth_hint = auth_hint
        self.sleep = sleep
        self.requests = 0
        self._client = httpx.Client(
            auth=auth,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            transport=transport,
            timeout=timeout,
            follow_redirects=follow_redirects,
        )

    def __repr__(self) -> str:
        return f"Http(service={self.service!r})"

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: frozenset[int] = frozenset({200}),
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """GET ``url``; statuses in ``accept`` are returned, 429/5xx retried, others raised.

        A body over ``max_bytes`` raises :class:`TooLarge` without being read further.
        """
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self._send(url, params, headers, max_bytes)
            except httpx.TimeoutException as exc:
                if attempt <= self.max_retries:
                    self._backoff(attempt, None, f"timeout on {_where(url)}")
                    continue
                raise ConnectorError(f"{self.service}: no answer from {_where(url)} (timeout)") from exc
            except httpx.TransportError as exc:
                if attempt <= self.max_retries and not isinstance(exc, httpx.UnsupportedProtocol):
                    self._backoff(attempt, None, f"{type(exc).__name__} on {_where(url)}")
                    continue
                raise ConnectorError(f"{self.service}: cannot reach {_where(url)} ({exc})") from exc
            if response.status_code in accept:
                return response
            if response.status_code in _RETRY_STATUS and attempt <= self.max_retries:
                wait = _retry_after(response)
                if wait is None or wait <= _MAX_RETRY_AFTER_S:
                    response.read()
                    self._backoff(attempt, wait, f"HTTP {response.status_code} from {_where(url)}")
                    continue
            raise self._error(response)

    def _send(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
    ) -> httpx.Response:
        with self._client.stream("GET", url, params=params, headers=headers) as streamed:
            declared = streamed.headers.get("content-length", "")
            if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(int(declared), max_bytes)
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(size, max_bytes)
                chunks.append(chunk)
            kept = {
                k: v
                for k, v in streamed.headers.items()
                if k.lower() not in ("content-encoding", "content-length")
            }
            return httpx.Response(
                streamed.status_code, headers=kept, content=b"".join(chunks), request=streamed.request
            )

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None) -> Any:
        response = self.get(url, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(
                f"{self.service}: {_where(url)} did not answer JSON "
                f"({response.headers.get('content-type', 'no content type')})",
                status_code=response.status_code,
            ) from exc

    def _backoff(self, attempt: int, wait: float | None, why: str) -> None:
        delay = wait if wait is not None else min(30.0, 0.5 * 2 ** (attempt - 1))
        logger.info("%s: %s; retrying in %.1f s", self.service, why, delay)
        self.sleep(delay)

    def _error(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        body = " ".join(response.text.split())[:300]
        where = _where(str(response.request.url))
        if status in (401, 403):
            hint = f"; {self.auth_hint}" if self.auth_hint else ""
            what = "refused the credentials" if status == 401 else "does not allow this"
            message = f"{self.service}: {where} {what} (HTTP {status}): {body}{hint}"
        elif status == 404:
            message = f"{self.service}: {where} was not found (HTTP 404): {body}"
        elif status == 429:
            wait = _retry_after(response)
            later = f"; it asks to wait {wait:.0f} s" if wait is not None else ""
            message = f"{self.service}: rate limited at {where} (HTTP 429){later}: {body}"
        else:
            message = f"{self.service}: HTTP {status} from {where}: {body}"
        return ConnectorError(message, status_code=status)


def _where(url: str) -> str:
    """``url`` without its query string (which may carry cursors, never credentials here)."""
    return url.split("?", 1)[0]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
