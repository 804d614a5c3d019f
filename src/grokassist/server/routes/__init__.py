"""One router per resource; :data:`ROUTERS` in the order the app includes them."""

from __future__ import annotations

from . import answers, feedback, openai, operations, outbox, sessions, sources, webhooks, widget

__all__ = ["ROUTERS"]

ROUTERS = [
    answers.router,
    sessions.router,
    feedback.router,
    sources.router,
    openai.router,
    outbox.router,
    webhooks.router,
    widget.router,
    operations.router,
]
