"""Frozen data models shared across grokassist, among them what the assistant asks of a model
(:class:`ChatRequest`, :class:`GenerationSettings`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Action",
    "Answer",
    "ChatRequest",
    "Chunk",
    "Citation",
    "Document",
    "DocumentHit",
    "GenerationSettings",
    "LiveUse",
    "Message",
    "Passage",
    "ScoredPassage",
    "SyncReport",
    "ToolCall",
    "ToolSpec",
    "Usage",
]

MetadataValue = str | int | float | bool


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    """One turn of a conversation.

    ``author`` names the person who wrote an ``assistant`` turn when it was not the
    assistant: a support agent replying through the ticketing system after a handoff.
    """

    role: Literal["system", "user", "assistant"]
    content: str
    author: str | None = None


class Usage(_Frozen):
    """Token counts of one generation."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ToolSpec(_Frozen):
    """A tool as a model sees it: a name, what it does, and its arguments' JSON schema.

    Built from a :class:`grokassist.tools.Tool` (``tool.spec``); backends send it as
    an OpenAI ``tools`` entry or compile it into a grammar.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCall(_Frozen):
    """A model's request to call a tool, as parsed from its output (not yet validated).

    ``arguments`` is the decoded JSON object; ``raw_arguments`` the text the model
    wrote (kept so that a malformed call can be logged and refused, never guessed).
    """

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str = ""
    raw_arguments: str = ""


class Chunk(_Frozen):
    """One streamed piece of generated text.

    The last chunk of a stream may carry ``finish_reason`` and ``usage``, and, when
    the model called tools natively (OpenAI-compatible ``tool_calls``), ``tool_calls``.
    """

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()


class Document(_Frozen):
    """A support document, as loaded before chunking."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    updated: datetime | None = None
    content_hash: str = ""


class Passage(_Frozen):
    """A chunk of a document: the unit that is embedded, indexed and cited."""

    id: str
    doc_id: str
    text: str
    title: str = ""
    source: str = ""
    heading_path: tuple[str, ...] = ()
    position: int = 0
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    def heading(self) -> str:
        """The title and heading path: "Billing > Invoices"."""
        return " > ".join(h for h in (self.title, *self.heading_path) if h)

    def indexed_text(self) -> str:
        """Text given to the embedder and lexical index: title, headings, body."""
        head = self.heading()
        return f"{head}\n{self.text}" if head else self.text


class ScoredPassage(_Frozen):
    """A retrieved passage with its fused score and per-retriever evidence."""

    passage: Passage
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None


class DocumentHit(_Frozen):
    """A retrieved document with its best passages, best first."""

    doc_id: str
    title: str
    source: str
    score: float
    passages: tuple[ScoredPassage, ...]


class Citation(_Frozen):
    """A source cited in an answer as ``[index]``."""

    index: int
    doc_id: str
    title: str
    source: str
    passage_id: str
    text: str
    score: float
    #: the source's trust tier (grokassist.trust): "official", "live" or "community"
    tier: Literal["official", "live", "community"] = "official"
    #: when a live source's facts were fetched (UTC); ``None`` for documents
    as_of: datetime | None = None


class Action(_Frozen):
    """A structured action suggested alongside an answer (e.g. offer a human)."""

    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class LiveUse(_Frozen):
    """A live source consulted for an answer: a status feed or a host-product tool call.

    ``state`` is ``fresh`` (its facts were used, as of ``as_of``), ``stale`` (the last
    facts are older than their time-to-live and were not used as current), ``down``
    (the source did not answer), or, for tools, ``failed``, ``timeout``,
    ``permission`` (a sensitive tool the caller may not run) or ``invalid_arguments``.
    """

    kind: Literal["status", "tool"]
    name: str
    title: str = ""
    state: Literal["fresh", "stale", "down", "failed", "timeout", "permission", "invalid_arguments"]
    as_of: datetime | None = None  # when the facts used were fetched (UTC)
    checked_at: datetime | None = None  # when the source was last asked (UTC)
    error: str = ""  # why it is not fresh

    @property
    def ok(self) -> bool:
        return self.state == "fresh"


class Answer(_Frozen):
    """A grounded answer to a customer's question."""

    text: str
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    abstained: bool = False
    actions: tuple[Action, ...] = ()
    question: str = ""
    query: str = ""
    backend: str = ""
    session_id: str | None = None
    usage: Usage | None = None
    guarded: bool = False  # the output guard withheld the model's text (it leaked the prompt or a secret)
    language: str = ""  # ISO 639-1 code of the question's language, which the assistant's own words use
    #: the live sources (status feeds, host-product tools) consulted for this answer, and how each fared
    live: tuple[LiveUse, ...] = ()


class GenerationSettings(BaseModel):
    """Per-call generation settings, merged over a backend's defaults.

    ``None`` means "use the backend's default".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    json_schema: dict[str, Any] | None = None
    # tools the model may call natively (OpenAI-compatible backends); see grokassist.tools
    tools: tuple[ToolSpec, ...] | None = None
    # "auto", "required", "none", or a tool's name (that tool must be called)
    tool_choice: str | None = None

    def merged_over(self, defaults: GenerationSettings) -> GenerationSettings:
        """These settings where set, else ``defaults``."""
        base = defaults.model_dump()
        base.update(self.model_dump(exclude_none=True))
        return GenerationSettings(**base)


class ChatRequest(BaseModel):
    """What the assistant asks of a backend.

    ``messages`` is the whole prompt in chat form (instructions, conversation,
    then the numbered sources and the question), what chat APIs are sent.
    ``instructions``, ``history``, ``question`` and ``passages`` are the same
    prompt in parts (:func:`grokassist.prompting.prompt_of`), from which local
    backends render and fit their own form, and which the extractive backend
    reads. Passage ``i`` is cited as ``[i+1]``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[Message, ...]
    question: str = ""
    passages: tuple[ScoredPassage, ...] = ()
    instructions: str = ""  # the system prompt, without the sources
    history: tuple[Message, ...] = ()  # earlier turns, already cut to the assistant's setting
    settings: GenerationSettings = GenerationSettings()
    language: str = ""  # the language to answer in (ISO 639-1; "" or the sources' language: no instruction)


class SyncReport(_Frozen):
    """What an ingest / incremental sync did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    skipped: tuple[tuple[str, str], ...] = ()  # (source, reason)
    #: (source, characters, reasons) of documents whose text hidden from readers
    #: (``display:none``, white on white, comments...) was left out of the index
    hidden_text: tuple[tuple[str, int, str], ...] = ()
    #: (source, reason) of documents found to address the assistant (planted instructions): indexed,
    #: never answered from (:mod:`grokassist.guard.injection`)
    flagged: tuple[tuple[str, str], ...] = ()
    #: sources of the documents ingested as ``community`` (grokassist.trust): never stated as fact
    community: tuple[str, ...] = ()

    @property
    def total_changed(self) -> int:
        return self.added + self.updated + self.deleted
