"""What the service keeps: answers, the feedback on them, and the escalation outbox.

One SQLite file (``<data dir>/server/grokassist-server.sqlite3``, WAL mode):

* ``answers``: every answer served (id, client, session, question, answer JSON);
* ``feedback``: one row per rated answer (helpful, comment), joined to its answer;
* ``escalations``: the outbox of conversations handed to a human, ``status``
  ``pending`` until a ticketing adapter delivers them (:meth:`ServerStore.pending_escalations`,
  :meth:`ServerStore.mark_escalation`).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..errors import ConfigurationError
from ..types import Answer, Message

__all__ = ["Escalation", "ServerStore"]

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
"""


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


class ServerStore:
    """Thread-safe access to the service's SQLite file."""

    FILENAME = "grokassist-server.sqlite3"

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / self.FILENAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the server store {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- answers and feedback ---------------------------------------------------------

    def add_answer(self, client: str, answer: Answer) -> str:
        """Record an answer served to ``client``; returns its id."""
        answer_id = "ans_" + secrets.token_urlsafe(16)
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
        """The client an answer was served to, or ``None`` for an unknown id."""
        rows = self._run("SELECT client FROM answers WHERE id = ?", (answer_id,))
        return str(rows[0][0]) if rows else None

    def set_feedback(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        """Store (or replace) the rating of an answer."""
        self._run(
            "INSERT INTO feedback VALUES (?, ?, ?, ?, ?) ON CONFLICT(answer_id) DO UPDATE SET "
            "created = excluded.created, helpful = excluded.helpful, comment = excluded.comment",
            (answer_id, time.time(), client, int(helpful), comment),
        )

    def feedback(self, answer_id: str) -> dict[str, Any] | None:
        """A rating with the answer it rates, or ``None``."""
        rows = self._run(
            "SELECT f.helpful, f.comment, a.question, a.text, a.answer_json FROM feedback f "
            "JOIN answers a ON a.id = f.answer_id WHERE f.answer_id = ?",
            (answer_id,),
        )
        if not rows:
            return None
        helpful, comment, question, text, answer_json = rows[0]
        return {
            "answer_id": answer_id,
            "helpful": bool(helpful),
            "comment": comment,
            "question": question,
            "text": text,
            "answer": json.loads(answer_json),
        }

    # -- the escalation outbox ----------------------------------------------------------

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
        escalation_id = "esc_" + secrets.token_hex(8)
        payload = json.dumps([m.model_dump() for m in transcript])
        self._run(
            "INSERT INTO escalations (id, created, client, session_id, answer_id, reason, contact, "
            "transcript_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (escalation_id, time.time(), client, session_id, answer_id, reason, contact, payload),
        )
        return escalation_id

    def pending_escalations(self, limit: int = 100) -> list[Escalation]:
        """Escalations not yet delivered, oldest first."""
        return self._escalations("WHERE status = 'pending' ORDER BY created LIMIT ?", (limit,))

    def escalation(self, escalation_id: str) -> Escalation | None:
        found = self._escalations("WHERE id = ?", (escalation_id,))
        return found[0] if found else None

    def mark_escalation(self, escalation_id: str, status: str, ref: str | None = None) -> None:
        """Record delivery (``status="delivered"``, ``ref`` = the ticket id) or failure."""
        self._run(
            "UPDATE escalations SET status = ?, delivered_ref = ? WHERE id = ?", (status, ref, escalation_id)
        )

    def _escalations(self, where: str, params: tuple[Any, ...]) -> list[Escalation]:
        rows = self._run(
            "SELECT id, created, client, session_id, answer_id, reason, contact, transcript_json, status "
            f"FROM escalations {where}",
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
                transcript=[Message.model_validate(m) for m in json.loads(r[7])],
                status=r[8],
            )
            for r in rows
        ]
