"""The outbox worker over a real store and the in-process ticketing system: exactly once
through crashes, lease expiry, Retry-After, the dead letter; replies back into conversations."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from desk import Desk
from grokassist.errors import (
    TicketingError,
    TicketingRateLimitError,
    TicketingUnavailableError,
    TicketingValidationError,
)
from grokassist.handoff import OutboxWorker
from grokassist.stores import DeliveryPolicy, MemoryStore, SqliteStore, Store
from grokassist.testing import sample_escalation
from grokassist.types import Message

FAST = DeliveryPolicy(max_attempts=4, lease_s=0.3, backoff_base_s=0.01, backoff_cap_s=0.02)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.sqlite3")
    request.addfinalizer(made.close)
    return made


def busy(retry_after: float) -> TicketingError:
    return TicketingRateLimitError(
        "too many requests", system="fake", status_code=429, retry_after=retry_after
    )


async def test_delivery_creates_one_ticket_with_the_draft_note(store: Store) -> None:
    escalation = sample_escalation("s1", draft="Try holding the reset button [1].\n(grokassist draft)")
    store.outbox.enqueue(escalation)
    tickets = Desk()
    worker = OutboxWorker(store, tickets, policy=FAST)
    stats = await worker.run_until_idle()
    assert stats.delivered == 1 and tickets.created == 1
    done = store.outbox.get(escalation.id)
    assert done is not None and done.status == "delivered" and done.ticket_id == "1"
    assert done.ticket_url == "fake://1" and done.cursor == "1"  # the sync read past its own note
    assert tickets.notes("1") == [escalation.draft]
    assert tickets.ticket("1").external_id == escalation.id


async def test_a_crash_after_the_ticket_exists_does_not_make_a_second(store: Store) -> None:
    escalation = sample_escalation("s1", draft="Draft (grokassist draft)")
    store.outbox.enqueue(escalation)
    tickets = Desk()
    tickets.crash_after_create = TicketingUnavailableError("connection reset after the ticket was created")
    worker = OutboxWorker(store, tickets, policy=FAST)
    first = await worker.deliver_next()
    assert first is not None and first.status == "pending" and "connection reset" in first.last_error
    await anyio.sleep(0.05)
    second = await worker.deliver_next()
    assert second is not None and second.status == "delivered", second
    assert tickets.created == 1 and len(tickets.tickets) == 1
    assert tickets.notes(second.ticket_id or "") == [escalation.draft]


async def test_a_worker_killed_before_its_ack_is_taken_over_without_duplicates(store: Store) -> None:
    """The dead worker created the ticket and posted the note; its lease runs out."""
    escalation = sample_escalation("s1", draft="Draft reply\n(grokassist draft for x)")
    store.outbox.enqueue(escalation)
    tickets = Desk()
    claimed = store.outbox.claim("dead-worker", FAST)
    assert claimed is not None
    ref = await tickets.create_ticket(claimed.ticket)
    await tickets.add_comment(ref.id, claimed.draft.replace("x)", f"{claimed.id})"), public=False)
    escalation_draft_marker = f"(grokassist draft for {claimed.id})"
    store.outbox.enqueue(sample_escalation("s2"))  # another one, due meanwhile

    worker = OutboxWorker(store, tickets, policy=FAST)
    await worker.run_until_idle()  # delivers s2; s1 is still leased to the dead worker
    assert store.outbox.get(escalation.id).status == "delivering"  # type: ignore[union-attr]
    await anyio.sleep(0.35)
    await worker.run_until_idle()
    done = store.outbox.get(escalation.id)
    assert done is not None and done.status == "delivered" and done.ticket_id == ref.id
    assert tickets.created == 2, "the dead worker's ticket was created again"
    assert len([n for n in tickets.notes(ref.id) if escalation_draft_marker in n]) == 1


async def test_retry_after_is_honoured_then_the_dead_letter_then_retry(store: Store) -> None:
    escalation = sample_escalation("s1")
    store.outbox.enqueue(escalation)
    tickets = Desk()
    tickets.fail = [busy(0.4)]
    worker = OutboxWorker(store, tickets, policy=FAST)
    failed = await worker.deliver_next()
    assert failed is not None and failed.status == "pending" and failed.due >= time.time() + 0.3
    assert await worker.deliver_next() is None, "retried before Retry-After"

    tickets.fail = [TicketingUnavailableError("down", status_code=503)] * 10
    await anyio.sleep(0.45)
    while (result := await worker.deliver_next()) is not None and result.status != "dead":
        await anyio.sleep(0.05)
    dead = store.outbox.get(escalation.id)
    assert dead is not None and dead.status == "dead" and dead.attempts == FAST.max_attempts
    assert "gave up after 4 attempts" in dead.last_error and "(HTTP 503)" in dead.last_error
    assert worker.stats.dead == 1 and tickets.created == 0
    assert store.outbox.active("s1") is None, "a dead letter keeps the conversation from the assistant"

    tickets.fail = []
    assert store.outbox.retry(escalation.id)
    delivered = await worker.deliver_next()
    assert delivered is not None and delivered.status == "delivered" and tickets.created == 1


async def test_two_workers_deliver_each_escalation_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    queued = [sample_escalation(None) for _ in range(40)]
    setup = SqliteStore(path)
    for escalation in queued:
        setup.outbox.enqueue(escalation)
    tickets = Desk()
    tickets.fail = [TicketingUnavailableError("flaky")] * 5
    stores = [SqliteStore(path), SqliteStore(path)]  # as two processes would
    workers = [OutboxWorker(s, tickets, policy=FAST, name=f"w{i}") for i, s in enumerate(stores)]
    async with anyio.create_task_group() as tasks:
        for worker in workers:
            tasks.start_soon(worker.run_until_idle)
    await anyio.sleep(0.05)
    await workers[0].run_until_idle()  # what failed is due again after the backoff
    try:
        assert tickets.created == 40 and len(tickets.tickets) == 40
        assert sorted(t["ext"] for t in tickets.tickets.values()) == sorted(e.id for e in queued)
        assert {e.status for e in setup.outbox.escalations(limit=100)} == {"delivered"}
        assert sum(w.stats.delivered for w in workers) == 40
    finally:
        for each in (setup, *stores):
            each.close()


async def test_an_agents_reply_reaches_the_conversation_until_the_ticket_is_resolved(store: Store) -> None:
    sid = store.sessions.create("ip:1.2.3.4")
    store.conversations.append(sid, Message(role="user", content="My router is dead."))
    escalation = sample_escalation(sid)
    store.outbox.enqueue(escalation)
    tickets = Desk()
    worker = OutboxWorker(store, tickets, policy=FAST)
    await worker.run_until_idle()
    ticket = store.outbox.get(escalation.id)
    assert ticket is not None and ticket.ticket_id and store.outbox.active(sid) is not None

    tickets.reply(ticket.ticket_id, "Hi, I'm Dana. Please hold the reset button for 10 seconds.")
    await tickets.agent.note(ticket.ticket_id, "internal: customer on the pro plan")
    await tickets.add_comment(ticket.ticket_id, "Our own public reply: skipped", public=True)
    assert await worker.sync_once() == 1
    assert await worker.sync_once() == 0, "a reply was delivered twice"
    last = store.conversations.history(sid)[-1]
    assert last == Message(
        role="assistant",
        content="Hi, I'm Dana. Please hold the reset button for 10 seconds.",
        author="Dana (support)",
    )
    contents = [m.content for m in store.conversations.history(sid)]
    assert not any("internal" in c or "Our own" in c for c in contents), "a note or our own reply leaked"
    assert store.outbox.active(sid) is not None

    tickets.set_status(ticket.ticket_id, "resolved")
    await worker.sync_once()
    assert store.outbox.active(sid) is None and store.outbox.open_tickets() == []
    assert worker.stats.resolved == 1 and worker.stats.replies == 1


async def test_run_delivers_and_syncs_until_cancelled(store: Store) -> None:
    tickets = Desk()
    worker = OutboxWorker(store, tickets, policy=FAST, poll_s=0.05, sync_s=0.05)
    sid = store.sessions.create("key:a")
    escalation = sample_escalation(sid)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(worker.run)
        store.outbox.enqueue(escalation)
        worker.nudge()
        with anyio.fail_after(5):
            while (found := store.outbox.get(escalation.id)) is None or found.status != "delivered":
                await anyio.sleep(0.02)
            tickets.reply(found.ticket_id or "", "On it.")
            while not store.conversations.history(sid):
                await anyio.sleep(0.02)
        tasks.cancel_scope.cancel()
    assert store.conversations.history(sid)[-1].content == "On it."


async def test_a_ticket_the_system_refuses_is_a_dead_letter_at_once(store: Store) -> None:
    escalation = sample_escalation("s1")
    store.outbox.enqueue(escalation)
    tickets = Desk()
    tickets.fail = [TicketingValidationError("subject too long", status_code=422)]
    result = await OutboxWorker(store, tickets, policy=FAST).deliver_next()
    assert result is not None and result.status == "dead" and result.attempts == 1
    assert result.last_error.startswith("not retried: TicketingValidationError")


async def test_an_outage_pauses_the_whole_worker(store: Store) -> None:
    for _ in range(10):
        store.outbox.enqueue(sample_escalation(None))
    tickets = Desk()
    tickets.fail = [TicketingUnavailableError("connection refused")] * 1000
    policy = DeliveryPolicy(lease_s=5, backoff_base_s=0.1, backoff_cap_s=1.0)
    worker = OutboxWorker(store, tickets, policy=policy, poll_s=0.01, concurrency=4)
    with anyio.move_on_after(0.7):
        await worker.run()
    attempts = sum(e.attempts for e in store.outbox.escalations())
    # the first round of 4 lanes, then one try per pause (0.05-0.1, 0.1-0.2, 0.2-0.4 s...)
    assert 4 <= attempts <= 10, f"{attempts} attempts against a system that is down"
    assert tickets.created == 0 and worker.stats.failed == attempts


async def test_what_the_customer_writes_meanwhile_reaches_the_ticket(store: Store) -> None:
    sid = store.sessions.create("key:a")
    escalation = sample_escalation(sid)
    store.outbox.enqueue(escalation)
    assert store.outbox.note(escalation.id, "Are you there?")  # before the ticket exists
    tickets = Desk()
    worker = OutboxWorker(store, tickets, policy=FAST)
    await worker.run_until_idle()
    ticket_id = store.outbox.get(escalation.id).ticket_id  # type: ignore[union-attr]
    assert tickets.notes(ticket_id or "") == ["The customer wrote in the chat:\n\nAre you there?"]
    store.outbox.note(escalation.id, "Hello?")
    tickets.fail = [TicketingUnavailableError("down")]
    await worker.sync_once()  # the note fails: kept for the next pass
    assert store.outbox.get(escalation.id).inbox == ["Hello?"]  # type: ignore[union-attr]
    await worker.sync_once()
    assert tickets.notes(ticket_id or "")[-1].endswith("Hello?")
    assert store.outbox.get(escalation.id).inbox == []  # type: ignore[union-attr]
