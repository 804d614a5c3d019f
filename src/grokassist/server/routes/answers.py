"""``POST /v1/ask`` and its server-sent-events twin: answers, or a person's handoff."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing

from fastapi import APIRouter, Request, Response
from sse_starlette import EventSourceResponse

from ...handoff.triggers import after_answer, before_answer, failed
from ...types import Message
from ..deps import ERRORS, Customer, PolicyRoute, Svc
from ..schemas import AskRequest, AskResponse
from ..security import Client
from ..service import Final, Service

__all__ = ["router"]

router = APIRouter(tags=["answers"], route_class=PolicyRoute)


async def _instead(
    svc: Service, client: Client, body: AskRequest, session: str, base_url: str
) -> AskResponse | None:
    """The reply when the assistant must not answer: a person has the conversation, or the
    question trips a keyword trigger (the question is kept in the conversation either way)."""
    held = await svc.held(session)
    fired = None if held is not None else before_answer(body.question, svc.handoff)
    if held is None and fired is None:
        return None
    await svc.call(svc.store.conversations.append, session, Message(role="user", content=body.question))
    if held is not None:  # for the agent, on the ticket
        redact = svc.redactor()
        await svc.call(svc.store.outbox.note, held.id, redact(body.question) if redact else body.question)
    else:
        assert fired is not None
        held = await svc.escalate(
            client, fired, session_id=session, metadata=body.metadata, base_url=base_url
        )
    answer = svc.handoff_answer(body.question, session, held, new=fired is not None)
    answer_id = await svc.record(client, answer)
    return svc.response(answer, answer_id, session, base_url)


async def _answered(
    svc: Service, client: Client, final: Final, body: AskRequest, session: str, base_url: str, api: str
) -> AskResponse:
    """Record the answer, and hand the conversation to a person if a trigger says so."""
    svc.count(final.answer, api)
    answer_id = await svc.record(client, final.answer)
    answer = final.answer
    fired = None
    if failed(answer) and (svc.handoff.on_abstain or svc.handoff.failed_in_a_row):
        recent = await svc.call(svc.store.answers.recent, session, max(1, svc.handoff.failed_in_a_row))
        fired = after_answer(answer, recent, svc.handoff)
    if fired is not None:
        held = await svc.escalate(
            client, fired, session_id=session, answer_id=answer_id, metadata=body.metadata, base_url=base_url
        )
        handoff = svc.handoff_answer(body.question, session, held, new=True).actions[0]
        handed_off = handoff.model_copy(update={"params": {**handoff.params, "answered": True}})
        answer = answer.model_copy(update={"actions": (*answer.actions, handed_off)})
    return svc.response(answer, answer_id, session, base_url, final.guarded)


@router.post("/v1/ask", responses=ERRORS, response_model=AskResponse)
async def ask(body: AskRequest, request: Request, client: Customer, svc: Svc) -> Response:
    """Answer a question with citations, confidence and suggested actions.

    Without ``session_id`` a new session is started; pass the returned id to continue it.
    Once a person has the conversation, the answer is a ``handed_off`` action instead.
    """
    svc.check_question(body.question)
    allowed = svc.tool_permission(client, body.allow_tools)
    session = await svc.session_for(client, body.session_id)
    base_url = str(request.base_url)
    response = await _instead(svc, client, body, session, base_url)
    if response is None:
        final = await svc.answer(
            body.question,
            session=session,
            filters=body.filters,
            language=body.language,
            context=body.context,
            allow_tools=allowed,
        )
        response = await _answered(svc, client, final, body, session, base_url, "ask")
    # already a validated AskResponse: serialise it once (FastAPI would validate it again)
    return Response(response.model_dump_json(), media_type="application/json")


@router.post(
    "/v1/ask/stream",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
    response_class=EventSourceResponse,
)
async def ask_stream(body: AskRequest, request: Request, client: Customer, svc: Svc) -> EventSourceResponse:
    """The streaming twin of ``/v1/ask`` (server-sent events).

    Events: ``session`` ``{"session_id"}``; ``delta`` ``{"text"}`` as the answer is
    generated; then ``answer`` (the ``/v1/ask`` response, whose ``text`` is authoritative)
    or ``error`` ``{"error": {...}}``.
    """
    svc.check_question(body.question)
    allowed = svc.tool_permission(client, body.allow_tools)
    session = await svc.session_for(client, body.session_id)
    base_url = str(request.base_url)
    instead = await _instead(svc, client, body, session, base_url)

    async def events() -> AsyncIterator[dict[str, str]]:
        yield {"event": "session", "data": json.dumps({"session_id": session})}
        if instead is not None:
            yield {"event": "answer", "data": instead.model_dump_json()}
            return
        final: Final | None = None
        stream = svc.answer_stream(
            body.question,
            session=session,
            filters=body.filters,
            language=body.language,
            context=body.context,
            allow_tools=allowed,
        )
        try:
            async with aclosing(stream) as items:
                async for item in items:
                    if isinstance(item, Final):
                        final = item
                    else:
                        yield {"event": "delta", "data": json.dumps({"text": item})}
            assert final is not None
            payload = await _answered(svc, client, final, body, session, base_url, "ask_stream")
        except Exception as exc:  # the response has started: report it as an event
            yield {"event": "error", "data": json.dumps(svc.client_error(exc).body())}
            return
        yield {"event": "answer", "data": payload.model_dump_json()}

    return EventSourceResponse(events(), ping=15)
