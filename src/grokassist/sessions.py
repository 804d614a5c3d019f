"""Conversation sessions, bounded in count and length.

:class:`ConversationStore` is what the assistant needs of them; :class:`SessionStore`
keeps them in this process's memory, and the HTTP service's stores
(:mod:`grokassist.server.store`) keep them in SQLite or Redis, shared by its workers
and replicas.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol, runtime_checkable

from .types import Message

__all__ = ["ConversationStore", "SessionStore"]


@runtime_checkable
class ConversationStore(Protocol):
    """Conversation history per session id, bounded to ``max_messages`` per session."""

    max_messages: int

    def history(self, session_id: str) -> list[Message]:
        """A copy of the session's messages (empty for an unknown session)."""
        ...

    def append(self, session_id: str, *messages: Message) -> None:
        """Add messages to a session, creating it if needed."""
        ...

    def clear(self, session_id: str) -> None:
        """Forget a session."""
        ...

    def __contains__(self, session_id: object) -> bool: ...

    def __len__(self) -> int: ...


class SessionStore:
    """Conversation history per session id; least recently used sessions are evicted."""

    def __init__(self, *, max_sessions: int = 10_000, max_messages: int = 40) -> None:
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self._data: OrderedDict[str, list[Message]] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, session_id: str) -> list[Message]:
        """A copy of the session's messages (empty for an unknown session)."""
        with self._lock:
            messages = self._data.get(session_id)
            if messages is None:
                return []
            self._data.move_to_end(session_id)
            return list(messages)

    def append(self, session_id: str, *messages: Message) -> None:
        """Add messages to a session, creating it if needed."""
        with self._lock:
            history = self._data.setdefault(session_id, [])
            history.extend(messages)
            del history[: max(0, len(history) - self.max_messages)]
            self._data.move_to_end(session_id)
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)

    def clear(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock:
            self._data.pop(session_id, None)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
