"""The outbox's rules, written once: every store keeps records, these decide what changes.

:class:`RecordOutbox` implements :class:`~grokassist.stores.base.Outbox` over five small
primitives that each technology provides (insert, atomic read-modify-write, and three
look-ups by the indexes derived from a record: :attr:`Escalation.claimable_at`,
:attr:`Escalation.holds_conversation`, :attr:`Escalation.ticket_open`). The transitions are
pure functions of the record, so memory, SQLite and Redis cannot disagree about them.

Lessons from other outboxes that this follows: attempts are counted when a claim is made
(a worker that dies mid-delivery still uses one, so a poison escalation reaches the dead
letter instead of looping); every change after the claim is fenced by the lease token (a
worker whose lease ended cannot acknowledge or fail what another worker now holds, and is
told so); one escalation per claim, so a batch never outlives its lease.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from functools import partial

from ..adapters.ticketing.base import TicketStatus
from .base import DeliveryPolicy, Escalation, EscalationStatus

__all__ = ["RecordOutbox", "backoff_s"]

#: Candidates read per claim: enough that a few workers racing for the same ones still find one.
CLAIM_CANDIDATES = 16


def backoff_s(attempts: int, policy: DeliveryPolicy, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempts`` (1-based)."""
    exponent = min(max(attempts - 1, 0), 32)
    delay = min(policy.backoff_cap_s, policy.backoff_base_s * 2.0**exponent) * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


def _claimed(
    e: Escalation, *, worker: str, token: str, now: float, policy: DeliveryPolicy
) -> Escalation | None:
    if e.claimable_at is None or e.claimable_at > now:
        return None  # another worker got there first
    if e.attempts >= policy.max_attempts:
        error = e.last_error or "the worker holding it stopped before finishing"
        return e.model_copy(
            update={
                "status": "dead",
                "lease": None,
                "last_error": f"gave up after {e.attempts} attempts: {error}",
            }
        )
    return e.model_copy(
        update={
            "status": "delivering",
            "attempts": e.attempts + 1,
            "lease": token,
            "worker": worker,
            "due": now + policy.lease_s,
        }
    )


def _acked(e: Escalation, *, lease: str, ticket_id: str, ticket_url: str, now: float) -> Escalation | None:
    if e.status != "delivering" or e.lease != lease:
        return None
    return e.model_copy(
        update={
            "status": "delivered",
            "lease": None,
            "ticket_id": ticket_id,
            "ticket_url": ticket_url,
            "ticket_status": e.ticket_status or "open",
            "delivered_at": now,
            "last_error": "",
        }
    )


def _failed(
    e: Escalation,
    *,
    lease: str,
    error: str,
    policy: DeliveryPolicy,
    retry_after: float | None,
    final: bool,
    now: float,
) -> Escalation | None:
    if e.status != "delivering" or e.lease != lease:
        return None
    if final:
        update: dict[str, object] = {"status": "dead", "last_error": f"not retried: {error}"}
    elif e.attempts >= policy.max_attempts:
        update = {
            "status": "dead",
            "last_error": f"gave up after {e.attempts} attempts: {error}",
        }
    else:
        update = {
            "status": "pending",
            "due": now + backoff_s(e.attempts, policy, retry_after),
            "last_error": error,
        }
    return e.model_copy(update={**update, "lease": None})


def _retried(e: Escalation, *, now: float) -> Escalation | None:
    if e.status not in ("pending", "dead"):
        return None
    return e.model_copy(update={"status": "pending", "due": now, "attempts": 0})


def _tracked(e: Escalation, *, cursor: str | None, ticket_status: TicketStatus | None) -> Escalation | None:
    update: dict[str, object] = {}
    if cursor is not None:
        update["cursor"] = cursor
    if ticket_status is not None:
        update["ticket_status"] = ticket_status
    return e.model_copy(update=update) if update else None


def _released(e: Escalation) -> Escalation | None:
    return e.model_copy(update={"released": True}) if e.holds_conversation else None


#: Customer messages an escalation keeps for its ticket at most (the oldest are dropped).
INBOX_LIMIT = 50


def _noted(e: Escalation, *, text: str) -> Escalation | None:
    return e.model_copy(update={"inbox": [*e.inbox, text][-INBOX_LIMIT:]}) if e.holds_conversation else None


def _forwarded(e: Escalation, *, count: int) -> Escalation | None:
    return e.model_copy(update={"inbox": e.inbox[count:]}) if count > 0 else None


class RecordOutbox:
    """:class:`~grokassist.stores.base.Outbox` over the primitives a subclass provides."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    # -- what a technology provides -------------------------------------------------------

    def _insert(self, escalation: Escalation) -> None:
        raise NotImplementedError

    def _change(
        self, escalation_id: str, change: Callable[[Escalation], Escalation | None]
    ) -> Escalation | None:
        """Atomically read the record, apply ``change`` and write what it returns (with the
        indexes); ``None`` when there is no such record or ``change`` returned ``None``."""
        raise NotImplementedError

    def get(self, escalation_id: str) -> Escalation | None:
        raise NotImplementedError

    def _due(self, now: float, limit: int) -> list[str]:
        """Ids whose ``claimable_at`` is at most ``now``, soonest first."""
        raise NotImplementedError

    def _holding(self, session_id: str) -> str | None:
        """The id of the escalation that holds ``session_id``, if any."""
        raise NotImplementedError

    def _select(self, status: EscalationStatus | None, open_tickets: bool, limit: int) -> list[Escalation]:
        """Escalations of ``status`` (any: ``None``), or with their ticket open, oldest first."""
        raise NotImplementedError

    # -- the outbox -------------------------------------------------------------------------

    def enqueue(self, escalation: Escalation) -> None:
        self._insert(escalation)

    def claim(self, worker: str, policy: DeliveryPolicy) -> Escalation | None:
        now = self._clock()
        for escalation_id in self._due(now, CLAIM_CANDIDATES):
            token = secrets.token_hex(16)
            change = partial(_claimed, worker=worker, token=token, now=now, policy=policy)
            claimed = self._change(escalation_id, change)
            if claimed is not None and claimed.lease == token:
                return claimed
        return None

    def ack(self, escalation_id: str, lease: str, ticket_id: str, ticket_url: str = "") -> bool:
        change = partial(_acked, lease=lease, ticket_id=ticket_id, ticket_url=ticket_url, now=self._clock())
        return self._change(escalation_id, change) is not None

    def fail(
        self,
        escalation_id: str,
        lease: str,
        error: str,
        policy: DeliveryPolicy,
        retry_after: float | None = None,
        *,
        final: bool = False,
    ) -> Escalation | None:
        change = partial(
            _failed,
            lease=lease,
            error=error[:2000],
            policy=policy,
            retry_after=retry_after,
            final=final,
            now=self._clock(),
        )
        return self._change(escalation_id, change)

    def retry(self, escalation_id: str) -> bool:
        return self._change(escalation_id, partial(_retried, now=self._clock())) is not None

    def escalations(self, status: EscalationStatus | None = None, limit: int = 100) -> list[Escalation]:
        return self._select(status, False, limit)

    def active(self, session_id: str) -> Escalation | None:
        escalation_id = self._holding(session_id)
        found = self.get(escalation_id) if escalation_id else None
        return found if found is not None and found.holds_conversation else None

    def open_tickets(self, limit: int = 100) -> list[Escalation]:
        return self._select(None, True, limit)

    def track(
        self, escalation_id: str, *, cursor: str | None = None, ticket_status: TicketStatus | None = None
    ) -> Escalation | None:
        return self._change(escalation_id, partial(_tracked, cursor=cursor, ticket_status=ticket_status))

    def release(self, escalation_id: str) -> bool:
        return self._change(escalation_id, _released) is not None

    def note(self, escalation_id: str, text: str) -> bool:
        return self._change(escalation_id, partial(_noted, text=text)) is not None

    def forwarded(self, escalation_id: str, count: int) -> Escalation | None:
        return self._change(escalation_id, partial(_forwarded, count=count))
