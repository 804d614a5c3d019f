"""Saved state in one SQLite file, safe to share between the worker processes of one host.

WAL mode lets readers run beside the writer; a busy timeout makes a writer wait for
another process's write instead of failing; every read-modify-write takes the write lock
up front (``BEGIN IMMEDIATE``), so two workers never lose each other's update and two
outbox workers never claim the same escalation. Times are wall-clock, which every
process on the host shares. Rate limits are per process (:class:`~.memory.LocalRateLimits`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import SessionStoreError
from ..types import Answer, Message
from . import base
from ._outbox import RecordOutbox
from .base import DAY, ConversationStore, Escalation, EscalationStatus, Feedback
from .memory import LocalRateLimits

__all__ = ["SqliteAnswers", "SqliteConversations", "SqliteOutbox", "SqliteSessions", "SqliteStore"]

T = TypeVar("T")

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
CREATE INDEX IF NOT EXISTS answers_session ON answers(session_id, created);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY REFERENCES answers(id),
    created REAL NOT NULL,
    client TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    claimable_at REAL,
    holds TEXT,
    ticket_open INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(claimable_at) WHERE claimable_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_holds ON outbox(holds) WHERE holds IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_open ON outbox(created) WHERE ticket_open = 1;
CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, created);
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


def dump_messages(messages: list[Message]) -> str:
    return json.dumps([m.model_dump(exclude_defaults=True) for m in messages])


def load_messages(payload: str) -> list[Message]:
    return [Message.model_validate(m) for m in json.loads(payload)]


class SqliteStore:
    """One SQLite file: every concern in its own tables, one connection, one lock."""

    kind = "sqlite"
    FILENAME = "grokassist-server.sqlite3"

    #: Expiry and the count bound are enforced every this many session writes at most (not
    #: on each: the bound's ``ORDER BY ... OFFSET`` sorts the table, about 1 ms per request
    #: at 5,000 sessions), and at least every ``max_sessions // 100`` writes, so a table
    #: holds at most 1 % more rows than ``max_sessions``. Expired rows are never served.
    PRUNE_EVERY = 64

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
        self.conversations: ConversationStore = SqliteConversations(self, max_sessions, max_messages)
        self.sessions = SqliteSessions(self)
        self.answers = SqliteAnswers(self)
        self.outbox = SqliteOutbox(self)
        self.limits = LocalRateLimits()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        self._run("SELECT count(*) FROM sessions WHERE 0")

    def now(self) -> float:
        return self._clock()

    def _prune_due(self) -> bool:
        """Whether this session write should also prune (call inside ``_write``)."""
        self._writes += 1
        every = max(1, min(self.PRUNE_EVERY, self.max_sessions // 100))
        return (self._writes - 1) % every == 0  # the first write, then every ``every``

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


class SqliteSessions:
    """Session ownership in the ``sessions`` table; dropping one deletes its conversation."""

    def __init__(self, db: SqliteStore) -> None:
        self._db = db

    def create(self, owner: str) -> str:
        session_id = base.new_session_id()
        db, now = self._db, self._db.now()

        def create(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?)", (session_id, owner, now))
            if not db._prune_due():
                return
            stale = "SELECT id FROM sessions WHERE used < ?"
            conn.execute(f"DELETE FROM conversations WHERE session_id IN ({stale})", (now - db.ttl_s,))
            conn.execute("DELETE FROM sessions WHERE used < ?", (now - db.ttl_s,))
            over = "SELECT id FROM sessions ORDER BY used DESC LIMIT -1 OFFSET ?"
            conn.execute(f"DELETE FROM conversations WHERE session_id IN ({over})", (db.max_sessions,))
            conn.execute(f"DELETE FROM sessions WHERE id IN ({over})", (db.max_sessions,))

        db._write(create)
        return session_id

    def owns(self, session_id: str, owner: str) -> bool:
        now = self._db.now()
        rows = self._db._run(
            "UPDATE sessions SET used = ? WHERE id = ? AND owner = ? AND used >= ? RETURNING 1",
            (now, session_id, owner, now - self._db.ttl_s),
        )
        return bool(rows)

    def drop(self, session_id: str) -> None:
        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            conn.execute("DELETE FROM conversations WHERE session_id = ?", (session_id,))

        self._db._write(drop)


class SqliteConversations:
    """Conversation history in the ``conversations`` table (one JSON list per session).

    Histories idle for the store's ``ttl_s`` are dropped too (those of expired sessions).
    """

    def __init__(self, db: SqliteStore, max_sessions: int, max_messages: int) -> None:
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self._db = db

    def history(self, session_id: str) -> list[Message]:
        now = self._db.now()
        rows = self._db._run(
            "UPDATE conversations SET used = ? WHERE session_id = ? AND used >= ? RETURNING messages_json",
            (now, session_id, now - self._db.ttl_s),
        )
        return load_messages(rows[0][0]) if rows else []

    def append(self, session_id: str, *messages: Message) -> None:
        db, now = self._db, self._db.now()

        def append(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT messages_json FROM conversations WHERE session_id = ?", (session_id,)
            ).fetchone()
            history = [*(load_messages(row[0]) if row else []), *messages]
            history = history[max(0, len(history) - self.max_messages) :]
            conn.execute(
                "INSERT OR REPLACE INTO conversations VALUES (?, ?, ?)",
                (session_id, now, dump_messages(history)),
            )
            if not db._prune_due():
                return
            conn.execute("DELETE FROM conversations WHERE used < ?", (now - db.ttl_s,))
            conn.execute(
                "DELETE FROM conversations WHERE session_id IN "
                "(SELECT session_id FROM conversations ORDER BY used DESC LIMIT -1 OFFSET ?)",
                (self.max_sessions,),
            )

        db._write(append)

    def clear(self, session_id: str) -> None:
        self._db._run("DELETE FROM conversations WHERE session_id = ?", (session_id,))

    def __contains__(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        rows = self._db._run(
            "SELECT 1 FROM conversations WHERE session_id = ? AND used >= ?",
            (session_id, self._db.now() - self._db.ttl_s),
        )
        return bool(rows)

    def __len__(self) -> int:
        rows = self._db._run(
            "SELECT count(*) FROM conversations WHERE used >= ?", (self._db.now() - self._db.ttl_s,)
        )
        return int(rows[0][0])


class SqliteAnswers:
    """Answers and feedback in the ``answers`` and ``feedback`` tables (kept)."""

    def __init__(self, db: SqliteStore) -> None:
        self._db = db

    def add(self, client: str, answer: Answer) -> str:
        answer_id = base.new_answer_id()
        self._db._run(
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

    def owner(self, answer_id: str) -> str | None:
        rows = self._db._run("SELECT client FROM answers WHERE id = ?", (answer_id,))
        return str(rows[0][0]) if rows else None

    def get(self, answer_id: str) -> Answer | None:
        rows = self._db._run("SELECT answer_json FROM answers WHERE id = ?", (answer_id,))
        return Answer.model_validate_json(rows[0][0]) if rows else None

    def recent(self, session_id: str, limit: int = 10) -> list[Answer]:
        rows = self._db._run(
            "SELECT answer_json FROM answers WHERE session_id = ? ORDER BY created DESC, rowid DESC LIMIT ?",
            (session_id, limit),
        )
        return [Answer.model_validate_json(r[0]) for r in rows]

    def rate(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        self._db._run(
            "INSERT INTO feedback SELECT id, ?, ?, ?, ? FROM answers WHERE id = ? "
            "ON CONFLICT(answer_id) DO UPDATE SET "
            "created = excluded.created, helpful = excluded.helpful, comment = excluded.comment",
            (time.time(), client, int(helpful), comment, answer_id),
        )

    def feedback(self, answer_id: str) -> Feedback | None:
        rows = self._db._run(
            "SELECT f.helpful, f.comment, a.answer_json FROM feedback f "
            "JOIN answers a ON a.id = f.answer_id WHERE f.answer_id = ?",
            (answer_id,),
        )
        if not rows:
            return None
        helpful, comment, answer_json = rows[0]
        answer = Answer.model_validate_json(answer_json)
        return Feedback(answer_id=answer_id, helpful=bool(helpful), comment=comment, answer=answer)


class SqliteOutbox(RecordOutbox):
    """The outbox in the ``outbox`` table: the record as JSON beside the columns it is found by."""

    def __init__(self, db: SqliteStore) -> None:
        super().__init__(db.now)
        self._db = db

    @staticmethod
    def _row(e: Escalation) -> tuple[Any, ...]:
        holds = e.session_id if e.holds_conversation else None
        return (e.status, e.claimable_at, holds, int(e.ticket_open), e.model_dump_json(), e.id)

    def _insert(self, escalation: Escalation) -> None:
        self._db._run(
            "INSERT INTO outbox (status, claimable_at, holds, ticket_open, data, id, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*self._row(escalation), escalation.created),
        )

    def _change(
        self, escalation_id: str, change: Callable[[Escalation], Escalation | None]
    ) -> Escalation | None:
        def work(conn: sqlite3.Connection) -> Escalation | None:
            row = conn.execute("SELECT data FROM outbox WHERE id = ?", (escalation_id,)).fetchone()
            changed = change(Escalation.model_validate_json(row[0])) if row else None
            if changed is not None:
                conn.execute(
                    "UPDATE outbox SET status = ?, claimable_at = ?, holds = ?, ticket_open = ?, data = ? "
                    "WHERE id = ?",
                    self._row(changed),
                )
            return changed

        return self._db._write(work)

    def get(self, escalation_id: str) -> Escalation | None:
        rows = self._db._run("SELECT data FROM outbox WHERE id = ?", (escalation_id,))
        return Escalation.model_validate_json(rows[0][0]) if rows else None

    def _due(self, now: float, limit: int) -> list[str]:
        rows = self._db._run(
            "SELECT id FROM outbox WHERE claimable_at IS NOT NULL AND claimable_at <= ? "
            "ORDER BY claimable_at, created LIMIT ?",
            (now, limit),
        )
        return [r[0] for r in rows]

    def _holding(self, session_id: str) -> str | None:
        rows = self._db._run(
            "SELECT id FROM outbox WHERE holds = ? ORDER BY created DESC LIMIT 1", (session_id,)
        )
        return str(rows[0][0]) if rows else None

    def _select(self, status: EscalationStatus | None, open_tickets: bool, limit: int) -> list[Escalation]:
        where, params = ("WHERE ticket_open = 1", []) if open_tickets else ("", [])
        if status is not None:
            where, params = "WHERE status = ?", [status]
        rows = self._db._run(f"SELECT data FROM outbox {where} ORDER BY created LIMIT ?", (*params, limit))
        return [Escalation.model_validate_json(r[0]) for r in rows]
