"""The FastAPI application: REST + SSE, OpenAI-compatible chat, sources, widget, health, metrics.

``create_app(assistant, settings)`` builds it; the caller owns the assistant
(and closes it). Every error is answered as ``{"error": {"type", "message"}}``
with no stack trace; unexpected ones are logged here.
"""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from functools import partial
from importlib import resources
from typing import Annotated, Any, Literal

import anyio

from .._optional import require
from ..assistant import Assistant
from ..errors import GrokAssistError
from .schemas import (
    AskRequest,
    AskResponse,
    ErrorBody,
    EscalateRequest,
    EscalateResponse,
    FeedbackRequest,
    HistoryMessage,
    HistoryResponse,
    SessionResponse,
)
from .security import BodyLimitMiddleware, BodyTooLarge, Client
from .service import ApiError, Final, Service, public_source
from .settings import ServerSettings

require("fastapi", extra="server", feature="grokassist serve")
require("sse_starlette", package="sse-starlette", extra="server", feature="grokassist serve")

from fastapi import Depends, FastAPI, Query, Request, Response  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi.responses import HTMLResponse, JSONResponse  # noqa: E402
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402
from sse_starlette import EventSourceResponse  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from .metrics import MetricsMiddleware  # noqa: E402

__all__ = ["create_app"]

log = logging.getLogger("grokassist.server")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 429, 502, 503, 504)
}

_bearer = HTTPBearer(auto_error=False, description="An API key from GROKASSIST_SERVER_API_KEYS")


def create_app(
    assistant: Assistant, settings: ServerSettings | None = None, *, close_assistant: bool = False
) -> FastAPI:
    """The HTTP service over ``assistant`` (closed with the app if ``close_assistant``)."""
    settings = settings or ServerSettings()
    svc = Service(assistant, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # load the embedder, indexes and backends before the first request
        for step in (partial(_warm_up, assistant), svc.store.ping):
            try:
                await anyio.to_thread.run_sync(step)
            except GrokAssistError as exc:  # /readyz reports it
                log.warning("not ready: %s", exc)
        try:
            yield
        finally:
            svc.close()
            if close_assistant:
                await assistant.aclose()

    app = FastAPI(
        title="grokassist",
        summary="Grounded customer-support answers with citations, over your support articles.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.service = svc

    async def authorize(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
    ) -> Client:
        own = f"{request.url.scheme}://{request.url.netloc}"
        host = request.client.host if request.client else None
        headers = request.headers
        return await svc.authorize(headers.get("authorization"), headers.get("origin"), own, host)

    Caller = Annotated[Client, Depends(authorize)]

    # -- answers ---------------------------------------------------------------------

    @app.post("/v1/ask", tags=["answers"], responses=ERRORS, response_model=AskResponse)
    async def ask(body: AskRequest, request: Request, client: Caller) -> Response:
        """Answer a question with citations, confidence and suggested actions.

        Without ``session_id`` a new session is started; pass the returned id to continue it.
        """
        svc.check_question(body.question)
        session = await svc.session_for(client, body.session_id)
        final = await svc.answer(body.question, session=session, filters=body.filters)
        svc.count(final.answer, "ask")
        answer_id = await svc.record(client, final.answer)
        response = svc.response(final.answer, answer_id, session, str(request.base_url), final.guarded)
        # already a validated AskResponse: serialise it once (FastAPI would validate it again)
        return Response(response.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/ask/stream",
        tags=["answers"],
        responses={
            **ERRORS,
            200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"},
        },
        response_class=EventSourceResponse,
    )
    async def ask_stream(body: AskRequest, request: Request, client: Caller) -> EventSourceResponse:
        """The streaming twin of ``/v1/ask`` (server-sent events).

        Events: ``session`` ``{"session_id"}``; ``delta`` ``{"text"}`` as the answer is
        generated; then ``answer`` (the ``/v1/ask`` response, whose ``text`` is authoritative)
        or ``error`` ``{"error": {...}}``.
        """
        svc.check_question(body.question)
        session = await svc.session_for(client, body.session_id)
        base_url = str(request.base_url)

        async def events() -> AsyncIterator[dict[str, str]]:
            yield {"event": "session", "data": json.dumps({"session_id": session})}
            final: Final | None = None
            stream = svc.answer_stream(body.question, session=session, filters=body.filters)
            try:
                async with aclosing(stream) as items:
                    async for item in items:
                        if isinstance(item, Final):
                            final = item
                        else:
                            yield {"event": "delta", "data": json.dumps({"text": item})}
            except Exception as exc:  # the response has started: report it as an event
                yield {"event": "error", "data": json.dumps(svc.client_error(exc).body())}
                return
            assert final is not None
            svc.count(final.answer, "ask_stream")
            answer_id = await svc.record(client, final.answer)
            payload = svc.response(final.answer, answer_id, session, base_url, final.guarded)
            yield {"event": "answer", "data": payload.model_dump_json()}

        return EventSourceResponse(events(), ping=15)

    # -- sessions --------------------------------------------------------------------

    @app.post("/v1/sessions", tags=["sessions"], status_code=201, responses=ERRORS)
    async def create_session(client: Caller) -> SessionResponse:
        """Start a session (``/v1/ask`` also starts one when given no ``session_id``)."""
        session_id = await svc.call(svc.store.create_session, client.id)
        return SessionResponse(session_id=session_id, expires_in=settings.session_ttl_s)

    @app.get("/v1/sessions/{session_id}", tags=["sessions"], responses=ERRORS)
    async def get_session(session_id: str, client: Caller) -> HistoryResponse:
        """The conversation so far: only for the client that started the session."""
        await svc.own_session(client, session_id)
        messages = await svc.call(assistant.history, session_id)
        return HistoryResponse(
            session_id=session_id,
            messages=[HistoryMessage(role=m.role, content=svc.guard.clean(m.content)) for m in messages],
        )

    @app.delete("/v1/sessions/{session_id}", tags=["sessions"], status_code=204, responses=ERRORS)
    async def delete_session(session_id: str, client: Caller) -> Response:
        """End a session and forget its history."""
        await svc.own_session(client, session_id)
        await svc.call(svc.store.drop_session, session_id)
        return Response(status_code=204)

    # -- feedback and escalation -----------------------------------------------------

    @app.post("/v1/feedback", tags=["feedback"], responses=ERRORS)
    async def feedback(body: FeedbackRequest, client: Caller) -> dict[str, str]:
        """Rate an answer (helpful or not, optional comment); stored with the answer."""
        await _own_answer(svc, body.answer_id, client)
        await svc.call(svc.store.set_feedback, body.answer_id, client.id, body.helpful, body.comment)
        svc.metrics.feedback.labels(str(body.helpful).lower()).inc()
        return {"status": "recorded", "answer_id": body.answer_id}

    @app.post("/v1/escalate", tags=["feedback"], status_code=202, responses=ERRORS)
    async def escalate(body: EscalateRequest, client: Caller) -> EscalateResponse:
        """Hand the conversation to a human: queued in the local outbox for the ticketing system."""
        if not (body.session_id or body.answer_id or body.reason):
            raise ApiError(422, "invalid_request", "give a session_id, an answer_id or a reason")
        transcript = []
        if body.session_id:
            await svc.own_session(client, body.session_id, param="session_id")
            transcript = [
                m.model_copy(update={"content": svc.guard.clean(m.content)})
                for m in await svc.call(assistant.history, body.session_id)
            ]
        if body.answer_id:
            await _own_answer(svc, body.answer_id, client)
        escalation_id = await svc.call(
            svc.store.add_escalation,
            client.id,
            transcript,
            session_id=body.session_id,
            answer_id=body.answer_id,
            reason=body.reason,
            contact=body.contact,
        )
        svc.metrics.escalations.inc()
        return EscalateResponse(
            escalation_id=escalation_id,
            status="queued",
            message="Thanks: a member of our support team will pick up this conversation.",
        )

    # -- sources ---------------------------------------------------------------------

    @app.get("/v1/sources/{doc_id:path}", name="get_source", tags=["sources"], responses=ERRORS)
    async def get_source(
        doc_id: str,
        request: Request,
        _: Caller,
        format: Annotated[Literal["html", "json"] | None, Query()] = None,
    ) -> Response:
        """A knowledge-base article, read-only (HTML, or JSON with ``?format=json``).

        Only documents in the knowledge base are served: the id is looked up, never opened as a path.
        """
        doc = await anyio.to_thread.run_sync(assistant.kb.get_document, doc_id)
        if doc is None:
            raise ApiError(404, "not_found", "no such document in the knowledge base")
        title, text = svc.guard.redact(doc.title or doc.id), svc.guard.redact(doc.text)
        wants_json = format == "json" or (
            format is None and "application/json" in request.headers.get("accept", "")
        )
        if wants_json:
            return JSONResponse(
                {"doc_id": doc.id, "title": title, "source": public_source(doc.source), "text": text}
            )
        return HTMLResponse(_render_source(title, text), headers=_SOURCE_HEADERS)

    # -- the widget ------------------------------------------------------------------

    static = resources.files("grokassist.server") / "static"
    widget_js = (static / "widget.js").read_bytes()
    widget_css = (static / "widget.css").read_bytes()

    @app.get("/widget.js", tags=["widget"], include_in_schema=False)
    async def widget_script() -> Response:
        return Response(widget_js, media_type="text/javascript", headers=_STATIC_HEADERS)

    @app.get("/widget.css", tags=["widget"], include_in_schema=False)
    async def widget_style() -> Response:
        return Response(widget_css, media_type="text/css", headers=_STATIC_HEADERS)

    # -- operations ------------------------------------------------------------------

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    async def readyz() -> JSONResponse:
        """Readiness: the knowledge base has documents, the backends load, the store answers.

        ``store`` names the kind of session store (``memory``, ``sqlite`` or ``redis``).
        """
        checks = await anyio.to_thread.run_sync(_readiness, svc)
        ready = all(v == "ok" for v in checks.values())
        body = {"status": "ready" if ready else "not_ready", "store": svc.store.kind, "checks": checks}
        return JSONResponse(body, 200 if ready else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus metrics."""
        content, media_type = svc.metrics.render()
        return Response(content, media_type=media_type)

    from .openai_compat import openai_router

    app.include_router(openai_router(svc, authorize, ERRORS))
    _install_error_handlers(app, svc)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if "*" in settings.cors_origins else settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    return app


# -- helpers ------------------------------------------------------------------------------

_STATIC_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
_SOURCE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _version() -> str:
    from .. import __version__

    return __version__


def _warm_up(assistant: Assistant) -> None:
    if len(assistant.kb):
        assistant.kb.warm_up()
    _ = assistant.backends


def _readiness(svc: Service) -> dict[str, str]:
    checks = {
        "knowledge_base": "ok" if len(svc.assistant.kb) else "empty: ingest documents first",
        "backends": "ok",
        "store": "ok",
    }
    try:
        _ = svc.assistant.backends
    except GrokAssistError as exc:
        checks["backends"] = f"failed: {exc}"
    try:
        svc.store.ping()
    except GrokAssistError as exc:
        checks["store"] = f"failed: {exc}"
    return checks


async def _own_answer(svc: Service, answer_id: str, client: Client) -> None:
    owner = await svc.call(svc.store.answer_owner, answer_id)
    if owner is None or owner != client.id:
        raise ApiError(404, "answer_not_found", "unknown answer id", param="answer_id")


def _render_source(title: str, text: str) -> str:
    from html import escape

    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).render(text)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>"
        "body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
        "pre{white-space:pre-wrap}</style></head><body><article>"
        f"<h1>{escape(title)}</h1>{body}</article></body></html>"
    )


def _install_error_handlers(app: FastAPI, svc: Service) -> None:
    def reply(error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers or None)

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        return reply(svc.client_error(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        param = None
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            param = param or (".".join(loc) or None)
            if err.get("type") == "json_invalid":
                return reply(ApiError(400, "invalid_json", "the request body is not valid JSON"))
            problems.append(f"{'.'.join(loc) or 'body'}: {err.get('msg', 'invalid')}")
        return reply(ApiError(422, "invalid_request", "; ".join(problems)[:1000], param=param))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.__cause__, BodyTooLarge):
            return reply(ApiError(413, "request_too_large", str(exc.__cause__)))
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else "error"
        return reply(ApiError(exc.status_code, kind, message, headers=dict(exc.headers or {})))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        return reply(svc.client_error(exc))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(GrokAssistError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
