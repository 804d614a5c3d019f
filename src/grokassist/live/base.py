"""Live facts, the sources that fetch them, and how they become a cited source of an answer.

A :class:`LiveSource` fetches :class:`LiveFact` s (one sentence each: "Starlink
Internet (Australia): partial outage.") from a status system; a
:class:`Snapshot` is what the last fetch returned, with its fetch time and
time-to-live. :func:`status_passage` turns a snapshot into the ``live`` source
an answer cites, worded for its state:

* fresh: "As of 14:02 UTC, the service status page reports: ...", titled
  "Service status, as of 14:02 UTC";
* stale (older than its time-to-live and the source not answering): the facts
  are not used; the source says how old the last status is;
* down (never fetched): the source says the status page is not answering.

Every word of that passage comes from the status system or from these
templates, so the grounding guard can hold a model to it like to any source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..text import content_terms
from ..trust import AS_OF_KEY, TRUST_KEY
from ..types import LiveUse, Passage, ScoredPassage

__all__ = [
    "LiveFact",
    "LiveSource",
    "Snapshot",
    "SnapshotState",
    "clock_time",
    "status_passage",
]

SnapshotState = Literal["fresh", "stale", "down"]
FactKind = Literal["summary", "component", "incident", "maintenance", "item"]

#: most facts of one source stated in an answer besides its summary (a status page
#: with 40 components in trouble is summarised, not read out)
MAX_FACTS = 4


class LiveFact(BaseModel):
    """One current fact of a status system, stated as one sentence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    kind: FactKind = "item"
    #: what the fact is about (a component, an incident, a region): matched against the question
    name: str = ""
    #: 0 nothing wrong, 1 minor, 2 major, 3 critical (or under maintenance: 1)
    severity: int = Field(default=0, ge=0, le=3)
    updated: datetime | None = None


class Snapshot(BaseModel):
    """What a live source said at its last successful fetch, and how its last attempt went."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    title: str
    url: str = ""
    ttl_s: float = Field(gt=0)
    facts: tuple[LiveFact, ...] = ()
    fetched_at: datetime | None = None  # the last successful fetch (UTC)
    checked_at: datetime | None = None  # the last attempt (UTC)
    error: str = ""  # why the last attempt failed ("" when it worked)

    def state(self, now: datetime) -> SnapshotState:
        """``fresh`` within the time-to-live of its fetch, ``stale`` after it, ``down`` if never fetched."""
        if self.fetched_at is None:
            return "down"
        return "fresh" if (now - self.fetched_at).total_seconds() <= self.ttl_s else "stale"

    def use(self, now: datetime) -> LiveUse:
        state = self.state(now)
        return LiveUse(
            kind="status",
            name=self.source,
            title=self.title,
            state=state,
            as_of=self.fetched_at if state == "fresh" else None,
            checked_at=self.checked_at,
            error="" if state == "fresh" else (self.error or "older than its time-to-live"),
        )


@runtime_checkable
class LiveSource(Protocol):
    """A status system: fetches its current facts (raising :class:`~grokassist.errors.LiveDataError`)."""

    name: str  # short and unique: "status"
    title: str  # what an answer calls it: "Service status"
    url: str
    ttl_s: float  # how long a fetch stays current

    def fetch(self) -> list[LiveFact]: ...

    def asks_about(self, question: str) -> bool:
        """Whether ``question`` asks about what this source knows (the current state of the service)."""
        ...

    def close(self) -> None: ...


def clock_time(when: datetime) -> str:
    """``14:02 UTC``."""
    return when.astimezone(UTC).strftime("%H:%M UTC")


def _host(url: str) -> str:
    match = re.match(r"^[a-z]+://([^/]+)", url)
    return match.group(1) if match else ""


#: words of status and trouble: they name no component or region
_GENERIC = frozenset(
    content_terms(
        "outage outages down offline status service services incident incidents maintenance degraded "
        "performance partial major minor problem problems issue issues disruption internet network system "
        "systems area region today now currently working operational"
    )
)


def _relevant(
    facts: Sequence[LiveFact], question: str, context: Mapping[str, str]
) -> tuple[list[LiveFact], bool]:
    """The facts worth stating for ``question``, and whether the question named one of them.

    A fact whose name shares words with the question (or with the caller's
    ``region``/``location`` context) is about what was asked; otherwise the
    facts that report trouble are, worst first.
    """
    details = [f for f in facts if f.kind != "summary"]
    wanted = set(content_terms(question))
    for key in ("region", "location", "area", "country", "city"):
        if context.get(key):
            wanted |= set(content_terms(context[key]))
    names = [set(content_terms(f.name)) for f in details]
    # words of the trouble itself, and words most names share (the product: "Starlink Internet"),
    # do not say which component or region the question is about
    seen: dict[str, int] = {}
    for terms in names:
        for term in terms:
            seen[term] = seen.get(term, 0) + 1
    common = {t for t, n in seen.items() if len(details) > 2 and n > len(details) / 2}
    wanted -= _GENERIC | common
    named = [f for f, terms in zip(details, names, strict=True) if f.name and wanted & terms]
    if named:
        return sorted(named, key=lambda f: -f.severity)[:MAX_FACTS], True
    trouble = [f for f in details if f.severity > 0 or f.kind in ("incident", "maintenance")]
    return sorted(trouble, key=lambda f: -f.severity)[:MAX_FACTS], False


def status_passage(
    snapshot: Snapshot,
    question: str,
    now: datetime,
    *,
    context: Mapping[str, str] | None = None,
) -> tuple[ScoredPassage, LiveUse]:
    """The ``live`` source an answer to ``question`` cites, and the record of its use."""
    use = snapshot.use(now)
    where = _host(snapshot.url) or snapshot.title.lower()
    checked = clock_time(snapshot.checked_at or now)
    if use.state == "fresh":
        assert snapshot.fetched_at is not None
        at = clock_time(snapshot.fetched_at)
        title = f"{snapshot.title}, as of {at}"
        summary = next((f for f in snapshot.facts if f.kind == "summary"), None)
        chosen, named = _relevant(snapshot.facts, question, context or {})
        head = f"As of {at}, the {snapshot.title.lower()} page reports"
        if summary is not None:
            lines = [f"{head}: {_sentence(summary.text)}"]
            if not chosen and not named and summary.severity == 0:
                lines.append("No incidents are reported.")
        else:
            lines = [f"{head}:" if chosen else f"{head} no incidents."]
        lines.extend(_sentence(f.text) for f in chosen)
        text = "\n".join(lines)
    elif use.state == "stale":
        assert snapshot.fetched_at is not None
        title = f"{snapshot.title}, last known at {clock_time(snapshot.fetched_at)} (out of date)"
        text = (
            f"The last {snapshot.title.lower()} I have is from {clock_time(snapshot.fetched_at)}, which is "
            f"too old to rely on, and the status page ({where}) is not answering now (checked at {checked}). "
            "I cannot tell you the current status."
        )
    else:
        title = f"{snapshot.title}, unavailable at {checked}"
        text = (
            f"The status page ({where}) is not answering right now (checked at {checked}), "
            f"so I cannot tell you the current {snapshot.title.lower()}."
        )
    metadata: dict[str, str | int | float | bool] = {TRUST_KEY: "live", "live_state": use.state}
    if use.state == "fresh" and snapshot.fetched_at is not None:
        metadata[AS_OF_KEY] = snapshot.fetched_at.astimezone(UTC).isoformat()
    passage = Passage(
        id=f"live:{snapshot.source}",
        doc_id=f"live:{snapshot.source}",
        text=text,
        title=title,
        source=snapshot.url,
        metadata=metadata,
    )
    return ScoredPassage(passage=passage, score=1.0, dense_score=None), use


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1:] in ".!?" else text + "."
