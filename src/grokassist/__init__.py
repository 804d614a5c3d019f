"""grokassist: customer-support assistants grounded in your support docs.

>>> from grokassist import Assistant, KnowledgeBase      # doctest: +SKIP
>>> kb = KnowledgeBase("starlink")                        # doctest: +SKIP
>>> kb.ingest("examples/starlink/docs")                   # doctest: +SKIP
>>> Assistant(kb).ask("How do I fix an obstruction?")     # doctest: +SKIP

``Assistant`` and ``KnowledgeBase`` are imported on first use so that
``import grokassist`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backends.base import ChatBackend, ChatRequest, Completion, GenerationSettings
from .config import Settings, load_settings
from .errors import (
    AdapterError,
    BackendConnectionError,
    BackendError,
    BackendStatusError,
    BackendTimeoutError,
    ConfigurationError,
    ConnectorError,
    ContextLengthError,
    DocumentError,
    EmbeddingError,
    GrokAssistError,
    IngestionError,
    KnowledgeBaseNotFoundError,
    MissingDependencyError,
    RateLimitError,
    RetrievalError,
    RobotError,
    SessionStoreError,
    StoreError,
    StructuredOutputError,
    TicketingError,
    ToolError,
    UnknownBackendError,
)
from .types import (
    Action,
    Answer,
    Chunk,
    Citation,
    Document,
    DocumentHit,
    Message,
    Passage,
    ScoredPassage,
    SyncReport,
    ToolCall,
    ToolSpec,
    Usage,
)

if TYPE_CHECKING:
    from .assistant import Assistant
    from .knowledge import KnowledgeBase

__version__ = "0.1.0"

__all__ = [
    "Action",
    "AdapterError",
    "Answer",
    "Assistant",
    "BackendConnectionError",
    "BackendError",
    "BackendStatusError",
    "BackendTimeoutError",
    "ChatBackend",
    "ChatRequest",
    "Chunk",
    "Citation",
    "Completion",
    "ConfigurationError",
    "ConnectorError",
    "ContextLengthError",
    "Document",
    "DocumentError",
    "DocumentHit",
    "EmbeddingError",
    "GenerationSettings",
    "GrokAssistError",
    "IngestionError",
    "KnowledgeBase",
    "KnowledgeBaseNotFoundError",
    "Message",
    "MissingDependencyError",
    "Passage",
    "RateLimitError",
    "RetrievalError",
    "RobotError",
    "ScoredPassage",
    "SessionStoreError",
    "Settings",
    "StoreError",
    "StructuredOutputError",
    "SyncReport",
    "TicketingError",
    "ToolCall",
    "ToolError",
    "ToolSpec",
    "UnknownBackendError",
    "Usage",
    "__version__",
    "load_settings",
]

_LAZY = {"Assistant": "assistant", "KnowledgeBase": "knowledge"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grokassist' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
