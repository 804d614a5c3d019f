"""``GET /v1/sources/{doc_id}``: the knowledge base's articles, read-only."""

from __future__ import annotations

from html import escape
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from ..deps import ERRORS, Customer, PolicyRoute, Svc
from ..service import ApiError, public_source

__all__ = ["router"]

router = APIRouter(tags=["sources"], route_class=PolicyRoute)

_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/v1/sources/{doc_id:path}", name="get_source", responses=ERRORS)
async def get_source(
    doc_id: str,
    request: Request,
    _: Customer,
    svc: Svc,
    format: Annotated[Literal["html", "json"] | None, Query()] = None,
) -> Response:
    """A knowledge-base article, read-only (HTML, or JSON with ``?format=json``).

    Only documents in the knowledge base are served: the id is looked up, never opened as a path.
    """
    doc = await anyio.to_thread.run_sync(svc.assistant.kb.get_document, doc_id)
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
    return HTMLResponse(_render(title, text), headers=_HEADERS)


def _render(title: str, text: str) -> str:
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
