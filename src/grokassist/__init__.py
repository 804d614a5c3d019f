"""grokassist: customer-support assistants grounded in your support docs."""

from __future__ import annotations

from .errors import (
    BackendConnectionError,
    BackendError,
    BackendStatusError,
    BackendTimeoutError,
    ConfigurationError,
    ContextLengthError,
    DocumentError,
    GrokAssistError,
    IngestionError,
    MissingDependencyError,
    RateLimitError,
    RetrievalError,
    StoreError,
    UnknownBackendError,
)
from .types import Action, Answer, Chunk, Citation, Document, DocumentHit, Message, Passage, ScoredPassage, SyncReport, Usage

__version__ = "0.1.0"
