"""``POST /v1/feedback`` and ``POST /v1/escalate``: what the customer thinks, and a person."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...handoff.triggers import Fired
from ..deps import ERRORS, Customer, PolicyRoute, Svc
from ..schemas import EscalateRequest, EscalateResponse, FeedbackRequest, FeedbackResponse
from ..service import ApiError

__all__ = ["router"]

router = APIRouter(tags=["feedback"], route_class=PolicyRoute)

QUEUED = "Thanks: a member of our support team will pick up this conversation and reply here."


@router.post("/v1/feedback", responses=ERRORS)
async def feedback(body: FeedbackRequest, request: Request, client: Customer, svc: Svc) -> FeedbackResponse:
    """Rate an answer (helpful or not, optional comment); stored with the answer.

    With ``GROKASSIST_HANDOFF_ON_NEGATIVE_FEEDBACK`` on, "not helpful" hands the conversation
    to a person (``escalation_id`` in the response).
    """
    await svc.own_answer(client, body.answer_id)
    await svc.call(svc.store.answers.rate, body.answer_id, client.id, body.helpful, body.comment)
    svc.metrics.feedback.labels(str(body.helpful).lower()).inc()
    escalation_id = None
    if not body.helpful and svc.handoff.on_negative_feedback:
        answer = await svc.call(svc.store.answers.get, body.answer_id)
        session = answer.session_id if answer is not None else None
        if session is not None and not await svc.call(svc.store.sessions.owns, session, client.id):
            session = None
        escalation = await svc.escalate(
            client,
            Fired("negative_feedback"),
            session_id=session,
            answer_id=body.answer_id,
            reason=body.comment,
            base_url=str(request.base_url),
        )
        escalation_id = escalation.id
    return FeedbackResponse(status="recorded", answer_id=body.answer_id, escalation_id=escalation_id)


@router.post("/v1/escalate", status_code=202, responses=ERRORS)
async def escalate(body: EscalateRequest, request: Request, client: Customer, svc: Svc) -> EscalateResponse:
    """Hand the conversation to a person: queued in the outbox for the ticketing system.

    Until the ticket is resolved, the assistant stays quiet in the session and the agent's
    public replies appear in it. Asking again while a person has it returns the same escalation.
    """
    if not (body.session_id or body.answer_id or body.reason):
        raise ApiError(422, "invalid_request", "give a session_id, an answer_id or a reason")
    if body.session_id:
        await svc.own_session(client, body.session_id, param="session_id")
    if body.answer_id:
        await svc.own_answer(client, body.answer_id)
    escalation = await svc.escalate(
        client,
        Fired("requested"),
        session_id=body.session_id,
        answer_id=body.answer_id,
        reason=body.reason,
        contact=body.contact,
        metadata=body.metadata,
        base_url=str(request.base_url),
    )
    return EscalateResponse(escalation_id=escalation.id, status="queued", message=QUEUED)
