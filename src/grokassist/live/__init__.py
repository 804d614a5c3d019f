"""Live facts: status feeds and host-product tools, cited with their time.

Support articles say how things work; customers also ask how things are right
now. This package brings the current state into answers as ``live`` sources
(:mod:`grokassist.trust`):

* status sources (:class:`StatuspageSource`, :class:`FeedSource`,
  :class:`JsonSource`), cached and refreshed in the background by
  :class:`LiveSources`, each fact with its fetch time and time-to-live;
* host-product tools (:func:`host_tool`), typed functions the assistant may
  call (through :mod:`grokassist.tools`), whose results are cited with their time.

A question about the current state ("Is there an outage in my area?") is
answered from them, citing "Service status, as of 14:02 UTC"; a source that is
down or out of date makes the answer say so, never fail. See docs/live-data.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import LiveFact, LiveSource, Snapshot, clock_time, status_passage
from .hub import LiveSources
from .router import asks_status
from .sources import FeedSource, HttpSource, JsonMapping, JsonSource, StatuspageSource
from .tools import HostTool, KeywordToolRouter, host_tool, render_value, tool_passage

if TYPE_CHECKING:
    from ..config import LiveSourceSettings

__all__ = [
    "FeedSource",
    "HostTool",
    "HttpSource",
    "JsonMapping",
    "JsonSource",
    "KeywordToolRouter",
    "LiveFact",
    "LiveSource",
    "LiveSources",
    "Snapshot",
    "StatuspageSource",
    "asks_status",
    "clock_time",
    "host_tool",
    "open_live_source",
    "render_value",
    "status_passage",
    "tool_passage",
]


def open_live_source(config: LiveSourceSettings) -> LiveSource:
    """The status source a ``[[live.sources]]`` entry of the settings describes."""
    options = {
        "name": config.name,
        "title": config.title,
        "ttl_s": config.ttl_s,
        "timeout_s": config.timeout_s,
        "headers": {k: v.get_secret_value() for k, v in config.headers.items()},
    }
    if config.kind == "statuspage":
        return StatuspageSource(config.url, **options)
    if config.kind == "feed":
        return FeedSource(config.url, recent_s=config.recent_s, **options)
    return JsonSource(config.url, config.mapping, **options)
