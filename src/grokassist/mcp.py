"""The support assistant as tools for MCP clients (``grokassist mcp``; ``pip install "grokassist[mcp]"``).

Three tools, served with the official MCP Python SDK over stdio or streamable HTTP:

- ``search_support_docs(query, k, filters)``: the best passages of the knowledge base, with
  their titles, sources and scores (read-only);
- ``ask_support(question, session_id, filters)``: a grounded answer with numbered citations,
  its confidence, and an abstention with the offer of a human when the docs do not cover
  the question; pass the returned ``session_id`` back to continue the conversation;
- ``escalate_to_human(reason, contact, session_id)``: queue the conversation for a person, in
  the same outbox as the widget's ``POST /v1/escalate``.

Escalations go through :class:`EscalationSink`, a one-method seam; :class:`StoreEscalations`
builds the ticket as the widget does (:func:`grokassist.handoff.tickets.build_escalation`,
redacted by the handoff settings) and queues it in the store's outbox, from which the
outbox worker delivers it exactly once.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field, SecretStr

from ._optional import require
from .errors import ConfigurationError, GrokAssistError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from .assistant import Assistant
    from .handoff.settings import HandoffSettings
    from .stores import Store
    from .types import Message

__all__ = [
    "TOOLS",
    "EscalationResult",
    "EscalationSink",
    "SearchHit",
    "SearchResult",
    "StoreEscalations",
    "SupportAnswer",
    "SupportCitation",
    "create_mcp_server",
    "run_mcp",
]

#: The tools, in the order they are listed.
TOOLS = ("search_support_docs", "ask_support", "escalate_to_human")

_INSTRUCTIONS = (
    "Customer-support tools over the product's support articles. Use ask_support for a customer's "
    "question: it answers only from the articles, cites them as [n], and abstains when they do "
    "not cover the question. Use search_support_docs to read the articles yourself. When the "
    "customer asks for a person, or ask_support abstains and the customer needs help, call "
    "escalate_to_human."
)


# -- results ------------------------------------------------------------------------------------


class SearchHit(BaseModel):
    """One retrieved passage."""

    doc_id: str
    title: str
    source: str
    section: str = Field(description="the headings above the passage, joined with ' > '")
    score: float
    text: str


class SearchResult(BaseModel):
    query: str
    results: list[SearchHit]


class SupportCitation(BaseModel):
    """A source cited in the answer as ``[index]``."""

    index: int
    title: str
    source: str
    doc_id: str
    passage: str
    score: float
    tier: str = Field(
        default="official",
        description="official (support article), live (status or tool, as of as_of) or community (a "
        "customer post: unverified, never to be stated as fact)",
    )
    as_of: str | None = Field(default=None, description="when a live source was fetched (ISO 8601, UTC)")


class SupportAnswer(BaseModel):
    answer: str
    citations: list[SupportCitation]
    confidence: float
    abstained: bool = Field(description="true when the articles do not cover the question")
    suggested_actions: list[str] = Field(description="e.g. offer_human")
    session_id: str = Field(description="pass it back to ask a follow-up in the same conversation")


class EscalationResult(BaseModel):
    escalation_id: str
    status: str
    message: str


# -- the escalation seam -------------------------------------------------------------------------


@runtime_checkable
class EscalationSink(Protocol):
    """Where ``escalate_to_human`` puts a conversation for a person."""

    def escalate(
        self, transcript: Sequence[Message], *, reason: str, contact: str, session_id: str | None
    ) -> str:
        """Queue the conversation; returns the escalation id."""
        ...


class StoreEscalations:
    """Escalations into a store's outbox (the widget's ``/v1/escalate`` uses the same)."""

    def __init__(self, store: Store, *, client: str = "mcp", settings: HandoffSettings | None = None) -> None:
        from .handoff.settings import HandoffSettings

        self.store = store
        self.client = client
        self.settings = settings or HandoffSettings()

    def escalate(
        self, transcript: Sequence[Message], *, reason: str, contact: str, session_id: str | None
    ) -> str:
        from .handoff.redact import PersonalDataRedactor
        from .handoff.tickets import build_escalation
        from .handoff.triggers import Fired

        redact = (
            PersonalDataRedactor(phone_region=self.settings.phone_region)
            if self.settings.redact_personal_data
            else None
        )
        escalation = build_escalation(
            client=self.client,
            transcript=list(transcript),
            answers=[],
            fired=Fired("requested"),
            settings=self.settings,
            session_id=session_id,
            reason=reason,
            contact=contact,
            redact=redact,
        )
        self.store.outbox.enqueue(escalation)
        return escalation.id


# -- the server ---------------------------------------------------------------------------------


def create_mcp_server(
    assistant: Assistant,
    escalations: EscalationSink,
    *,
    name: str | None = None,
) -> MCPServer:
    """An MCP server exposing :data:`TOOLS` over ``assistant`` and ``escalations``."""
    require("mcp", extra="mcp", feature="grokassist mcp")
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    from . import __version__

    server: MCPServer = MCPServer(
        name or f"grokassist-{assistant.kb.name}",
        instructions=_INSTRUCTIONS,
        version=__version__,
        warn_on_duplicate_tools=False,
        log_level="WARNING",
    )

    def search_support_docs(query: str, k: int = 5, filters: dict[str, str] | None = None) -> SearchResult:
        """Search the support articles. Returns the best passages (text, article title, source URL or
        path, section headings, relevance score), best first. ``filters`` restricts the search to
        articles whose metadata has these values, e.g. {"locale": "en-US"}."""
        k = max(1, min(int(k), 20))
        try:
            hits = assistant.kb.search(query, k, filters or None)
        except GrokAssistError as exc:
            raise ToolError(str(exc)) from exc
        return SearchResult(
            query=query,
            results=[
                SearchHit(
                    doc_id=h.passage.doc_id,
                    title=h.passage.title,
                    source=h.passage.source,
                    section=" > ".join(h.passage.heading_path),
                    score=round(h.score, 6),
                    text=h.passage.text,
                )
                for h in hits
            ],
        )

    def ask_support(
        question: str, session_id: str | None = None, filters: dict[str, str] | None = None
    ) -> SupportAnswer:
        """Answer a customer's question from the support articles, with numbered citations [n].
        When the articles do not cover it, abstains (abstained=true) and suggests offer_human.
        Pass session_id from a previous answer to ask a follow-up in the same conversation."""
        session = session_id or uuid.uuid4().hex
        try:
            answer = assistant.ask(question, session=session, filters=filters or None)
        except GrokAssistError as exc:
            raise ToolError(str(exc)) from exc
        return SupportAnswer(
            answer=answer.text,
            citations=[
                SupportCitation(
                    index=c.index,
                    title=c.title,
                    source=c.source,
                    doc_id=c.doc_id,
                    passage=c.text,
                    score=c.score,
                    tier=c.tier,
                    as_of=c.as_of.isoformat() if c.as_of else None,
                )
                for c in answer.citations
            ],
            confidence=round(answer.confidence, 4),
            abstained=answer.abstained,
            suggested_actions=[a.type for a in answer.actions],
            session_id=session,
        )

    def escalate_to_human(reason: str, contact: str = "", session_id: str | None = None) -> EscalationResult:
        """Hand the conversation to a human support agent. ``reason``: what the customer needs, in a
        sentence. ``contact``: how to reach the customer (email or phone), if they gave it.
        ``session_id``: the conversation from ask_support, sent along as its transcript."""
        if not reason.strip() and not session_id:
            raise ToolError("give a reason, or the session_id of the conversation to hand over")
        transcript = assistant.history(session_id) if session_id else []
        try:
            escalation_id = escalations.escalate(
                transcript, reason=reason.strip(), contact=contact.strip(), session_id=session_id
            )
        except GrokAssistError as exc:
            raise ToolError(f"the escalation could not be queued: {exc}") from exc
        return EscalationResult(
            escalation_id=escalation_id,
            status="queued",
            message="A member of the support team will pick up this conversation.",
        )

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    server.add_tool(search_support_docs, title="Search the support articles", annotations=read_only)
    server.add_tool(
        ask_support,
        title="Answer from the support articles, with citations",
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )
    server.add_tool(
        escalate_to_human,
        title="Hand the conversation to a human",
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
    )
    return server


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_mcp(
    assistant: Assistant,
    escalations: EscalationSink,
    *,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    api_key: SecretStr | None = None,
) -> None:
    """Serve the tools over ``stdio`` or streamable ``http`` (at ``/mcp``) until interrupted.

    Over HTTP on an interface other than loopback an ``api_key`` is required: clients send
    it as ``Authorization: Bearer <key>``.
    """
    server = create_mcp_server(assistant, escalations)
    if transport == "stdio":
        server.run("stdio")
        return
    if transport != "http":
        raise ConfigurationError(f"unknown MCP transport {transport!r}: use stdio or http")
    if api_key is None and not _is_loopback(host):
        raise ConfigurationError(
            f"serving MCP on {host} needs an API key: set GROKASSIST_MCP_API_KEY (or listen on 127.0.0.1)"
        )
    import anyio

    uvicorn = require("uvicorn", extra="mcp", feature="grokassist mcp --transport http")
    app = server.streamable_http_app(host=host)
    asgi = _BearerAuth(app, api_key) if api_key is not None else app

    async def serve() -> None:
        config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on")
        await uvicorn.Server(config).serve()

    anyio.run(serve)


class _BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <key>``."""

    def __init__(self, app: Any, key: SecretStr) -> None:
        self.app = app
        self._expected = f"Bearer {key.get_secret_value()}".encode()

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        import hmac

        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if not hmac.compare_digest(headers.get(b"authorization", b""), self._expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b'{"error": "unauthorized"}'})
                return
        await self.app(scope, receive, send)
