"""Liveness, readiness and metrics."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ...errors import GrokAssistError
from ..deps import ERRORS, Operator, PolicyRoute, Svc
from ..service import Service

__all__ = ["router"]

router = APIRouter(tags=["operations"], route_class=PolicyRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
async def readyz(svc: Svc) -> JSONResponse:
    """Readiness: the knowledge base has documents, the backends load, the store answers.

    ``store`` names the kind of store (``memory``, ``sqlite`` or ``redis``).
    """
    checks = await anyio.to_thread.run_sync(_readiness, svc)
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "not_ready", "store": svc.store.kind, "checks": checks}
    return JSONResponse(body, 200 if ready else 503)


@router.get("/metrics", response_class=Response, responses=ERRORS)
async def metrics(_: Operator, svc: Svc) -> Response:
    """Prometheus metrics (a key is needed once keys are configured)."""
    content, media_type = svc.metrics.render()
    return Response(content, media_type=media_type)


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
