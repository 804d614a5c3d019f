"""``/v1/outbox``: the escalations on their way to people, for operators (a key is needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...stores import Escalation, EscalationStatus
from ..deps import ERRORS, KeyHolder, PolicyRoute, Svc
from ..schemas import OutboxEntry, OutboxList
from ..service import ApiError

__all__ = ["entry", "router"]

router = APIRouter(tags=["outbox"], route_class=PolicyRoute)


def entry(e: Escalation) -> OutboxEntry:
    return OutboxEntry(
        escalation_id=e.id,
        created=e.created,
        trigger=e.trigger,
        status=e.status,
        attempts=e.attempts,
        due=e.claimable_at,
        last_error=e.last_error,
        subject=e.ticket.subject,
        ticket_id=e.ticket_id,
        ticket_url=e.ticket_url,
        ticket_status=e.ticket_status,
        holds_conversation=e.holds_conversation,
    )


@router.get("/v1/outbox", responses=ERRORS)
async def list_outbox(
    _: KeyHolder,
    svc: Svc,
    status: Annotated[EscalationStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OutboxList:
    """Escalations, oldest first (of one ``status``: pending, delivering, delivered, dead)."""
    found = await svc.call(svc.store.outbox.escalations, status, limit)
    return OutboxList(escalations=[entry(e) for e in found])


async def _found(svc: Svc, escalation_id: str) -> Escalation:
    found = await svc.call(svc.store.outbox.get, escalation_id)
    if found is None:
        raise ApiError(404, "not_found", f"no escalation {escalation_id}")
    return found


@router.get("/v1/outbox/{escalation_id}", responses=ERRORS)
async def get_escalation(escalation_id: str, _: KeyHolder, svc: Svc) -> OutboxEntry:
    """One escalation."""
    return entry(await _found(svc, escalation_id))


@router.post("/v1/outbox/{escalation_id}/retry", responses=ERRORS)
async def retry_escalation(escalation_id: str, _: KeyHolder, svc: Svc) -> OutboxEntry:
    """Queue a dead (or waiting) escalation again, due now, its attempts reset."""
    found = await _found(svc, escalation_id)
    if not await svc.call(svc.store.outbox.retry, escalation_id):
        raise ApiError(
            409, "conflict", f"escalation {escalation_id} is {found.status}: only pending or dead ones retry"
        )
    if svc.worker is not None:
        svc.worker.nudge()
    return entry(await _found(svc, escalation_id))


@router.post("/v1/outbox/{escalation_id}/release", responses=ERRORS)
async def release_escalation(escalation_id: str, _: KeyHolder, svc: Svc) -> OutboxEntry:
    """Give the conversation back to the assistant (the ticket stays as it is)."""
    await _found(svc, escalation_id)
    if not await svc.call(svc.store.outbox.release, escalation_id):
        raise ApiError(409, "conflict", f"escalation {escalation_id} does not hold a conversation")
    return entry(await _found(svc, escalation_id))
