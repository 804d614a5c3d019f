"""``/widget.js`` and ``/widget.css``: the chat widget any page embeds with one ``<script>`` tag."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Response

from ..deps import PolicyRoute

__all__ = ["router"]

router = APIRouter(tags=["widget"], include_in_schema=False, route_class=PolicyRoute)

_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
_STATIC = resources.files("grokassist.server") / "static"
_SCRIPT = (_STATIC / "widget.js").read_bytes()
_STYLE = (_STATIC / "widget.css").read_bytes()


@router.get("/widget.js")
async def widget_script() -> Response:
    return Response(_SCRIPT, media_type="text/javascript", headers=_HEADERS)


@router.get("/widget.css")
async def widget_style() -> Response:
    return Response(_STYLE, media_type="text/css", headers=_HEADERS)
