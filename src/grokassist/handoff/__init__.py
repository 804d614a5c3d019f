"""Handing a conversation to a person: when (triggers), what the ticket says, how it gets
there exactly once (the outbox worker), and how the person's replies come back.

Needs no web framework: the HTTP service, the CLI (``grokassist outbox``) and any other
runtime use it over a :class:`~grokassist.stores.base.Store` and a
:class:`~grokassist.adapters.ticketing.base.TicketingAdapter`.
"""

from __future__ import annotations

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
]
