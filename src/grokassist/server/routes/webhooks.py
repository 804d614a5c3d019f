"""``POST /v1/webhooks/ticketing``: a ticketing system says a ticket changed.

Verified before anything else: the body's HMAC-SHA256 under ``ticketing.webhook_secret``
(``GROKASSIST_TICKETING__WEBHOOK_SECRET``)
in ``X-Grokassist-Signature: sha256=<hex>`` (and an API key, once keys are configured). The
body is not trusted for content: it only makes the outbox worker read the open tickets'
updates now, from the ticketing system itself, instead of at its next poll.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..deps import ERRORS, KeyHolder, PolicyRoute, Svc
from ..schemas import WebhookResponse
from ..security import signature_valid
from ..service import ApiError

__all__ = ["router"]

router = APIRouter(tags=["webhooks"], route_class=PolicyRoute)

SIGNATURE = "X-Grokassist-Signature"


@router.post("/v1/webhooks/ticketing", status_code=202, responses=ERRORS)
async def ticketing_webhook(request: Request, _: KeyHolder, svc: Svc) -> WebhookResponse:
    """A ticket changed: read the open tickets' replies and status now."""
    secret = svc.assistant.settings.ticketing.webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ApiError(
            403,
            "webhooks_disabled",
            "set ticketing.webhook_secret (GROKASSIST_TICKETING__WEBHOOK_SECRET) first",
        )
    body = await request.body()
    if not signature_valid(secret.get_secret_value(), body, request.headers.get(SIGNATURE)):
        raise ApiError(403, "invalid_signature", f"the {SIGNATURE} header does not sign this body")
    if svc.worker is not None:
        svc.worker.nudge()
    return WebhookResponse(status="accepted")
