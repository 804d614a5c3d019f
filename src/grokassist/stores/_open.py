"""Choosing a store by URL."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigurationError
from .base import DAY, ConversationStore, Store

__all__ = ["STORE_SCHEMES", "open_store", "store_kind"]

STORE_SCHEMES = ("memory:", "sqlite:", "redis://", "rediss://")


def store_kind(url: str | None) -> str:
    """``"memory"``, ``"sqlite"`` or ``"redis"`` for a store URL (``None``: the SQLite default)."""
    url = (url or "sqlite:").strip().lower()
    if url.startswith("memory:"):
        return "memory"
    if url.startswith("sqlite:"):
        return "sqlite"
    if url.startswith(("redis://", "rediss://")):
        return "redis"
    scheme = url.partition(":")[0]
    raise ConfigurationError(
        f"unknown store URL scheme {scheme!r}: use memory:, sqlite:, sqlite:///path/to/file.sqlite3 "
        "or redis://host:6379/0"
    )


def open_store(
    url: str | None = None,
    *,
    folder: Path | None = None,
    ttl_s: float = DAY,
    max_sessions: int = 10_000,
    max_messages: int = 40,
    conversations: ConversationStore | None = None,
) -> Store:
    """The store named by ``url`` (see :mod:`grokassist.stores`).

    ``folder`` holds the default SQLite file (default: ``<data dir>/server``);
    ``conversations`` is the history a ``memory:`` store keeps (the other stores ignore it).
    """
    kind = store_kind(url)
    if kind == "memory":
        from .memory import MemoryStore

        return MemoryStore(
            ttl_s=ttl_s, max_sessions=max_sessions, max_messages=max_messages, conversations=conversations
        )
    if kind == "redis":
        from .redis import RedisStore

        assert url is not None
        return RedisStore(url.strip(), ttl_s=ttl_s, max_sessions=max_sessions, max_messages=max_messages)
    from .sqlite import SqliteStore

    rest = (url or "sqlite:").strip()[len("sqlite:") :]
    rest = rest[2:] if rest.startswith("//") else rest
    if rest:
        path = Path(rest).expanduser()
        if path.is_dir():
            path = path / SqliteStore.FILENAME
    else:
        if folder is None:
            from ..config import load_settings

            folder = load_settings().data_dir / "server"
        path = Path(folder) / SqliteStore.FILENAME
    return SqliteStore(path, ttl_s=ttl_s, max_sessions=max_sessions, max_messages=max_messages)
