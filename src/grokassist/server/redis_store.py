"""The Redis store: sessions, history, answers, feedback and rate limits shared by replicas.

Needs the ``redis`` client (``pip install "grokassist[server]"``) and one Redis server
(a standalone or Sentinel-managed primary; not Redis Cluster: scripts touch keys they
compute). Keys start with ``prefix`` (default ``grokassist:``):

============================  =========================================================
``owner:<session>``           the client that owns a session (expires after ``ttl_s`` idle)
``owners``                    sorted set of sessions by last use (for ``max_sessions``)
``history:<session>``         list of messages, JSON, the last ``max_messages`` (``ttl_s``)
``histories``                 sorted set of histories by last use (for ``max_sessions``)
``answer:<id>``               hash: an answer served (expires after ``answer_ttl_s`` unless rated)
``feedback:<answer id>``      hash: its rating (kept)
``escalation:<id>``           hash: a conversation handed to a human (kept)
``escalations:pending``       sorted set of pending escalations by creation time
``rate:<client>``             hash: a token bucket (expires once full again)
============================  =========================================================

Times come from the Redis server (``TIME``) so replicas with skewed clocks agree. Every
Redis failure is raised as :class:`~grokassist.errors.SessionStoreError`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._optional import require
from ..errors import SessionStoreError
from ..sessions import ConversationStore
from ..types import Answer, Message
from .security import Limiter
from .store import (
    DAY,
    Escalation,
    dump_messages,
    feedback_view,
    load_messages,
    new_answer_id,
    new_escalation_id,
    new_session_id,
)

require("redis", extra="server", feature="the Redis store (GROKASSIST_SERVER_STORE_URL=redis://...)")

import redis  # noqa: E402
from redis.backoff import ExponentialBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402
from redis.typing import EncodableT, FieldT  # noqa: E402

__all__ = ["RedisRateLimiter", "RedisStore"]

# Server time: seconds and microseconds as one number of microseconds.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"

# Evict the least recently used members of sorted set KEYS[k] past a count, with their keys.
_EVICT = """
local function evict(index, max, keys_of)
  local over = redis.call('ZCARD', index) - max
  if over > 0 then
    local old = redis.call('ZRANGE', index, 0, over - 1)
    redis.call('ZREMRANGEBYRANK', index, 0, over - 1)
    for _, id in ipairs(old) do
      for _, key in ipairs(keys_of(id)) do redis.call('DEL', key) end
    end
  end
end
"""

# KEYS: owner key, owners; ARGV: owner, ttl (µs), session id, max sessions, prefix
_CREATE_SESSION = (
    _NOW
    + _EVICT
    + """
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', math.ceil(ttl / 1000))
redis.call('ZADD', KEYS[2], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local p = ARGV[5]
evict(KEYS[2], tonumber(ARGV[4]), function(id)
  redis.call('ZREM', p .. 'histories', id)
  return {p .. 'owner:' .. id, p .. 'history:' .. id}
end)
return 1
"""
)

# KEYS: owner key, owners, history key; ARGV: owner, ttl (µs), session id
_OWNS_SESSION = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = math.ceil(tonumber(ARGV[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[3])
return 1
"""

# KEYS: history key, histories; ARGV: ttl (µs), session id
_HISTORY = (
    _NOW
    + """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
if #items > 0 then
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) / 1000))
  redis.call('ZADD', KEYS[2], now, ARGV[2])
end
return items
"""
)

# KEYS: history key, histories; ARGV: ttl (µs), max messages, max sessions, session id, prefix, messages...
_APPEND = (
    _NOW
    + _EVICT
    + """
local ttl = tonumber(ARGV[1])
for i = 6, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000))
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local p = ARGV[5]
evict(KEYS[2], tonumber(ARGV[3]), function(id) return {p .. 'history:' .. id} end)
return 1
"""
)

# KEYS: histories; ARGV: ttl (µs)
_COUNT = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
return redis.call('ZCARD', KEYS[1])
"""
)

# KEYS: bucket; ARGV: rate (tokens/s), burst. Returns the wait in seconds, as a string.
_TAKE_TOKEN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisStore:
    """The store in one Redis database, for replicas on several hosts.

    Connects on first use, so an app starts (and ``/readyz`` says why it is not ready)
    while Redis is down. Answers nobody rated expire after ``answer_ttl_s``; feedback
    and escalations are kept.
    """

    kind = "redis"

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = DAY,
        max_sessions: int = 10_000,
        max_messages: int = 40,
        answer_ttl_s: float = 30 * DAY,
        prefix: str = "grokassist:",
        connect_timeout_s: float = 2.0,
        timeout_s: float = 5.0,
    ) -> None:
        try:
            self._redis = redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=connect_timeout_s,
                socket_timeout=timeout_s,
                health_check_interval=30,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            )
        except ValueError as exc:
            raise SessionStoreError(f"invalid Redis URL: {exc}") from exc
        options = self._redis.connection_pool.connection_kwargs
        where = options.get("path") or f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
        #: Where the store is, without credentials.
        self.where = f"{where}/{options.get('db', 0)}"
        self.ttl_us = int(ttl_s * 1_000_000)
        self.max_sessions = max_sessions
        self.answer_ttl_ms = int(answer_ttl_s * 1000)
        self.prefix = prefix
        self._create_session = self._redis.register_script(_CREATE_SESSION)
        self._owns_session = self._redis.register_script(_OWNS_SESSION)
        self.conversations: ConversationStore = _RedisConversations(self, max_sessions, max_messages)

    @contextmanager
    def failures(self, doing: str) -> Iterator[None]:
        """Raise Redis errors met inside as :class:`SessionStoreError`."""
        try:
            yield
        except redis.RedisError as exc:
            raise SessionStoreError(f"the Redis store at {self.where} failed {doing}: {exc}") from exc

    @property
    def client(self) -> redis.Redis:
        """The Redis client (thread-safe, pooled)."""
        return self._redis

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def close(self) -> None:
        self._redis.close()

    def ping(self) -> None:
        with self.failures("to answer a ping"):
            self._redis.ping()

    def rate_limiter(self, rate: float, burst: int) -> Limiter:
        return RedisRateLimiter(self, rate, burst)

    # -- sessions --------------------------------------------------------------------------

    def create_session(self, owner: str) -> str:
        session_id = new_session_id()
        with self.failures("creating a session"):
            self._create_session(
                keys=[self.key("owner", session_id), self.key("owners")],
                args=[owner, self.ttl_us, session_id, self.max_sessions, self.prefix],
            )
        return session_id

    def owns_session(self, session_id: str, owner: str) -> bool:
        with self.failures("looking up a session"):
            found = self._owns_session(
                keys=[self.key("owner", session_id), self.key("owners"), self.key("history", session_id)],
                args=[owner, self.ttl_us, session_id],
            )
        return bool(found)

    def drop_session(self, session_id: str) -> None:
        with self.failures("dropping a session"):
            pipe = self._redis.pipeline()
            pipe.delete(self.key("owner", session_id), self.key("history", session_id))
            pipe.zrem(self.key("owners"), session_id)
            pipe.zrem(self.key("histories"), session_id)
            pipe.execute()

    # -- answers and feedback --------------------------------------------------------------

    def add_answer(self, client: str, answer: Answer) -> str:
        answer_id = new_answer_id()
        fields: dict[FieldT, EncodableT] = {
            "created": repr(time.time()),
            "client": client,
            "session_id": answer.session_id or "",
            "question": answer.question,
            "text": answer.text,
            "answer_json": answer.model_dump_json(),
        }
        with self.failures("recording an answer"):
            pipe = self._redis.pipeline()
            pipe.hset(self.key("answer", answer_id), mapping=fields)
            pipe.pexpire(self.key("answer", answer_id), self.answer_ttl_ms)
            pipe.execute()
        return answer_id

    def answer_owner(self, answer_id: str) -> str | None:
        with self.failures("looking up an answer"):
            owner = self._redis.hget(self.key("answer", answer_id), "client")
        return owner if isinstance(owner, str) else None

    def set_feedback(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        fields: dict[FieldT, EncodableT] = {
            "created": repr(time.time()),
            "client": client,
            "helpful": int(helpful),
            "comment": comment,
        }
        with self.failures("recording feedback"):
            if not self._redis.exists(self.key("answer", answer_id)):
                return
            pipe = self._redis.pipeline()
            pipe.hset(self.key("feedback", answer_id), mapping=fields)
            pipe.persist(self.key("answer", answer_id))  # a rated answer is kept with its rating
            pipe.execute()

    def feedback(self, answer_id: str) -> dict[str, Any] | None:
        with self.failures("reading feedback"):
            pipe = self._redis.pipeline(transaction=False)
            pipe.hgetall(self.key("feedback", answer_id))
            pipe.hgetall(self.key("answer", answer_id))
            rating, answer = pipe.execute()
        if not rating or not answer:
            return None
        return feedback_view(
            answer_id,
            rating["helpful"] == "1",
            rating["comment"],
            answer["question"],
            answer["text"],
            answer["answer_json"],
        )

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
        created = time.time()
        fields: dict[FieldT, EncodableT] = {
            "created": repr(created),
            "client": client,
            "session_id": session_id or "",
            "answer_id": answer_id or "",
            "reason": reason,
            "contact": contact,
            "transcript_json": dump_messages(transcript),
            "status": "pending",
            "delivered_ref": "",
        }
        with self.failures("queueing an escalation"):
            pipe = self._redis.pipeline()
            pipe.hset(self.key("escalation", escalation_id), mapping=fields)
            pipe.zadd(self.key("escalations", "pending"), {escalation_id: created})
            pipe.execute()
        return escalation_id

    def pending_escalations(self, limit: int = 100) -> list[Escalation]:
        with self.failures("listing escalations"):
            ids = [str(i) for i in self._redis.zrange(self.key("escalations", "pending"), 0, limit - 1)]
            pipe = self._redis.pipeline(transaction=False)
            for escalation_id in ids:
                pipe.hgetall(self.key("escalation", escalation_id))
            found = pipe.execute()
        return [_escalation(i, f) for i, f in zip(ids, found, strict=True) if f]

    def escalation(self, escalation_id: str) -> Escalation | None:
        with self.failures("reading an escalation"):
            fields = self._redis.hgetall(self.key("escalation", escalation_id))
        return _escalation(escalation_id, fields) if fields else None  # type: ignore[arg-type]

    def mark_escalation(self, escalation_id: str, status: str, ref: str | None = None) -> None:
        key = self.key("escalation", escalation_id)
        with self.failures("updating an escalation"):
            if not self._redis.exists(key):
                return
            pipe = self._redis.pipeline()
            pipe.hset(key, mapping={"status": status, "delivered_ref": ref or ""})
            if status == "pending":
                pipe.zadd(self.key("escalations", "pending"), {escalation_id: time.time()})
            else:
                pipe.zrem(self.key("escalations", "pending"), escalation_id)
            pipe.execute()


def _escalation(escalation_id: str, fields: dict[str, str]) -> Escalation:
    return Escalation(
        id=escalation_id,
        created=float(fields["created"]),
        client=fields["client"],
        session_id=fields["session_id"] or None,
        answer_id=fields["answer_id"] or None,
        reason=fields["reason"],
        contact=fields["contact"],
        transcript=load_messages(fields["transcript_json"]),
        status=fields["status"],
        delivered_ref=fields["delivered_ref"] or None,
    )


class _RedisConversations:
    """A :class:`~grokassist.sessions.ConversationStore` over Redis lists.

    Idle histories also expire after ``ttl_s``.
    """

    def __init__(self, store: RedisStore, max_sessions: int, max_messages: int) -> None:
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self._store = store
        self._history = store.client.register_script(_HISTORY)
        self._append = store.client.register_script(_APPEND)
        self._count = store.client.register_script(_COUNT)

    def history(self, session_id: str) -> list[Message]:
        s = self._store
        with s.failures("reading a conversation"):
            items = self._history(
                keys=[s.key("history", session_id), s.key("histories")], args=[s.ttl_us, session_id]
            )
        return [Message.model_validate_json(item) for item in items]

    def append(self, session_id: str, *messages: Message) -> None:
        s = self._store
        with s.failures("saving a conversation"):
            self._append(
                keys=[s.key("history", session_id), s.key("histories")],
                args=[
                    s.ttl_us,
                    self.max_messages,
                    self.max_sessions,
                    session_id,
                    s.prefix,
                    *(m.model_dump_json() for m in messages),
                ],
            )

    def clear(self, session_id: str) -> None:
        s = self._store
        with s.failures("clearing a conversation"):
            pipe = s.client.pipeline()
            pipe.delete(s.key("history", session_id))
            pipe.zrem(s.key("histories"), session_id)
            pipe.execute()

    def __contains__(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        with self._store.failures("reading a conversation"):
            return bool(self._store.client.exists(self._store.key("history", session_id)))

    def __len__(self) -> int:
        with self._store.failures("counting conversations"):
            return int(self._count(keys=[self._store.key("histories")], args=[self._store.ttl_us]))


class RedisRateLimiter:
    """Token buckets in Redis, taken atomically by a script, so limits hold across replicas."""

    in_memory = False

    def __init__(self, store: RedisStore, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._store = store
        self._take = store.client.register_script(_TAKE_TOKEN)

    def acquire(self, key: str) -> float:
        with self._store.failures("checking the rate limit"):
            wait = self._take(keys=[self._store.key("rate", key)], args=[repr(self.rate), self.burst])
        return float(wait)
