"""What the service keeps per conversation, in a store that its workers can share.

:class:`ServerStore` is the contract; :func:`open_store` picks an implementation by
URL (``GROKASSIST_SERVER_STORE_URL``):

* ``sqlite:`` (the default: ``<data dir>/server/grokassist-server.sqlite3``) or
  ``sqlite:///path/to/file.sqlite3`` — :class:`SqliteStore`, one file that the workers
  on one host share (WAL mode, a busy timeout, write transactions taken up front);
* ``redis://host:6379/0`` (or ``rediss://``) — :class:`~grokassist.server.redis_store.RedisStore`,
  for replicas on several hosts;
* ``memory:`` — :class:`MemoryStore`, this process only (one worker; lost on restart).

Every store keeps:

* conversation history, as ``store.conversations`` (a :class:`~grokassist.sessions.ConversationStore`:
  at most ``max_messages`` per session, the least recently used dropped past ``max_sessions``);
* session ownership: server-issued ids bound to the client that created them, expiring after
  ``ttl_s`` idle or evicted oldest-first past ``max_sessions``, their history with them;
* the answers served, the feedback on them, and the escalation outbox (``pending`` until a
  ticketing adapter delivers them: :meth:`~ServerStore.pending_escalations`,
  :meth:`~ServerStore.mark_escalation`);

and hands out the rate limiter (:meth:`~ServerStore.rate_limiter`): per process, except with
Redis, where the buckets are shared by every replica. A store that fails or cannot be reached
raises :class:`~grokassist.errors.SessionStoreError`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from ..errors import ConfigurationError, SessionStoreError
from ..sessions import ConversationStore, SessionStore
from ..types import Answer, Message
from .security import Limiter, RateLimiter, SessionRegistry

__all__ = ["Escalation", "MemoryStore", "ServerStore", "SqliteStore", "open_store"]

T = TypeVar("T")

DAY = 24 * 3600.0


class Escalation(BaseModel):
    """A conversation handed to a human, waiting in the outbox."""

    model_config = ConfigDict(frozen=True)

    id: str
    created: float
    client: str
    session_id: str | None
    answer_id: str | None
    reason: str
    contact: str
    transcript: list[Message]
    status: str
    delivered_ref: str | None = None


class ServerStore(Protocol):
    """The per-conversation state of the service (see the module docstring)."""

    #: ``"memory"``, ``"sqlite"`` or ``"redis"`` (reported by ``/readyz``).
    kind: str
    #: Conversation history; the app makes it its assistant's ``sessions``.
    conversations: ConversationStore

    def create_session(self, owner: str) -> str:
        """Issue a new session id (a 256-bit random token) for ``owner``."""
        ...

    def owns_session(self, session_id: str, owner: str) -> bool:
        """Whether ``session_id`` is live and ``owner``'s (and mark it used).

        The same answer for "not yours" and "does not exist".
        """
        ...

    def drop_session(self, session_id: str) -> None:
        """Forget a session and its history."""
        ...

    def add_answer(self, client: str, answer: Answer) -> str:
        """Record an answer served to ``client``; returns its id."""
        ...

    def answer_owner(self, answer_id: str) -> str | None:
        """The client an answer was served to, or ``None`` for an unknown id."""
        ...

    def set_feedback(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        """Store (or replace) the rating of an answer."""
        ...

    def feedback(self, answer_id: str) -> dict[str, Any] | None:
        """A rating with the answer it rates (``answer_id``, ``helpful``, ``comment``,
        ``question``, ``text``, ``answer``), or ``None``."""
        ...

    def add_escalation(
        self,
        client: str,
        transcript: list[Message],
        *,
        session_id: str | None,
        answer_id: str | None,
        reason: str,
        contact: str,
    ) -> str:
        """Queue a conversation for a human; returns the escalation id."""
        ...

    def pending_escalations(self, limit: int = 100) -> list[Escalation]:
        """Escalations not yet delivered, oldest first."""
        ...

    def escalation(self, escalation_id: str) -> Escalation | None:
        """One escalation, or ``None``."""
        ...

    def mark_escalation(self, escalation_id: str, status: str, ref: str | None = None) -> None:
        """Record delivery (``status="delivered"``, ``ref`` = the ticket id) or failure."""
        ...

    def rate_limiter(self, rate: float, burst: int) -> Limiter:
        """Token buckets (``rate`` per second, ``burst`` at once) as shared as this store is."""
        ...

    def ping(self) -> None:
        """Raise :class:`~grokassist.errors.SessionStoreError` unless the store answers."""
        ...

    def close(self) -> None:
        """Release connections (the data stays where it is)."""
        ...


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_answer_id() -> str:
    return "ans_" + secrets.token_urlsafe(16)


def new_escalation_id() -> str:
    return "esc_" + secrets.token_hex(8)


def feedback_view(
    answer_id: str, helpful: bool, comment: str, question: str, text: str, answer_json: str
) -> dict[str, Any]:
    """The dictionary :meth:`ServerStore.feedback` returns."""
    return {
        "answer_id": answer_id,
        "helpful": helpful,
        "comment": comment,
        "question": question,
        "text": text,
        "answer": json.loads(answer_json),
    }


def dump_messages(messages: list[Message]) -> str:
    return json.dumps([m.model_dump() for m in messages])


def load_messages(payload: str) -> list[Message]:
    return [Message.model_validate(m) for m in json.loads(payload)]


# -- in process -------------------------------------------------------------------------------


class MemoryStore:
    """Everything in this process's memory: one worker only, gone on restart.

    ``conversations`` defaults to a new :class:`~grokassist.sessions.SessionStore`; the app
    passes its assistant's, so that history stays where it always was. At most
    ``max_answers`` answers are kept (the oldest, with their feedback, are dropped).
    """

    kind = "memory"

    def __init__(
        self,
        *,
        ttl_s: float = DAY,
        max_sessions: int = 10_000,
        max_messages: int = 40,
        max_answers: int = 100_000,
        conversations: ConversationStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conversations: ConversationStore = (
            conversations
            if conversations is not None
            else SessionStore(max_sessions=max_sessions, max_messages=max_messages)
        )
        self._owners = SessionRegistry(
            ttl_s=ttl_s, max_sessions=max_sessions, on_expire=self.conversations.clear, clock=clock
        )
        self.max_answers = max_answers
        self._answers: OrderedDict[str, tuple[str, Answer]] = OrderedDict()
        self._feedback: dict[str, tuple[bool, str]] = {}
        self._escalations: dict[str, Escalation] = {}
        self._lock = threading.Lock()

    def create_session(self, owner: str) -> str:
        return self._owners.create(owner)

    def owns_session(self, session_id: str, owner: str) -> bool:
        return self._owners.lookup(session_id, owner)

    def drop_session(self, session_id: str) -> None:
        self._owners.drop(session_id)
        self.conversations.clear(session_id)

    def add_answer(self, client: str, answer: Answer) -> str:
        answer_id = new_answer_id()
        with self._lock:
            self._answers[answer_id] = (client, answer)
            while len(self._answers) > self.max_answers:
                dropped, _ = self._answers.popitem(last=False)
                self._feedback.pop(dropped, None)
        return answer_id

    def answer_owner(self, answer_id: str) -> str | None:
        with self._lock:
            found = self._answers.get(answer_id)
        return found[0] if found else None

    def set_feedback(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        with self._lock:
            if answer_id in self._answers:
                self._feedback[answer_id] = (helpful, comment)

    def feedback(self, answer_id: str) -> dict[str, Any] | None:
        with self._lock:
            rating, found = self._feedback.get(answer_id), self._answers.get(answer_id)
        if rating is None or found is None:
            return None
        answer = found[1]
        return feedback_view(
            answer_id, rating[0], rating[1], answer.question, answer.text, answer.model_dump_json()
        )

    def add_escalation(
        self,
        client: str,
        transcript: list[Message],
        *,
        session_id: str | None,
        answer_id: str | None,
        reason: str,
        contact: str,
    ) -> str:
        escalation = Escalation(
            id=new_escalation_id(),
            created=time.time(),
            client=client,
            session_id=session_id,
            answer_id=answer_id,
            reason=reason,
            contact=contact,
            transcript=list(transcript),
            status="pending",
        )
        with self._lock:
            self._escalations[escalation.id] = escalation
        return escalation.id

    def pending_escalations(self, limit: int = 100) -> list[Escalation]:
        with self._lock:
            pending = [e for e in self._escalations.values() if e.status == "pending"]
        return sorted(pending, key=lambda e: e.created)[:limit]

    def escalation(self, escalation_id: str) -> Escalation | None:
        with self._lock:
            return self._escalations.get(escalation_id)

    def mark_escalation(self, escalation_id: str, status: str, ref: str | None = None) -> None:
        with self._lock:
            found = self._escalations.get(escalation_id)
            if found is not None:
                update = {"status": status, "delivered_ref": ref}
                self._escalations[escalation_id] = found.model_copy(update=update)

    def rate_limiter(self, rate: float, burst: int) -> Limiter:
        return RateLimiter(rate, burst)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


# -- SQLite -----------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    client TEXT NOT NULL,
    session_id TEXT,
    question TEXT NOT NULL,
    text TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    confidence REAL NOT NULL,
    backend TEXT NOT NULL,
    answer_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY REFERENCES answers(id),
    created REAL NOT NULL,
    client TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS escalations (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    client TEXT NOT NULL,
    session_id TEXT,
    answer_id TEXT,
    reason TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    transcript_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    delivered_ref TEXT
);
CREATE INDEX IF NOT EXISTS escalations_status ON escalations(status, created);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_used ON sessions(used);
CREATE TABLE IF NOT EXISTS conversations (
    session_id TEXT PRIMARY KEY,
    used REAL NOT NULL,
    messages_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_used ON conversations(used);
"""


class SqliteStore:
    """One SQLite file, safe to share between the worker processes of one host.

    WAL mode lets readers run beside the writer; a busy timeout makes a writer wait for
    another process's write instead of failing; every read-modify-write takes the write
    lock up front (``BEGIN IMMEDIATE``), so two workers never lose each other's update.
    Times are wall-clock (``clock``), which every process on the host shares.
    """

    kind = "sqlite"
    FILENAME = "grokassist-server.sqlite3"

    def __init__(
        self,
        path: Path | str,
        *,
        ttl_s: float = DAY,
        max_sessions: int = 10_000,
        max_messages: int = 40,
        busy_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
            )
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SessionStoreError(f"cannot open the server store {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._writes = 0
        self.conversations: ConversationStore = _SqliteConversations(self, max_sessions, max_messages)

    #: Expiry and the count bound are enforced every this many session writes at most (not
    #: on each: the bound's ``ORDER BY ... OFFSET`` sorts the table, about 1 ms per request
    #: at 5,000 sessions), and at least every ``max_sessions // 100`` writes, so a table
    #: holds at most 1 % more rows than ``max_sessions``. Expired rows are never served.
    PRUNE_EVERY = 64

    def _prune_due(self) -> bool:
        """Whether this session write should also prune (call under ``_lock``, inside ``_write``)."""
        self._writes += 1
        every = max(1, min(self.PRUNE_EVERY, self.max_sessions // 100))
        return (self._writes - 1) % every == 0  # the first write, then every ``every``

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        self._run("SELECT count(*) FROM sessions WHERE 0")

    def rate_limiter(self, rate: float, burst: int) -> Limiter:
        return RateLimiter(rate, burst)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement (its own transaction)."""
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise SessionStoreError(f"the server store {self.path} failed: {exc}") from exc

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in one transaction that holds the write lock from the start."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    result = work(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                raise SessionStoreError(f"the server store {self.path} failed: {exc}") from exc

    # -- sessions --------------------------------------------------------------------------

    def create_session(self, owner: str) -> str:
        session_id = new_session_id()
        now = self._clock()

        def create(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (session_id, owner, now))
            if not self._prune_due():
                return
            stale = "SELECT id FROM sessions WHERE used < ?"
            db.execute(f"DELETE FROM conversations WHERE session_id IN ({stale})", (now - self.ttl_s,))
            db.execute("DELETE FROM sessions WHERE used < ?", (now - self.ttl_s,))
            over = "SELECT id FROM sessions ORDER BY used DESC LIMIT -1 OFFSET ?"
            db.execute(f"DELETE FROM conversations WHERE session_id IN ({over})", (self.max_sessions,))
            db.execute(f"DELETE FROM sessions WHERE id IN ({over})", (self.max_sessions,))

        self._write(create)
        return session_id

    def owns_session(self, session_id: str, owner: str) -> bool:
        now = self._clock()
        rows = self._run(
            "UPDATE sessions SET used = ? WHERE id = ? AND owner = ? AND used >= ? RETURNING 1",
            (now, session_id, owner, now - self.ttl_s),
        )
        return bool(rows)

    def drop_session(self, session_id: str) -> None:
        def drop(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            db.execute("DELETE FROM conversations WHERE session_id = ?", (session_id,))

        self._write(drop)

    # -- answers and feedback --------------------------------------------------------------

    def add_answer(self, client: str, answer: Answer) -> str:
        answer_id = new_answer_id()
        self._run(
            "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                answer_id,
                time.time(),
                client,
                answer.session_id,
                answer.question,
                answer.text,
                int(answer.abstained),
                answer.confidence,
                answer.backend,
                answer.model_dump_json(),
            ),
        )
        return answer_id

    def answer_owner(self, answer_id: str) -> str | None:
        rows = self._run("SELECT client FROM answers WHERE id = ?", (answer_id,))
        return str(rows[0][0]) if rows else None

    def set_feedback(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        self._run(
            "INSERT INTO feedback SELECT id, ?, ?, ?, ? FROM answers WHERE id = ? "
            "ON CONFLICT(answer_id) DO UPDATE SET "
            "created = excluded.created, helpful = excluded.helpful, comment = excluded.comment",
            (time.time(), client, int(helpful), comment, answer_id),
        )

    def feedback(self, answer_id: str) -> dict[str, Any] | None:
        rows = self._run(
            "SELECT f.helpful, f.comment, a.question, a.text, a.answer_json FROM feedback f "
            "JOIN answers a ON a.id = f.answer_id WHERE f.answer_id = ?",
            (answer_id,),
        )
        if not rows:
            return None
        helpful, comment, question, text, answer_json = rows[0]
        return feedback_view(answer_id, bool(helpful), comment, question, text, answer_json)

    # -- the escalation outbox -------------------------------------------------------------

    def add_escalation(
        self,
        client: str,
        transcript: list[Message],
        *,
        session_id: str | None,
        answer_id: str | None,
        reason: str,
        contact: str,
    ) -> str:
        escalation_id = new_escalation_id()
        self._run(
            "INSERT INTO escalations (id, created, client, session_id, answer_id, reason, contact, "
            "transcript_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                escalation_id,
                time.time(),
                client,
                session_id,
                answer_id,
                reason,
                contact,
                dump_messages(transcript),
            ),
        )
        return escalation_id

    def pending_escalations(self, limit: int = 100) -> list[Escalation]:
        return self._escalations("WHERE status = 'pending' ORDER BY created LIMIT ?", (limit,))

    def escalation(self, escalation_id: str) -> Escalation | None:
        found = self._escalations("WHERE id = ?", (escalation_id,))
        return found[0] if found else None

    def mark_escalation(self, escalation_id: str, status: str, ref: str | None = None) -> None:
        self._run(
            "UPDATE escalations SET status = ?, delivered_ref = ? WHERE id = ?", (status, ref, escalation_id)
        )

    def _escalations(self, where: str, params: tuple[Any, ...]) -> list[Escalation]:
        rows = self._run(
            "SELECT id, created, client, session_id, answer_id, reason, contact, transcript_json, status, "
            f"delivered_ref FROM escalations {where}",
            params,
        )
        return [
            Escalation(
                id=r[0],
                created=r[1],
                client=r[2],
                session_id=r[3],
                answer_id=r[4],
                reason=r[5],
                contact=r[6],
                transcript=load_messages(r[7]),
                status=r[8],
                delivered_ref=r[9],
            )
            for r in rows
        ]


class _SqliteConversations:
    """A :class:`~grokassist.sessions.ConversationStore` over the ``conversations`` table of a
    :class:`SqliteStore`.

    Histories idle for the store's ``ttl_s`` are dropped too (those of expired sessions).
    """

    def __init__(self, store: SqliteStore, max_sessions: int, max_messages: int) -> None:
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self._store = store

    def history(self, session_id: str) -> list[Message]:
        now = self._store._clock()
        rows = self._store._run(
            "UPDATE conversations SET used = ? WHERE session_id = ? AND used >= ? RETURNING messages_json",
            (now, session_id, now - self._store.ttl_s),
        )
        return load_messages(rows[0][0]) if rows else []

    def append(self, session_id: str, *messages: Message) -> None:
        now = self._store._clock()

        def append(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT messages_json FROM conversations WHERE session_id = ?", (session_id,)
            ).fetchone()
            history = [*(load_messages(row[0]) if row else []), *messages]
            history = history[max(0, len(history) - self.max_messages) :]
            db.execute(
                "INSERT OR REPLACE INTO conversations VALUES (?, ?, ?)",
                (session_id, now, dump_messages(history)),
            )
            if not self._store._prune_due():
                return
            db.execute("DELETE FROM conversations WHERE used < ?", (now - self._store.ttl_s,))
            db.execute(
                "DELETE FROM conversations WHERE session_id IN "
                "(SELECT session_id FROM conversations ORDER BY used DESC LIMIT -1 OFFSET ?)",
                (self.max_sessions,),
            )

        self._store._write(append)

    def clear(self, session_id: str) -> None:
        self._store._run("DELETE FROM conversations WHERE session_id = ?", (session_id,))

    def __contains__(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        rows = self._store._run(
            "SELECT 1 FROM conversations WHERE session_id = ? AND used >= ?",
            (session_id, self._store._clock() - self._store.ttl_s),
        )
        return bool(rows)

    def __len__(self) -> int:
        rows = self._store._run(
            "SELECT count(*) FROM conversations WHERE used >= ?",
            (self._store._clock() - self._store.ttl_s,),
        )
        return int(rows[0][0])


# -- choosing one -----------------------------------------------------------------------------

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
) -> ServerStore:
    """The store named by ``url`` (see the module docstring).

    ``folder`` holds the default SQLite file (default: ``<data dir>/server``);
    ``conversations`` is the history a ``memory:`` store keeps (the other stores ignore it).
    """
    kind = store_kind(url)
    if kind == "memory":
        return MemoryStore(
            ttl_s=ttl_s, max_sessions=max_sessions, max_messages=max_messages, conversations=conversations
        )
    if kind == "redis":
        from .redis_store import RedisStore

        assert url is not None
        return RedisStore(url.strip(), ttl_s=ttl_s, max_sessions=max_sessions, max_messages=max_messages)
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
