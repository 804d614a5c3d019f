"""Request and response bodies of the HTTP API (they make the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "AskRequest",
    "AskResponse",
    "ChatCompletionRequest",
    "ChatMessageIn",
    "CitationOut",
    "ErrorBody",
    "EscalateRequest",
    "EscalateResponse",
    "FeedbackRequest",
    "FeedbackResponse",
    "HandoffOut",
    "HistoryResponse",
    "LiveOut",
    "OutboxEntry",
    "OutboxList",
    "SessionResponse",
    "WebhookResponse",
]


def _session_id() -> Any:
    return Field(default=None, pattern=r"^[A-Za-z0-9_-]{20,100}$", description="A server-issued session id")


FilterValue = str | int | float | bool
Filters = dict[str, FilterValue | list[FilterValue]]


def _metadata() -> Any:
    return Field(
        default=None,
        max_length=20,
        description="What the host product knows of the customer, for the ticket if the conversation "
        'goes to a person, e.g. {"plan": "pro", "device": "iPhone 15", "locale": "fr-FR"}',
    )


def _context() -> Any:
    return Field(
        default=None,
        max_length=20,
        description="What the host knows of the customer, for host-product tools' arguments, e.g. "
        '{"account": "ACC-1042", "region": "Queensland"}; it wins over arguments a model wrote',
    )


def _allow_tools() -> Any:
    return Field(
        default=None,
        max_length=32,
        description="Sensitive tools this request may run (needs an API key: the host's server, not "
        "the browser, grants it)",
    )


Metadata = dict[
    Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")],
    Annotated[str, Field(max_length=200)],
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AskRequest(_In):
    """A question, optionally within a session and restricted by metadata filters."""

    question: str = Field(min_length=1, description="The customer's question")
    session_id: str | None = _session_id()
    filters: Filters | None = Field(
        default=None, max_length=16, description='e.g. {"product": "router-gen3"}'
    )
    metadata: Metadata | None = _metadata()
    language: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$",
        description="The customer's language (e.g. the browser's, 'es-MX'): used when the question "
        "is too short to tell its own",
    )
    context: Metadata | None = _context()
    allow_tools: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] | None = (
        _allow_tools()
    )


class CitationOut(BaseModel):
    """A cited source: ``[index]`` in the text links to ``url``."""

    index: int
    doc_id: str
    title: str
    url: str = Field(description="The article, served read-only by this server")
    source: str = Field(description="The article's original web address, if it was ingested from one")
    snippet: str = Field(description="The cited passage")
    score: float
    tier: Literal["official", "live", "community"] = Field(
        default="official",
        description="How far to trust the source: official (support docs), live (a status feed or a "
        "tool's result, as of as_of), community (customer posts: reported, never stated as fact)",
    )
    as_of: datetime | None = Field(default=None, description="When a live source's facts were fetched (UTC)")


class LiveOut(BaseModel):
    """A live source consulted for the answer (a status feed or a host-product tool) and how it fared."""

    kind: Literal["status", "tool"]
    name: str
    title: str
    state: Literal["fresh", "stale", "down", "failed", "timeout", "permission", "invalid_arguments"]
    as_of: datetime | None = Field(default=None, description="When the facts used were fetched (UTC)")
    checked_at: datetime | None = None


class ActionOut(BaseModel):
    type: str
    params: dict[str, Any] = {}


class AskResponse(BaseModel):
    """An answer with its citations; ``answer_id`` is what feedback refers to."""

    answer_id: str
    session_id: str
    text: str
    citations: list[CitationOut]
    confidence: float
    abstained: bool
    actions: list[ActionOut]
    guarded: bool = Field(default=False, description="True when the output guard withheld the model's text")
    language: str = Field(
        default="",
        description="The question's language (ISO 639-1), which the answer's "
        "own words (abstention, offer of a human) use",
    )
    live: list[LiveOut] = Field(
        default_factory=list, description="Live sources consulted (status feeds, tools), with their time"
    )


class SessionResponse(BaseModel):
    session_id: str
    expires_in: float


class HistoryMessage(BaseModel):
    role: str
    content: str
    author: str | None = Field(default=None, description="The person who wrote it (a support agent)")
    human: bool = Field(
        default=False, description="Written by a person of the support team, not the assistant"
    )


class HandoffOut(BaseModel):
    """A person has the conversation: the assistant stays quiet in it until the ticket is resolved."""

    escalation_id: str
    status: Literal["waiting", "with_person"]
    trigger: str


class HistoryResponse(BaseModel):
    session_id: str
    messages: list[HistoryMessage]
    handoff: HandoffOut | None = None


class FeedbackRequest(_In):
    """Whether an answer helped, with an optional comment."""

    answer_id: str = Field(pattern=r"^ans_[A-Za-z0-9_-]{10,64}$")
    helpful: bool
    comment: str = Field(default="", max_length=2000)


class EscalateRequest(_In):
    """Hand the conversation to a human."""

    session_id: str | None = _session_id()
    answer_id: str | None = Field(default=None, pattern=r"^ans_[A-Za-z0-9_-]{10,64}$")
    reason: str = Field(default="", max_length=2000)
    contact: str = Field(default="", max_length=320, description="How a human can reach the customer")
    metadata: Metadata | None = _metadata()


class EscalateResponse(BaseModel):
    escalation_id: str
    status: Literal["queued"]
    message: str


class FeedbackResponse(BaseModel):
    status: Literal["recorded"]
    answer_id: str
    escalation_id: str | None = Field(
        default=None, description="Set when the rating handed the conversation to a person"
    )


class OutboxEntry(BaseModel):
    """An escalation in the outbox, as operators see it (no transcript)."""

    escalation_id: str
    created: float
    trigger: str
    status: Literal["pending", "delivering", "delivered", "dead"]
    attempts: int
    due: float | None
    last_error: str
    subject: str
    ticket_id: str | None
    ticket_url: str
    ticket_status: str | None
    holds_conversation: bool


class OutboxList(BaseModel):
    escalations: list[OutboxEntry]


class WebhookResponse(BaseModel):
    status: Literal["accepted"]


class ErrorDetail(BaseModel):
    type: str
    message: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """Every error: ``{"error": {"type", "message", ...}}`` (the OpenAI shape)."""

    error: ErrorDetail


# -- OpenAI-compatible ------------------------------------------------------------------


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        if any(p.type != "text" for p in self.content):
            raise ValueError("only text content parts are supported")
        return "".join(p.text or "" for p in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat-completions request. Unknown OpenAI parameters are accepted and ignored.

    Extensions: ``session_id`` (continue a server session instead of sending the
    history), ``filters`` (metadata filters), ``context`` (what the host knows of the
    customer, for tools) and ``allow_tools`` (sensitive tools this request may run).
    """

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    max_completion_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1)
    session_id: str | None = _session_id()
    filters: Filters | None = Field(default=None, max_length=16)
    context: Metadata | None = _context()
    allow_tools: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] | None = (
        _allow_tools()
    )
