"""``/v1/sessions``: start a conversation, read it (with a person's replies), end it."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..deps import ERRORS, Customer, PolicyRoute, Svc
from ..schemas import HandoffOut, HistoryMessage, HistoryResponse, SessionResponse

__all__ = ["router"]

router = APIRouter(tags=["sessions"], route_class=PolicyRoute)


@router.post("/v1/sessions", status_code=201, responses=ERRORS)
async def create_session(client: Customer, svc: Svc) -> SessionResponse:
    """Start a session (``/v1/ask`` also starts one when given no ``session_id``)."""
    session_id = await svc.call(svc.store.sessions.create, client.id)
    return SessionResponse(session_id=session_id, expires_in=svc.settings.session_ttl_s)


@router.get("/v1/sessions/{session_id}", responses=ERRORS)
async def get_session(session_id: str, client: Customer, svc: Svc) -> HistoryResponse:
    """The conversation so far, only for the client that started the session.

    A support agent's replies have ``human: true`` and their ``author``; ``handoff`` is set
    while a person has the conversation (the widget polls this to show their replies).
    """
    await svc.own_session(client, session_id)
    messages = await svc.history(session_id)
    held = await svc.held(session_id)
    handoff = (
        HandoffOut(
            escalation_id=held.id, status="with_person" if held.ticket_id else "waiting", trigger=held.trigger
        )
        if held is not None
        else None
    )
    return HistoryResponse(
        session_id=session_id,
        messages=[
            HistoryMessage(role=m.role, content=m.content, author=m.author, human=m.author is not None)
            for m in messages
        ],
        handoff=handoff,
    )


@router.delete("/v1/sessions/{session_id}", status_code=204, responses=ERRORS)
async def delete_session(session_id: str, client: Customer, svc: Svc) -> Response:
    """End a session and forget its history."""
    await svc.own_session(client, session_id)
    await svc.call(svc.store.sessions.drop, session_id)
    return Response(status_code=204)
