"""The live sources of an assistant, cached and refreshed in the background.

Status pages are read by a background thread, not by the customer's
request: each source is fetched again once half its time-to-live has passed,
so an answer normally finds a fresh snapshot at once. When it does not (the
thread has not caught up, the page was down), :meth:`LiveSources.snapshot`
fetches once itself, bounded by the source's timeout, and never more often
than every ``retry_s`` seconds (a page that is down is not hammered by every
question). A snapshot older than its time-to-live is *stale*: answers do not
state its facts as current, they say how old the last status is.

The thread starts with the first snapshot asked for and stops with
:meth:`LiveSources.close` (the assistant closes it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from ..errors import ConfigurationError, LiveDataError
from .base import LiveSource, Snapshot

__all__ = ["LiveSources"]

log = logging.getLogger("grokassist.live")

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LiveSources:
    """Live sources by name, each with its last :class:`Snapshot`."""

    def __init__(
        self,
        sources: Iterable[LiveSource] = (),
        *,
        background: bool = True,
        retry_s: float = 5.0,
        clock: Clock = _utcnow,
    ) -> None:
        self.background = background
        self.retry_s = retry_s
        self.clock = clock
        self._sources: dict[str, LiveSource] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        for source in sources:
            self.add(source)

    def add(self, source: LiveSource) -> LiveSource:
        if not isinstance(source, LiveSource):
            raise ConfigurationError(f"{source!r} is not a live source (fetch, asks_about, close)")
        with self._lock:
            if source.name in self._sources:
                raise ConfigurationError(f"a live source named {source.name!r} is already registered")
            self._sources[source.name] = source
            self._locks[source.name] = threading.Lock()
            self._snapshots[source.name] = Snapshot(
                source=source.name, title=source.title, url=source.url, ttl_s=source.ttl_s
            )
        self._wake.set()
        return source

    def __iter__(self) -> Iterator[LiveSource]:
        return iter(list(self._sources.values()))

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def get(self, name: str) -> LiveSource:
        try:
            return self._sources[name]
        except KeyError:
            raise ConfigurationError(f"no live source named {name!r}") from None

    def for_question(self, question: str) -> list[LiveSource]:
        """The sources ``question`` asks about."""
        return [s for s in self if s.asks_about(question)]

    # -- snapshots ---------------------------------------------------------------------

    def snapshot(self, name: str) -> Snapshot:
        """The source's current snapshot: refreshed now if it is not fresh (and was not tried within
        ``retry_s``); never raises for a source that is down (the snapshot says so)."""
        source = self.get(name)
        self._start()
        current = self._snapshots[name]
        now = self.clock()
        if current.state(now) != "fresh" and self._due(current, now, retry=True):
            self.refresh(source.name)
        return self._snapshots[name]

    def _due(self, snapshot: Snapshot, now: datetime, *, retry: bool) -> bool:
        tried = snapshot.checked_at
        if tried is None:
            return True
        since = (now - tried).total_seconds()
        if snapshot.error:  # the last try failed: wait retry_s before the next
            return since >= self.retry_s
        if retry:
            return True
        return (
            snapshot.fetched_at is None or (now - snapshot.fetched_at).total_seconds() >= snapshot.ttl_s / 2
        )

    def refresh(self, name: str) -> Snapshot:
        """Fetch ``name`` now (one fetch at a time per source; a concurrent caller waits for it)."""
        source = self.get(name)
        lock = self._locks[name]
        started = self.clock()
        with lock:
            current = self._snapshots[name]
            if current.checked_at is not None and current.checked_at >= started:
                return current  # another caller fetched while this one waited
            try:
                facts = source.fetch()
            except LiveDataError as exc:
                fresh = current.model_copy(update={"checked_at": self.clock(), "error": str(exc)})
                log.warning("live source %s failed: %s", name, exc)
            except Exception as exc:  # a source's bug must not reach an answer
                fresh = current.model_copy(
                    update={"checked_at": self.clock(), "error": f"{type(exc).__name__}: {exc}"}
                )
                log.exception("live source %s raised", name)
            else:
                when = self.clock()
                fresh = current.model_copy(
                    update={"facts": tuple(facts), "fetched_at": when, "checked_at": when, "error": ""}
                )
                log.info("live source %s: %d facts", name, len(facts))
            self._snapshots[name] = fresh
            return fresh

    # -- background refresh ------------------------------------------------------------

    def _start(self) -> None:
        if not self.background or self._thread is not None or self._stop.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="grokassist-live", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            waits = []
            for source in self:
                snapshot = self._snapshots[source.name]
                if self._due(snapshot, now, retry=False):
                    self.refresh(source.name)
                    snapshot = self._snapshots[source.name]
                waits.append(self.retry_s if snapshot.error else max(0.05, source.ttl_s / 2))
            self._wake.clear()
            # woken early by close() or by a new source
            self._wake.wait(min(waits, default=1.0) / 2)
            if self._stop.is_set():
                return

    def close(self) -> None:
        """Stop the background thread and close the sources."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        for source in self:
            try:
                source.close()
            except Exception:  # closing must not fail the assistant's close
                log.exception("closing live source %s", source.name)
