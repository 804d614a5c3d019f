"""The FastAPI application: one router per resource, the error shape, the middleware.

``create_app(assistant, settings)`` builds it; the caller owns the assistant (and closes
it). Every error is answered as ``{"error": {"type", "message"}}`` with no stack trace;
unexpected ones are logged here. What each route does lives in :mod:`.routes`; what they
share (who may call, sessions, the guard, the handoff) in :mod:`.service`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

import anyio

from .._optional import require
from ..adapters.ticketing.base import TicketingAdapter
from ..assistant import Assistant
from ..errors import GrokAssistError
from ..handoff.settings import HandoffSettings
from .security import BodyLimitMiddleware, BodyTooLarge
from .service import ApiError, Service
from .settings import ServerSettings

require("fastapi", extra="server", feature="grokassist serve")
require("sse_starlette", package="sse-starlette", extra="server", feature="grokassist serve")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from .metrics import MetricsMiddleware  # noqa: E402
from .routes import ROUTERS  # noqa: E402

__all__ = ["create_app"]

log = logging.getLogger("grokassist.server")


def create_app(
    assistant: Assistant,
    settings: ServerSettings | None = None,
    *,
    handoff: HandoffSettings | None = None,
    ticketing: TicketingAdapter | None = None,
    close_assistant: bool = False,
) -> FastAPI:
    """The HTTP service over ``assistant`` (closed with the app if ``close_assistant``).

    The outbox worker runs inside the app's event loop, for as long as the app does, with
    ``ticketing`` (the caller owns it), or with ``handoff.worker_in_process`` over the
    system the assistant's ``ticketing`` settings name.
    """
    settings = settings or ServerSettings()
    svc = Service(assistant, settings, handoff)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # load the embedder, indexes and backends before the first request
        for step in (partial(_warm_up, assistant), svc.store.ping):
            try:
                await anyio.to_thread.run_sync(step)
            except GrokAssistError as exc:  # /readyz reports it
                log.warning("not ready: %s", exc)
        try:
            async with AsyncExitStack() as stack, anyio.create_task_group() as tasks:
                if ticketing is not None or svc.handoff.worker_in_process:
                    await _start_worker(svc, stack, tasks, ticketing)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
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
    for router in ROUTERS:
        app.include_router(router)
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


async def _start_worker(
    svc: Service, stack: AsyncExitStack, tasks: anyio.abc.TaskGroup, adapter: TicketingAdapter | None
) -> None:
    from ..adapters.ticketing import open_ticketing
    from ..handoff import OutboxWorker

    if adapter is None:
        try:
            adapter = open_ticketing(settings=svc.assistant.settings.ticketing)
        except GrokAssistError as exc:
            log.error("the outbox worker cannot start: %s", exc)
            return
        stack.push_async_callback(adapter.aclose)
    svc.worker = OutboxWorker(
        svc.store,
        adapter,
        policy=svc.handoff.delivery,
        poll_s=svc.handoff.poll_s,
        sync_s=svc.handoff.sync_s,
        concurrency=svc.handoff.concurrency,
    )
    tasks.start_soon(svc.worker.run)


def _version() -> str:
    from .. import __version__

    return __version__


def _warm_up(assistant: Assistant) -> None:
    if len(assistant.kb):
        assistant.kb.warm_up()
    for backend in assistant.backends:  # a local model loads now, not on the first customer's question
        warm = getattr(backend, "warm_up", None)
        if warm is not None:
            warm()


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
