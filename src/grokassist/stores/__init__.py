"""Saved state: conversations, session ownership, answers and feedback, the escalation
outbox and rate limits, one protocol per concern (:mod:`grokassist.stores.base`), one
module per technology:

* ``sqlite:`` (the default: ``<data dir>/server/grokassist-server.sqlite3``) or
  ``sqlite:///path/to/file.sqlite3``: :class:`~grokassist.stores.sqlite.SqliteStore`, one
  file that the processes of one host share;
* ``redis://host:6379/0`` (or ``rediss://``): :class:`~grokassist.stores.redis.RedisStore`,
  for replicas on several hosts (needs ``pip install "grokassist[server]"``);
* ``memory:``: :class:`~grokassist.stores.memory.MemoryStore`, this process only.

:func:`open_store` picks one by URL. The HTTP service, the CLI and the outbox worker use
these without FastAPI; importing this package imports neither FastAPI nor Redis.
"""

from __future__ import annotations

from ._open import STORE_SCHEMES, open_store, store_kind
from ._outbox import backoff_s
from .base import (
    DAY,
    AnswerLog,
    ConversationStore,
    DeliveryPolicy,
    Escalation,
    EscalationStatus,
    Feedback,
    Limiter,
    Outbox,
    RateLimits,
    SessionOwnership,
    Store,
    Trigger,
)
from .memory import MemoryStore, RateLimiter, SessionStore
from .sqlite import SqliteStore

__all__ = [
    "DAY",
    "STORE_SCHEMES",
    "AnswerLog",
    "ConversationStore",
    "DeliveryPolicy",
    "Escalation",
    "EscalationStatus",
    "Feedback",
    "Limiter",
    "MemoryStore",
    "Outbox",
    "RateLimiter",
    "RateLimits",
    "SessionOwnership",
    "SessionStore",
    "SqliteStore",
    "Store",
    "Trigger",
    "backoff_s",
    "open_store",
    "store_kind",
]
