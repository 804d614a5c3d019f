"""Handing a conversation to a person: when (triggers), what the ticket says, how it gets
there exactly once (the outbox worker), and how the person's replies come back.

Needs no web framework: the HTTP service, the CLI (``grokassist outbox``) and any other
runtime use it over a :class:`~grokassist.stores.base.Store` and a
:class:`~grokassist.adapters.ticketing.base.TicketingAdapter`.
"""

from __future__ import annotations

from ..adapters.ticketing.base import TicketingAdapter
from ..errors import ConfigurationError
from .settings import HandoffSettings
from .tickets import build_escalation
from .triggers import Fired, after_answer, before_answer
from .worker import OutboxWorker, WorkerStats

__all__ = [
    "Fired",
    "HandoffSettings",
    "OutboxWorker",
    "WorkerStats",
    "after_answer",
    "before_answer",
    "build_escalation",
    "open_ticketing",
]


def open_ticketing(settings: HandoffSettings) -> TicketingAdapter:
    """The ticketing adapter named by ``settings.ticketing_url`` (see docs/ticketing.md)."""
    if not settings.ticketing_url:
        raise ConfigurationError(
            "no ticketing system configured: set GROKASSIST_HANDOFF_TICKETING_URL (see docs/ticketing.md)"
        )
    from ..adapters import ticketing

    opener = getattr(ticketing, "open_adapter", None)
    if opener is None:
        raise ConfigurationError("this grokassist has no ticketing adapters installed")
    secret = settings.ticketing_secret.get_secret_value() if settings.ticketing_secret else None
    adapter: TicketingAdapter = opener(settings.ticketing_url, secret=secret)
    return adapter
