"""Status sources over HTTP: Atlassian Statuspage, RSS/Atom feeds, and any JSON endpoint.

Each reads one address with a short timeout and turns the response into
:class:`~grokassist.live.base.LiveFact` s; anything that goes wrong (refused
connection, timeout, an HTTP error status, a body that is not what the format
says) raises :class:`~grokassist.errors.LiveDataError`, which the cache
(:class:`~grokassist.live.hub.LiveSources`) records and answers state plainly.

* :class:`StatuspageSource`: ``/api/v2/summary.json`` of an Atlassian
  Statuspage (the overall status, components, unresolved incidents with their
  latest update, scheduled maintenance).
* :class:`FeedSource`: an RSS or Atom feed of incidents (feedparser; e.g.
  Statuspage's ``history.atom``): entries updated within ``recent_s``.
* :class:`JsonSource`: any JSON endpoint, mapped with JMESPath expressions
  (:class:`JsonMapping`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .._optional import require
from ..errors import LiveDataError
from .base import LiveFact
from .router import asks_status

__all__ = ["FeedSource", "HttpSource", "JsonMapping", "JsonSource", "StatuspageSource"]

#: Bytes read from a status endpoint at most (Statuspage summaries are 5-200 KB).
MAX_BYTES = 2 * 1024 * 1024

_COMPONENT = {
    "operational": (0, "operational"),
    "degraded_performance": (1, "degraded performance"),
    "partial_outage": (2, "partial outage"),
    "major_outage": (3, "major outage"),
    "under_maintenance": (1, "under maintenance"),
}
_IMPACT = {"none": 0, "minor": 1, "major": 2, "critical": 3, "maintenance": 1}


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clock(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%H:%M UTC") if when else ""


def _plain(text: str) -> str:
    """Text without HTML tags and entities, on one line."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


class HttpSource:
    """A live source read from one address over HTTP; subclasses turn the body into facts.

    ``transport`` replaces the network (an ``httpx.MockTransport`` in a test);
    ``headers`` are sent with every request (an API key, say).
    """

    kind = "http"

    def __init__(
        self,
        url: str,
        *,
        name: str = "status",
        title: str = "Service status",
        ttl_s: float = 60.0,
        timeout_s: float = 3.0,
        headers: Mapping[str, str] | None = None,
        asks_about: Callable[[str], bool] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise LiveDataError(f"{name}: {url!r} is not an http(s) address", source=name)
        if ttl_s <= 0 or timeout_s <= 0:
            raise LiveDataError(f"{name}: ttl_s and timeout_s must be positive", source=name)
        self.url = url  # where a customer can read it (cited)
        self.endpoint = url  # where it is fetched from
        self.name = name
        self.title = title
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._asks = asks_about or asks_status
        self._client = httpx.Client(
            timeout=timeout_s,
            headers={"User-Agent": "grokassist (live status)", "Accept": self.accept, **dict(headers or {})},
            transport=transport,
            follow_redirects=True,
        )

    accept = "*/*"

    def asks_about(self, question: str) -> bool:
        return self._asks(question)

    def _get(self) -> httpx.Response:
        try:
            response = self._client.get(self.endpoint)
        except httpx.TimeoutException as exc:
            raise LiveDataError(
                f"{self.name}: no answer within {self.timeout_s:g} s", source=self.name
            ) from exc
        except httpx.HTTPError as exc:
            raise LiveDataError(
                f"{self.name}: cannot reach {self.endpoint}: {exc}", source=self.name
            ) from exc
        if response.status_code >= 400:
            raise LiveDataError(
                f"{self.name}: HTTP {response.status_code} from {self.endpoint}", source=self.name
            )
        if len(response.content) > MAX_BYTES:
            raise LiveDataError(f"{self.name}: the response is over {MAX_BYTES} bytes", source=self.name)
        return response

    def _json(self) -> Any:
        response = self._get()
        try:
            return response.json()
        except ValueError as exc:
            raise LiveDataError(
                f"{self.name}: {self.endpoint} did not return JSON", source=self.name
            ) from exc

    def fetch(self) -> list[LiveFact]:
        raise NotImplementedError

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint!r}, name={self.name!r}, ttl_s={self.ttl_s:g})"


class StatuspageSource(HttpSource):
    """An Atlassian Statuspage: give the page's address or its ``/api/v2/summary.json``."""

    kind = "statuspage"
    accept = "application/json"

    def __init__(self, url: str, **options: Any) -> None:
        url = url.rstrip("/")
        page = re.sub(r"/api/v2/[a-z_]+\.json$", "", url)
        super().__init__(page + "/api/v2/summary.json" if page == url else url, **options)
        self.url = page  # the page customers read; the summary is fetched from ``endpoint``

    def fetch(self) -> list[LiveFact]:
        data = self._json()
        if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
            raise LiveDataError(f"{self.name}: not a Statuspage summary (no 'status')", source=self.name)
        try:
            return self._facts(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise LiveDataError(
                f"{self.name}: unexpected Statuspage summary: {exc!r}", source=self.name
            ) from exc

    def _facts(self, data: dict[str, Any]) -> list[LiveFact]:
        status = data["status"]
        facts = [
            LiveFact(
                text=str(status.get("description") or "status unknown"),
                kind="summary",
                severity=_IMPACT.get(str(status.get("indicator", "none")), 1),
                updated=_time((data.get("page") or {}).get("updated_at")),
            )
        ]
        components = [c for c in data.get("components") or [] if isinstance(c, dict)]
        groups = {c["id"]: str(c.get("name", "")) for c in components if c.get("group") and c.get("id")}
        for c in components:
            if c.get("group"):
                continue
            severity, said = _COMPONENT.get(str(c.get("status")), (1, str(c.get("status", "unknown"))))
            name = str(c.get("name", "")).strip()
            group = groups.get(c.get("group_id") or "")
            label = f"{group} ({name})" if group else name
            facts.append(
                LiveFact(
                    text=f"{label}: {said}.",
                    kind="component",
                    name=label,
                    severity=severity,
                    updated=_time(c.get("updated_at")),
                )
            )
        for incident in data.get("incidents") or []:
            if not isinstance(incident, dict) or incident.get("status") in ("resolved", "postmortem"):
                continue
            facts.append(self._incident(incident))
        for maintenance in data.get("scheduled_maintenances") or []:
            if not isinstance(maintenance, dict) or maintenance.get("status") == "completed":
                continue
            facts.append(self._maintenance(maintenance))
        return facts

    @staticmethod
    def _latest(item: dict[str, Any]) -> tuple[str, datetime | None]:
        updates = [u for u in item.get("incident_updates") or [] if isinstance(u, dict)]
        updates.sort(key=lambda u: str(u.get("display_at") or u.get("created_at") or ""), reverse=True)
        if not updates:
            return "", _time(item.get("updated_at"))
        latest = updates[0]
        return _plain(str(latest.get("body") or "")), _time(
            latest.get("display_at") or latest.get("created_at")
        )

    @staticmethod
    def _affected(item: dict[str, Any]) -> str:
        names = [str(c.get("name", "")) for c in item.get("components") or [] if isinstance(c, dict)]
        return ", ".join(n for n in names if n)

    def _incident(self, incident: dict[str, Any]) -> LiveFact:
        name = _plain(str(incident.get("name", "incident")))
        impact = str(incident.get("impact") or "none")
        body, when = self._latest(incident)
        affected = self._affected(incident)
        text = f"Incident “{name}” ({impact} impact, {incident.get('status', 'open')}"
        text += f", updated {_clock(when)})" if when else ")"
        if affected:
            text += f", affecting {affected}"
        text += f": {body}" if body else "."
        return LiveFact(
            text=text,
            kind="incident",
            name=f"{name} {affected}".strip(),
            severity=max(1, _IMPACT.get(impact, 1)),
            updated=when,
        )

    def _maintenance(self, item: dict[str, Any]) -> LiveFact:
        name = _plain(str(item.get("name", "maintenance")))
        start, end = _time(item.get("scheduled_for")), _time(item.get("scheduled_until"))
        body, when = self._latest(item)
        affected = self._affected(item)
        window = ""
        if start and end:
            window = f" from {start:%Y-%m-%d} {_clock(start)} to {end:%Y-%m-%d} {_clock(end)}"
        state = "in progress" if item.get("status") in ("in_progress", "verifying") else "scheduled"
        text = f"Maintenance “{name}” is {state}{window}"
        if affected:
            text += f", affecting {affected}"
        text += f": {body}" if body else "."
        return LiveFact(
            text=text,
            kind="maintenance",
            name=f"{name} {affected}".strip(),
            severity=1 if state == "in progress" else 0,
            updated=when,
        )


class FeedSource(HttpSource):
    """An RSS or Atom feed of incidents: entries updated within ``recent_s`` are current facts.

    An entry whose title or text says it is resolved (or completed) is stated
    as such and does not count as trouble. Needs ``pip install "grokassist[live]"``.
    """

    kind = "feed"
    accept = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"

    def __init__(self, url: str, *, recent_s: float = 24 * 3600, **options: Any) -> None:
        super().__init__(url, **options)
        self.recent_s = recent_s

    def fetch(self) -> list[LiveFact]:
        feedparser = require("feedparser", extra="live", feature="RSS/Atom status feeds")
        response = self._get()
        parsed = feedparser.parse(response.content)
        if parsed.get("bozo") and not parsed.get("entries"):
            problem = parsed.get("bozo_exception")
            raise LiveDataError(f"{self.name}: not an RSS or Atom feed ({problem})", source=self.name)
        now = datetime.now(UTC)
        facts: list[LiveFact] = []
        for entry in parsed.get("entries", []):
            stamp = entry.get("updated_parsed") or entry.get("published_parsed")
            when = datetime(*stamp[:6]).replace(tzinfo=UTC) if stamp else None
            if when is None or (now - when).total_seconds() > self.recent_s:
                continue
            title = _plain(str(entry.get("title", "")))
            body = _plain(str(entry.get("summary", "")))
            if len(body) > 400:
                body = body[:400].rsplit(" ", 1)[0] + " …"
            resolved = bool(re.search(r"\b(resolved|completed|restored)\b", f"{title} {body}", re.I))
            text = f"“{title}” (updated {_clock(when)})"
            text += f": {body}" if body and body != title else "."
            facts.append(
                LiveFact(text=text, kind="incident", name=title, severity=0 if resolved else 2, updated=when)
            )
        return facts


class JsonMapping(BaseModel):
    """Where a JSON status endpoint keeps its facts, as JMESPath expressions (jmespath.org).

    ``summary`` is the overall status text and ``summary_ok`` the values of
    ``summary_state`` (or of ``summary`` itself) that mean nothing is wrong;
    ``items`` selects a list of objects (regions, services...), each read with
    ``item_name``, ``item_status``, ``item_text`` and ``item_updated``.
    ``ok`` lists the item statuses that mean nothing is wrong (compared case-
    insensitively); ``severities`` gives others a level from 1 (minor) to 3.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: str | None = None
    summary_state: str | None = None
    summary_ok: tuple[str, ...] = ("ok", "operational", "none", "up", "green", "all systems operational")
    items: str | None = None
    item_name: str = "name"
    item_status: str = "status"
    item_text: str | None = None
    item_updated: str | None = None
    ok: tuple[str, ...] = ("ok", "operational", "up", "green", "normal", "available")
    severities: dict[str, int] = Field(default_factory=dict)


class JsonSource(HttpSource):
    """Any JSON status endpoint, read through a :class:`JsonMapping`. Needs ``grokassist[live]``."""

    kind = "json"
    accept = "application/json"

    def __init__(self, url: str, mapping: JsonMapping | Mapping[str, Any], **options: Any) -> None:
        super().__init__(url, **options)
        self.mapping = mapping if isinstance(mapping, JsonMapping) else JsonMapping.model_validate(mapping)
        jmespath = require("jmespath", extra="live", feature="JSON status endpoints")
        self._compiled: dict[str, Any] = {}
        m = self.mapping
        for key in (
            "summary",
            "summary_state",
            "items",
            "item_name",
            "item_status",
            "item_text",
            "item_updated",
        ):
            expression = getattr(m, key)
            if expression:
                try:
                    self._compiled[key] = jmespath.compile(expression)
                except jmespath.exceptions.ParseError as exc:
                    raise LiveDataError(f"{self.name}: bad {key} expression {expression!r}: {exc}") from exc

    def _search(self, key: str, data: Any) -> Any:
        compiled = self._compiled.get(key)
        return compiled.search(data) if compiled is not None else None

    def _severity(self, status: str) -> int:
        if status.lower() in {s.lower() for s in self.mapping.ok}:
            return 0
        lowered = {k.lower(): v for k, v in self.mapping.severities.items()}
        return max(1, min(3, lowered.get(status.lower(), 2)))

    def fetch(self) -> list[LiveFact]:
        data = self._json()
        facts: list[LiveFact] = []
        summary = self._search("summary", data)
        if summary is not None:
            state = self._search("summary_state", data) if "summary_state" in self._compiled else summary
            ok = str(state).strip().lower() in {s.lower() for s in self.mapping.summary_ok}
            facts.append(
                LiveFact(
                    text=_plain(str(summary)) or "status unknown", kind="summary", severity=0 if ok else 2
                )
            )
        if "items" in self._compiled:
            items = self._search("items", data)
            if not isinstance(items, list):
                raise LiveDataError(f"{self.name}: 'items' did not select a list", source=self.name)
            for item in items:
                name = _plain(str(self._search("item_name", item) or ""))
                status = _plain(str(self._search("item_status", item) or ""))
                text = self._search("item_text", item) if "item_text" in self._compiled else None
                said = _plain(str(text)) if text else f"{name}: {status or 'unknown'}."
                facts.append(
                    LiveFact(
                        text=said,
                        kind="component",
                        name=name,
                        severity=self._severity(status) if status else 1,
                        updated=_time(self._search("item_updated", item)),
                    )
                )
        if not facts:
            raise LiveDataError(f"{self.name}: the mapping found nothing in the response", source=self.name)
        return facts
