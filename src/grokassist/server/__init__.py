"""The HTTP service behind the support widget (needs ``pip install "grokassist[server]"``).

* ``POST /v1/ask`` and its server-sent-events twin ``POST /v1/ask/stream``;
* OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``;
* sessions (``/v1/sessions``), ``POST /v1/feedback``, ``POST /v1/escalate``;
* the knowledge base's articles, read-only, at ``/v1/sources/{doc_id}``;
* the widget at ``/widget.js``; ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``.

:func:`create_app` builds the FastAPI app over an :class:`~grokassist.assistant.Assistant`;
:func:`run` serves one with uvicorn. Importing this package does not import FastAPI.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from .._optional import require
from .settings import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..assistant import Assistant, BackendSpec
    from ..config import Settings
    from ..knowledge import KnowledgeBase

__all__ = ["ServerSettings", "create_app", "run"]

log = logging.getLogger("grokassist.server")


def create_app(assistant: Assistant, settings: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app over ``assistant`` (see :mod:`grokassist.server.app`)."""
    from .app import create_app as _create_app

    return _create_app(assistant, settings)


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    kb: KnowledgeBase | str | None = None,
    backend: BackendSpec = None,
    *,
    settings: Settings | None = None,
    server_settings: ServerSettings | None = None,
    log_level: str = "info",
    **uvicorn_options: Any,
) -> None:
    """Serve knowledge base ``kb`` with ``backend`` on ``host:port`` until interrupted.

    API keys, CORS origins and limits come from ``server_settings`` (default:
    ``GROKASSIST_SERVER_*`` environment variables).
    """
    uvicorn = require("uvicorn", extra="server", feature="grokassist serve")
    from ..assistant import Assistant

    server_settings = server_settings or ServerSettings()
    if not server_settings.api_keys and not _is_loopback(host):
        log.warning("serving on %s without API keys: anyone who can reach it can use it", host)
    assistant = Assistant(kb, backend=backend, settings=settings)
    try:
        app = create_app(assistant, server_settings)
        options: dict[str, Any] = {"proxy_headers": False, "server_header": False, **uvicorn_options}
        uvicorn.run(app, host=host, port=port, log_level=log_level, **options)
    finally:
        assistant.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
