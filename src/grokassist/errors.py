"""The grokassist exception tree.

Every error raised by grokassist derives from :class:`GrokAssistError`, so one
``except GrokAssistError`` catches them all. Third-party errors are translated
once, at the boundary, with ``raise ... from exc``::

    GrokAssistError
    ├── ConfigurationError
    │   ├── MissingDependencyError      an optional extra is not installed
    │   └── UnknownBackendError         a backend URI names nothing registered
    ├── IngestionError                  (raised only when nothing could be ingested)
    │   ├── DocumentError               one bad document: which file, why
    │   └── ConnectorError              a help centre or website failed (HTTP status, auth, robots.txt)
    ├── RetrievalError
    │   ├── EmbeddingError              the embedding model failed or is missing
    │   │   └── EmbedderMismatchError   a knowledge base's vectors come from another model
    │   ├── StoreError                  the vector store failed or is unreachable
    │   └── KnowledgeBaseNotFoundError
    ├── SessionStoreError               the server's session/feedback store failed (Redis down, SQLite locked)
    ├── ToolError                       a tool call was refused or failed (unknown tool, bad arguments,
    │                                   permission, timeout)
    ├── LiveDataError                   a live status source failed (unreachable, bad response); the
    │                                   assistant says so in its answer instead of raising
    ├── BackendError                    a model backend failed
    │   ├── BackendConnectionError      could not connect
    │   ├── BackendTimeoutError         no answer within the timeout
    │   ├── BackendStatusError          HTTP error status (status, body, retry_after)
    │   │   └── RateLimitError          429
    │   ├── ContextLengthError          the prompt cannot fit the context window
    │   └── StructuredOutputError       the output did not match the JSON schema
    └── AdapterError
        ├── TicketingError              a ticketing system failed (system, status, body, retry_after)
        │   ├── TicketingAuthError      401/403: credentials wrong, missing or without the right
        │   ├── TicketNotFoundError     404: no such ticket
        │   ├── TicketingValidationError  400/409/422: the system refused the request's content
        │   ├── TicketingRateLimitError 429 (retry_after)
        │   └── TicketingUnavailableError  5xx, refused connection, timeout (retry_after if sent)
        └── RobotError                  robot runtime / action safety errors
"""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "BackendConnectionError",
    "BackendError",
    "BackendStatusError",
    "BackendTimeoutError",
    "ConfigurationError",
    "ConnectorError",
    "ContextLengthError",
    "DocumentError",
    "EmbedderMismatchError",
    "EmbeddingError",
    "GrokAssistError",
    "IngestionError",
    "KnowledgeBaseNotFoundError",
    "LiveDataError",
    "MissingDependencyError",
    "RateLimitError",
    "RetrievalError",
    "RobotError",
    "SessionStoreError",
    "StoreError",
    "StructuredOutputError",
    "TicketNotFoundError",
    "TicketingAuthError",
    "TicketingError",
    "TicketingRateLimitError",
    "TicketingUnavailableError",
    "TicketingValidationError",
    "ToolError",
    "UnknownBackendError",
]


class GrokAssistError(Exception):
    """Root of every error raised by grokassist."""


class ConfigurationError(GrokAssistError):
    """Invalid settings, or a component that cannot be set up."""


class MissingDependencyError(ConfigurationError):
    """An optional dependency is missing; the message carries the pip command."""

    def __init__(
        self, package: str, extra: str, feature: str | None = None, *, install_command: str | None = None
    ) -> None:
        self.package = package
        self.extra = extra
        what = feature or package
        self.install_command = install_command or f'pip install "grokassist[{extra}]"'
        super().__init__(
            f"{what} needs the optional dependency {package!r}; install it with: {self.install_command}"
        )


class UnknownBackendError(ConfigurationError):
    """A backend URI names a scheme that no installed backend provides."""


class IngestionError(GrokAssistError):
    """Ingestion failed as a whole."""


class DocumentError(IngestionError):
    """One document could not be ingested; carries the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class ConnectorError(IngestionError):
    """A help centre or website could not be read; ``status_code`` is its HTTP status, if any.

    Messages never contain credentials.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class RetrievalError(GrokAssistError):
    """Retrieval failed."""


class EmbeddingError(RetrievalError):
    """The embedding model failed to load or run."""


class EmbedderMismatchError(EmbeddingError):
    """The knowledge base was embedded with another model than the one configured (re-ingest it)."""


class StoreError(RetrievalError):
    """The vector store failed or cannot be reached."""


class KnowledgeBaseNotFoundError(RetrievalError):
    """No knowledge base of that name exists."""


class SessionStoreError(GrokAssistError):
    """The store of the server's sessions, answers and feedback failed or cannot be reached.

    The HTTP service answers it with 503 (``store_unavailable``) and reports it in ``/readyz``.
    """


class ToolError(GrokAssistError):
    """A tool call was refused or failed; ``tool`` names it, ``reason`` says why in a word.

    Reasons: ``unknown_tool``, ``invalid_arguments``, ``permission``, ``timeout``, ``failed``.
    """

    def __init__(self, message: str, *, tool: str = "", reason: str = "failed") -> None:
        self.tool = tool
        self.reason = reason
        super().__init__(message)


class LiveDataError(GrokAssistError):
    """A live status source could not be read; ``source`` names it."""

    def __init__(self, message: str, *, source: str = "") -> None:
        self.source = source
        super().__init__(message)


class BackendError(GrokAssistError):
    """A model backend failed to produce an answer."""

    def __init__(self, message: str, *, backend: str | None = None) -> None:
        self.backend = backend
        super().__init__(message)


class BackendConnectionError(BackendError):
    """The backend could not be reached."""


class BackendTimeoutError(BackendError):
    """The backend did not answer within the configured timeout."""


class BackendStatusError(BackendError):
    """The backend answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        retry_after: float | None = None,
        backend: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after
        super().__init__(f"{message} (HTTP {status_code}): {body[:500]}", backend=backend)


class RateLimitError(BackendStatusError):
    """The backend answered 429 Too Many Requests."""


class ContextLengthError(BackendError):
    """The prompt cannot fit the model's context window."""


class StructuredOutputError(BackendError):
    """The model output does not validate against the requested JSON schema."""


class AdapterError(GrokAssistError):
    """An adapter (ticketing, robot) failed."""


class TicketingError(AdapterError):
    """A ticketing system failed or is unreachable.

    ``retryable`` says whether trying again later may succeed (rate limits, outages); the outbox
    waits at least ``retry_after`` seconds when the system said how long.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        status_code: int | None = None,
        body: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.system = system
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after
        where = f"{system}: " if system else ""
        status = f" (HTTP {status_code})" if status_code is not None else ""
        detail = f": {body[:500]}" if body else ""
        super().__init__(f"{where}{message}{status}{detail}")


class TicketingAuthError(TicketingError):
    """The system refused the credentials, or the user lacks a right (401, 403)."""


class TicketNotFoundError(TicketingError):
    """No such ticket, or not one these credentials can see (404)."""


class TicketingValidationError(TicketingError):
    """The system refused the request's content (400, 409, 422); sending it again will not help."""


class TicketingRateLimitError(TicketingError):
    """Too many requests (429); ``retry_after`` says how long the system asked to wait."""

    retryable = True


class TicketingUnavailableError(TicketingError):
    """The system is down, overloaded or unreachable (5xx, refused connection, timeout)."""

    retryable = True


class RobotError(AdapterError):
    """The robot runtime failed or refused an action."""
