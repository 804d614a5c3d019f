"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``.

The knowledge base is a model named ``grokassist-<kb>`` (see ``/v1/models``).
Citations travel twice: as ``[n]`` markers in the content (with a "Sources:"
list of links appended, unless ``openai_sources_footer`` is off) and in the
extension field ``grokassist`` of the completion (of the last chunk when
streaming)::

    "grokassist": {"answer_id", "citations": [{"index", "doc_id", "title", "url", "tier", "as_of", ...}],
                   "confidence", "abstained", "actions", "guarded", "live", "session_id"}

The conversation comes from ``messages`` (system messages are ignored: the
knowledge base's own rules apply), or from a server session given as the
extension parameter ``session_id`` (``extra_body={"session_id": ...}`` in the
``openai`` client). A withheld answer ends with ``finish_reason="content_filter"``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from ...backends.base import GenerationSettings
from ...guard.output import WITHHELD_TEXT
from ...types import Answer, Message
from ..deps import ERRORS, KeyHolder, PolicyRoute, Svc
from ..schemas import AskResponse, ChatCompletionRequest
from ..service import ApiError, Final, Service

__all__ = ["router"]

router = APIRouter(tags=["openai-compatible"], route_class=PolicyRoute)


def _model_card(svc: Service) -> dict[str, Any]:
    return {"id": svc.model_id, "object": "model", "created": svc.started, "owned_by": "grokassist"}


@router.get("/v1/models", responses=ERRORS)
async def list_models(_: KeyHolder, svc: Svc) -> dict[str, Any]:
    """The knowledge base as an OpenAI model."""
    return {"object": "list", "data": [_model_card(svc)]}


@router.get("/v1/models/{model}", responses=ERRORS)
async def get_model(model: str, _: KeyHolder, svc: Svc) -> dict[str, Any]:
    if model != svc.model_id:
        raise ApiError(404, "model_not_found", f"no model {model!r}; see GET /v1/models", param="model")
    return _model_card(svc)


@router.post(
    "/v1/chat/completions",
    responses={**ERRORS, 200: {"content": {"application/json": {}, "text/event-stream": {}}}},
    response_class=JSONResponse,
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, client: KeyHolder, svc: Svc
) -> Response:
    """Answer the last user message from the knowledge base, OpenAI-style (``stream`` supported).

    A key is needed once keys are configured: this API serves other servers, not browsers.
    """
    if body.model != svc.model_id:
        raise ApiError(404, "model_not_found", f"no model {body.model!r}; see GET /v1/models", param="model")
    question, history = _conversation(body)
    svc.check_question(question)
    allowed = svc.tool_permission(client, body.allow_tools)
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop) if body.stop else None
    gen = GenerationSettings(
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=stop,
        seed=body.seed,
    )
    if body.session_id:
        session, ephemeral = await svc.session_for(client, body.session_id), False
        if await svc.held(session) is not None:
            raise ApiError(
                409,
                "conversation_with_person",
                "a person from the support team has this conversation; the assistant stays quiet until "
                "the ticket is resolved",
                param="session_id",
            )
    else:  # a throw-away session carries the history the client sent
        session, ephemeral = "oai-" + secrets.token_urlsafe(16), True
        if history:
            await svc.call(svc.assistant.sessions.append, session, *history)

    async def finish(final: Final) -> tuple[AskResponse, dict[str, Any]]:
        svc.count(final.answer, "chat_completions")
        answer_id = await svc.record(client, final.answer)
        resp = svc.response(final.answer, answer_id, session, str(request.base_url), final.guarded)
        ext = resp.model_dump(mode="json", exclude={"text", "session_id"})
        ext["session_id"] = None if ephemeral else session
        return resp, ext

    completion_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    if not body.stream:
        try:
            final = await svc.answer(
                question,
                session=session,
                filters=body.filters,
                settings=gen,
                context=body.context,
                allow_tools=allowed,
            )
        finally:
            if ephemeral:
                await svc.call(svc.assistant.sessions.clear, session)
        resp, ext = await finish(final)
        content = resp.text + _footer(resp, svc.settings.openai_sources_footer)
        usage = _usage(final.answer)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": svc.model_id,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "content_filter" if final.guarded else "stop",
                        "logprobs": None,
                    }
                ],
                "usage": usage,
                "grokassist": ext,
            }
        )

    head = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": svc.model_id,
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, str]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return {"data": json.dumps({**head, "choices": [choice], **extra})}

    async def events() -> AsyncIterator[dict[str, str]]:
        stream = svc.answer_stream(
            question,
            session=session,
            filters=body.filters,
            settings=gen,
            context=body.context,
            allow_tools=allowed,
        )
        try:
            yield chunk({"role": "assistant", "content": ""})
            final: Final | None = None
            streamed = False
            try:
                async for item in stream:
                    if isinstance(item, Final):
                        final = item
                    else:
                        streamed = True
                        yield chunk({"content": item})
            except Exception as exc:  # the response has started: OpenAI streams errors as data
                yield {"data": json.dumps(svc.client_error(exc).body())}
                return
            assert final is not None
            resp, ext = await finish(final)
            if final.guarded:  # the stream stopped where the guard tripped
                yield chunk({"content": ("\n\n" if streamed else "") + WITHHELD_TEXT})
            footer = _footer(resp, svc.settings.openai_sources_footer)
            if footer:
                yield chunk({"content": footer})
            yield chunk({}, "content_filter" if final.guarded else "stop", grokassist=ext)
            if body.stream_options and body.stream_options.include_usage:
                yield {"data": json.dumps({**head, "choices": [], "usage": _usage(final.answer)})}
            yield {"data": "[DONE]"}
        finally:
            await stream.aclose()
            if ephemeral:
                with anyio.CancelScope(shield=True):  # also when the client went away
                    await svc.call(svc.assistant.sessions.clear, session)

    return EventSourceResponse(events(), ping=15)


def _conversation(body: ChatCompletionRequest) -> tuple[str, list[Message]]:
    """The question (the last message, which must be the user's) and the earlier turns."""
    *earlier, last = body.messages
    if last.role != "user":
        raise ApiError(
            400, "invalid_request", "the last message must be the user's question", param="messages"
        )
    try:
        question = last.text().strip()
        history = [
            Message(role="user" if m.role == "user" else "assistant", content=m.text())
            for m in earlier
            if m.role in ("user", "assistant") and m.text().strip()
        ]
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc), param="messages") from exc
    if not question:
        raise ApiError(422, "invalid_request", "the question is empty", param="messages")
    return question, history


def _footer(resp: AskResponse, enabled: bool) -> str:
    if not enabled or not resp.citations:
        return ""
    lines = [f"[{c.index}] {c.title}: {c.url}" for c in resp.citations]
    return "\n\nSources:\n" + "\n".join(lines)


def _usage(answer: Answer) -> dict[str, int]:
    u = answer.usage
    prompt, completion = (u.prompt_tokens, u.completion_tokens) if u else (0, 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
