"""The HTTP service behind the support widget (needs ``pip install "grokassist[server]"``).

* ``POST /v1/ask`` and its server-sent-events twin ``POST /v1/ask/stream``;
* OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``;
* sessions (``/v1/sessions``), ``POST /v1/feedback``, ``POST /v1/escalate``;
* the outbox (``/v1/outbox``) and the ticketing webhook (``/v1/webhooks/ticketing``);
* the knowledge base's articles, read-only, at ``/v1/sources/{doc_id}``;
* the widget at ``/widget.js``; ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``.

:func:`create_app` builds the FastAPI app over an :class:`~grokassist.assistant.Assistant`;
:func:`run` serves one with uvicorn, in one process or in several workers (each builds its
own app with :func:`worker_app`; sessions and feedback live in the store they share, see
:mod:`grokassist.stores`). Importing this package does not import FastAPI.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from .._optional import require
from ..errors import ConfigurationError
from ..handoff.settings import HandoffSettings
from ..stores import store_kind
from .settings import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..adapters.ticketing.base import TicketingAdapter
    from ..assistant import Assistant, BackendSpec
    from ..config import Settings
    from ..knowledge import KnowledgeBase

__all__ = ["ServerSettings", "check_workers", "create_app", "run", "worker_app"]

log = logging.getLogger("grokassist.server")

#: The environment variable through which :func:`run` hands each worker its configuration.
WORKER_CONFIG_ENV = "GROKASSIST_SERVE_WORKER_CONFIG"


def create_app(
    assistant: Assistant,
    settings: ServerSettings | None = None,
    *,
    handoff: HandoffSettings | None = None,
    ticketing: TicketingAdapter | None = None,
) -> FastAPI:
    """The FastAPI app over ``assistant`` (see :mod:`grokassist.server.app`)."""
    from .app import create_app as _create_app

    return _create_app(assistant, settings, handoff=handoff, ticketing=ticketing)


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    kb: KnowledgeBase | str | None = None,
    backend: BackendSpec = None,
    *,
    settings: Settings | None = None,
    server_settings: ServerSettings | None = None,
    handoff: HandoffSettings | None = None,
    log_level: str = "info",
    workers: int = 1,
    **uvicorn_options: Any,
) -> None:
    """Serve knowledge base ``kb`` with ``backend`` on ``host:port`` until interrupted.

    API keys, CORS origins, limits and the store come from ``server_settings`` (default:
    ``GROKASSIST_SERVER_*`` environment variables). With ``workers > 1`` uvicorn starts that
    many processes, each building its app from the settings passed in the environment
    (``backend`` must then be a URI string); they share sessions and feedback through the
    store, so ``memory:`` is refused.
    """
    uvicorn = require("uvicorn", extra="server", feature="grokassist serve")
    from ..assistant import Assistant

    server_settings = server_settings or ServerSettings()
    handoff = handoff or HandoffSettings()
    if not server_settings.api_keys and not _is_loopback(host):
        log.warning("serving on %s without API keys: anyone who can reach it can use it", host)
    options: dict[str, Any] = {"proxy_headers": False, "server_header": False, **uvicorn_options}
    if workers > 1:
        os.environ[WORKER_CONFIG_ENV] = _worker_config(
            kb, backend, settings, server_settings, handoff, workers
        )
        options.update(factory=True, workers=workers, log_level=log_level)
        try:
            uvicorn.run(f"{__name__}:worker_app", host=host, port=port, **options)
        finally:
            os.environ.pop(WORKER_CONFIG_ENV, None)
        return
    assistant = Assistant(kb, backend=backend, settings=settings)
    try:
        app = create_app(assistant, server_settings, handoff=handoff)
        uvicorn.run(app, host=host, port=port, log_level=log_level, **options)
    finally:
        assistant.close()


def worker_app() -> FastAPI:
    """The app of one worker of ``run(workers=N)``, built from the configuration it put in
    the environment (``GROKASSIST_SERVE_WORKER_CONFIG``); uvicorn calls it in each worker."""
    from ..assistant import Assistant
    from ..config import load_settings
    from .app import create_app as _create_app

    raw = os.environ.get(WORKER_CONFIG_ENV)
    if not raw:
        raise ConfigurationError(
            f"worker_app() builds the workers of `grokassist serve --workers N`: {WORKER_CONFIG_ENV} "
            "is not set"
        )
    config = json.loads(raw)
    settings = load_settings(**config["settings"])
    assistant = Assistant(config["kb"], backend=config["backend"], settings=settings)
    handoff = HandoffSettings(**config["handoff"])
    return _create_app(assistant, ServerSettings(**config["server"]), handoff=handoff, close_assistant=True)


def check_workers(server_settings: ServerSettings, workers: int) -> None:
    """Refuse several workers over a store that is not shared (``memory:``)."""
    if workers > 1 and store_kind(server_settings.store_url) == "memory":
        raise ConfigurationError(
            f"--workers {workers} needs a store that the workers share, and memory: lives in one process: "
            "set GROKASSIST_SERVER_STORE_URL to sqlite: (the default, one host) or redis://host:6379/0"
        )


def _worker_config(
    kb: KnowledgeBase | str | None,
    backend: BackendSpec,
    settings: Settings | None,
    server_settings: ServerSettings,
    handoff: HandoffSettings,
    workers: int,
) -> str:
    """What each worker needs to build its app, as JSON (secrets in clear: it stays in this
    process's environment, which only its user can read)."""
    from ..config import load_settings
    from ..knowledge import KnowledgeBase

    check_workers(server_settings, workers)
    if isinstance(kb, KnowledgeBase):
        settings, kb = settings or kb.settings, kb.name
    if backend is not None and not isinstance(backend, str):
        items = list(backend) if isinstance(backend, (list, tuple)) else [backend]
        uris = [item for item in items if isinstance(item, str)]
        if len(uris) != len(items):
            raise ConfigurationError(
                "each worker builds its own backends: give the backend as a URI (e.g. llama-cpp:default)"
            )
        backend = ",".join(uris)
    config = {
        "kb": kb,
        "backend": backend,
        "settings": (settings or load_settings()).model_dump(),
        "server": server_settings.model_dump(),
        "handoff": handoff.model_dump(),
    }
    return json.dumps(config, default=_plain)


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(f"cannot pass {type(value).__name__} to a worker")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
