"""The outbox worker: delivers escalations to a ticketing system, exactly once, and brings
the agents' public replies back into the customers' conversations.

Delivery of one escalation, under a lease (:meth:`~grokassist.stores.base.Outbox.claim`):

1. on a repeated attempt, look the ticket up by external id (the escalation id): a worker
   that died after creating it must not create another; else create it (``create_ticket`` is
   idempotent by external id too);
2. post the assistant's draft as an internal note, unless a repeated attempt finds it there
   (a ticket the system refuses, 400/409/422, is a dead letter at once);
3. acknowledge with the lease token. A failure is recorded with the system's ``Retry-After``
   and retried with backoff, up to the dead letter.

Replies come back by reading each open ticket's updates after a cursor kept with the
escalation (from the start for a new ticket), skipping the adapter's own (``own``) and
internal notes; a status of resolved or closed gives the conversation back to the assistant.

The worker runs beside the HTTP service (``grokassist serve`` with
``GROKASSIST_HANDOFF_WORKER_IN_PROCESS=true``) or on its own (``grokassist outbox run``);
several may run against one store: leases keep them from delivering the same escalation.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ParamSpec, TypeVar

import anyio

from ..adapters.ticketing.base import TicketingAdapter, TicketRef, TicketStatus, TicketUpdate
from ..errors import GrokAssistError, TicketingError, TicketingValidationError
from ..stores import backoff_s
from ..stores.base import DeliveryPolicy, Escalation, Store
from ..types import Message
from .tickets import draft_marker

__all__ = ["OutboxWorker", "WorkerStats"]

log = logging.getLogger("grokassist.handoff")

T = TypeVar("T")
P = ParamSpec("P")

#: An agent's reply is shown with this name when the ticketing system gives none.
DEFAULT_AGENT = "Support team"


@dataclass
class WorkerStats:
    """What one worker did since it started."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    lost_leases: int = 0
    replies: int = 0
    resolved: int = 0


def describe(exc: BaseException) -> str:
    """A one-line account of a failed attempt (no traceback; the log has it)."""
    if isinstance(exc, TimeoutError):
        return "the ticketing system did not answer in time"
    return f"{type(exc).__name__}: {exc}"[:2000]


class OutboxWorker:
    """Delivers ``store``'s outbox to ``adapter`` and syncs agents' replies back.

    ``attempt_timeout_s`` bounds one delivery (default: 80 % of the lease, so a slow
    ticketing system fails the attempt before another worker may claim it); ``run``
    delivers ``concurrency`` escalations at once. When the system is down or asks to slow
    down, the whole worker waits (the policy's backoff, at least ``Retry-After``) instead of
    trying every other escalation against it.
    """

    def __init__(
        self,
        store: Store,
        adapter: TicketingAdapter,
        *,
        policy: DeliveryPolicy | None = None,
        name: str | None = None,
        poll_s: float = 1.0,
        sync_s: float = 5.0,
        attempt_timeout_s: float | None = None,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self.adapter = adapter
        self.policy = policy or DeliveryPolicy()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.poll_s = poll_s
        self.sync_s = sync_s
        self.attempt_timeout_s = attempt_timeout_s or self.policy.lease_s * 0.8
        self.concurrency = concurrency
        self.stats = WorkerStats()
        #: Failures in a row that say the system is down or busy, and no delivery until then.
        self._outage = 0
        self._paused_until = 0.0
        # made inside the event loop (anyio events need one)
        self._wake_sync: anyio.Event | None = None
        self._wake_deliver: anyio.Event | None = None

    async def _call(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A store call, in a worker thread (it may wait on disk or network)."""
        return await anyio.to_thread.run_sync(partial(work, *args, **kwargs))

    # -- delivery ----------------------------------------------------------------------------

    async def deliver_next(self) -> Escalation | None:
        """Claim the next due escalation and deliver it; ``None`` when none is due.

        Returns the escalation as the attempt left it (delivered, pending again, or dead).
        """
        outbox = self.store.outbox
        claimed = await self._call(outbox.claim, self.name, self.policy)
        if claimed is None:
            return None
        assert claimed.lease is not None
        try:
            with anyio.fail_after(self.attempt_timeout_s):
                ticket = await self._deliver(claimed)
        except Exception as exc:
            retry_after = exc.retry_after if isinstance(exc, TicketingError) else None
            if not isinstance(exc, (GrokAssistError, TimeoutError)):
                log.error("delivering %s failed unexpectedly", claimed.id, exc_info=exc)
            # the system refused the ticket's content: sending it again cannot help
            final = isinstance(exc, TicketingValidationError)
            result = await self._call(
                outbox.fail, claimed.id, claimed.lease, describe(exc), self.policy, retry_after, final=final
            )
            if result is None:
                self._lost(claimed)
                return await self._call(outbox.get, claimed.id)
            self.stats.failed += 1
            self._note_failure(exc, retry_after)
            if result.status == "dead":
                self.stats.dead += 1
                log.error("escalation %s is a dead letter: %s", claimed.id, result.last_error)
            else:
                log.warning("delivering %s failed (attempt %d): %s", claimed.id, claimed.attempts, exc)
            return result
        if not await self._call(outbox.ack, claimed.id, claimed.lease, ticket.id, ticket.url):
            self._lost(claimed)
            return await self._call(outbox.get, claimed.id)
        self.stats.delivered += 1
        self._outage = 0
        log.info("escalation %s delivered as ticket %s", claimed.id, ticket.id)
        return await self._call(outbox.get, claimed.id)

    def _note_failure(self, exc: BaseException, retry_after: float | None) -> None:
        """After a failure that concerns the whole system (down, busy), pause every delivery."""
        if not (isinstance(exc, TimeoutError) or (isinstance(exc, TicketingError) and exc.retryable)):
            return
        self._outage += 1
        pause = backoff_s(self._outage, self.policy, retry_after)
        self._paused_until = max(self._paused_until, anyio.current_time() + pause)

    def _lost(self, claimed: Escalation) -> None:
        self.stats.lost_leases += 1
        log.warning(
            "the lease on %s ended before this attempt did (another worker holds it now): "
            "raise the lease (DeliveryPolicy.lease_s) above the ticketing system's slowest delivery",
            claimed.id,
        )

    async def _deliver(self, e: Escalation) -> TicketRef:
        adapter = self.adapter
        repeated = e.attempts > 1 or bool(e.last_error)
        found = await adapter.find_ticket(e.id) if repeated else None
        if found is not None:
            log.info("escalation %s: ticket %s exists (an earlier attempt made it)", e.id, found.id)
        ticket = found or await adapter.create_ticket(e.ticket)
        log.info("escalation %s: ticket %s created, not yet acknowledged", e.id, ticket.id)
        if e.draft:
            marker = draft_marker(e.id)
            earlier = await adapter.updates_since(ticket.id) if found else []
            if not any(u.kind == "internal_note" and marker in u.body for u in earlier):
                await adapter.add_comment(ticket.id, e.draft, public=False)
        return ticket

    # -- replies back into the conversation --------------------------------------------------

    async def sync_once(self) -> int:
        """Read the open tickets' updates once; returns how many replies reached conversations."""
        replies = 0
        for escalation in await self._call(self.store.outbox.open_tickets, 500):
            assert escalation.ticket_id is not None
            try:
                updates = await self.adapter.updates_since(escalation.ticket_id, escalation.cursor)
            except GrokAssistError as exc:
                log.warning("reading ticket %s failed: %s", escalation.ticket_id, exc)
                continue
            if updates:
                replies += await self._apply(escalation, updates)
            if escalation.inbox:
                await self._forward(escalation)
        return replies

    async def _forward(self, escalation: Escalation) -> None:
        """What the customer wrote since the escalation, to the ticket as an internal note (at
        least once: a crash between the note and the record of it repeats the note)."""
        assert escalation.ticket_id is not None
        lines = "\n\n".join(escalation.inbox)
        try:
            await self.adapter.add_comment(
                escalation.ticket_id, f"The customer wrote in the chat:\n\n{lines}", public=False
            )
        except GrokAssistError as exc:
            log.warning("forwarding to ticket %s failed: %s", escalation.ticket_id, exc)
            return
        await self._call(self.store.outbox.forwarded, escalation.id, len(escalation.inbox))

    async def _apply(self, escalation: Escalation, updates: list[TicketUpdate]) -> int:
        replies = 0
        status: TicketStatus | None = None
        session = escalation.session_id
        for update in updates:
            if (
                update.kind == "public_reply"
                and not update.own
                and update.body.strip()
                and session is not None
            ):
                message = Message(
                    role="assistant", content=update.body.strip(), author=update.author or DEFAULT_AGENT
                )
                history = await self._call(self.store.conversations.history, session)
                if message not in history[-10:]:  # already there if a crash came before the cursor moved
                    await self._call(self.store.conversations.append, session, message)
                    replies += 1
            if update.status is not None:
                status = update.status
        await self._call(
            self.store.outbox.track, escalation.id, cursor=updates[-1].cursor, ticket_status=status
        )
        self.stats.replies += replies
        if status in ("resolved", "closed"):
            self.stats.resolved += 1
            log.info(
                "ticket %s is %s: the assistant has conversation %s again",
                escalation.ticket_id,
                status,
                escalation.id,
            )
        return replies

    # -- running -----------------------------------------------------------------------------

    def nudge(self) -> None:
        """Look at the outbox and the open tickets now (a new escalation, a webhook)."""
        for event in (self._wake_deliver, self._wake_sync):
            if event is not None:
                event.set()

    async def run_until_idle(self) -> WorkerStats:
        """Deliver every escalation due now, then read the open tickets once."""
        while await self.deliver_next() is not None:
            pass
        await self.sync_once()
        return self.stats

    async def run(self) -> None:
        """Deliver and sync until cancelled."""
        log.info("outbox worker %s started", self.name)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._deliver_forever)
            tasks.start_soon(self._sync_forever)

    async def _deliver_forever(self) -> None:
        async with anyio.create_task_group() as lanes:
            for _ in range(self.concurrency):
                lanes.start_soon(self._deliver_lane)

    async def _deliver_lane(self) -> None:
        while True:
            while (wait := self._paused_until - anyio.current_time()) > 0:
                await anyio.sleep(wait)
            try:
                delivered = await self.deliver_next()
            except GrokAssistError as exc:  # the store is down: try again later
                log.warning("the outbox cannot be read: %s", exc)
                delivered = None
            if delivered is None:
                if self._wake_deliver is None or self._wake_deliver.is_set():
                    self._wake_deliver = anyio.Event()
                wake = self._wake_deliver
                with anyio.move_on_after(self.poll_s):
                    await wake.wait()

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self.sync_once()
            except GrokAssistError as exc:
                log.warning("the open tickets cannot be read: %s", exc)
            self._wake_sync = anyio.Event()
            with anyio.move_on_after(self.sync_s):
                await self._wake_sync.wait()
