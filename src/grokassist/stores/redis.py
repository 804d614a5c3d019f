"""Saved state in one Redis database, shared by replicas on several hosts.

Needs the ``redis`` client (``pip install "grokassist[server]"``) and one Redis server
(a standalone or Sentinel-managed primary; not Redis Cluster: scripts touch keys they
compute). Keys start with ``prefix`` (default ``grokassist:``):

============================  =========================================================
``owner:<session>``           the client that owns a session (expires after ``ttl_s`` idle)
``owners``                    sorted set of sessions by last use (for ``max_sessions``)
``history:<session>``         list of messages, JSON, the last ``max_messages`` (``ttl_s``)
``histories``                 sorted set of histories by last use (for ``max_sessions``)
``answer:<id>``               hash: an answer served (expires after ``answer_ttl_s`` unless rated)
``answers:<session>``         list: the session's last answer ids, newest first (``ttl_s``)
``feedback:<answer id>``      hash: its rating (kept)
``escalation:<id>``           string: an escalation, JSON (kept)
``outbox:due``                sorted set: claimable escalations by when they may be claimed
``outbox:status:<status>``    sorted set: escalations of that status by creation time
``outbox:open``               sorted set: delivered escalations whose ticket is open
``outbox:holds:<session>``    the escalation that holds a conversation (a person has it)
``rate:<client>``             hash: a token bucket (expires once full again)
============================  =========================================================

Session and rate-limit times come from the Redis server (``TIME``) so replicas with
skewed clocks agree; the outbox's lease and backoff times are the workers' wall clocks
(a skew well under the lease is harmless). Every Redis failure is raised as
:class:`~grokassist.errors.SessionStoreError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .._optional import require
from ..errors import SessionStoreError
from ..types import Answer, Message
from . import base
from ._outbox import RecordOutbox
from .base import DAY, ConversationStore, Escalation, EscalationStatus, Feedback, Limiter

require("redis", extra="server", feature="the Redis store (GROKASSIST_SERVER_STORE_URL=redis://...)")

import redis  # noqa: E402
from redis.backoff import ExponentialBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402
from redis.typing import EncodableT, FieldT  # noqa: E402

__all__ = [
    "RedisAnswers",
    "RedisConversations",
    "RedisOutbox",
    "RedisRateLimiter",
    "RedisRateLimits",
    "RedisSessions",
    "RedisStore",
]

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
    """Every concern in one Redis database, for replicas on several hosts.

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
        self.conversations: ConversationStore = RedisConversations(self, max_sessions, max_messages)
        self.sessions = RedisSessions(self)
        self.answers = RedisAnswers(self)
        self.outbox = RedisOutbox(self)
        self.limits = RedisRateLimits(self)

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


class RedisSessions:
    """Session ownership: ``owner:<session>`` keys that expire, ``owners`` by last use."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._create = store.client.register_script(_CREATE_SESSION)
        self._owns = store.client.register_script(_OWNS_SESSION)

    def create(self, owner: str) -> str:
        s, session_id = self._store, base.new_session_id()
        with s.failures("creating a session"):
            self._create(
                keys=[s.key("owner", session_id), s.key("owners")],
                args=[owner, s.ttl_us, session_id, s.max_sessions, s.prefix],
            )
        return session_id

    def owns(self, session_id: str, owner: str) -> bool:
        s = self._store
        with s.failures("looking up a session"):
            found = self._owns(
                keys=[s.key("owner", session_id), s.key("owners"), s.key("history", session_id)],
                args=[owner, s.ttl_us, session_id],
            )
        return bool(found)

    def drop(self, session_id: str) -> None:
        s = self._store
        with s.failures("dropping a session"):
            pipe = s.client.pipeline()
            pipe.delete(s.key("owner", session_id), s.key("history", session_id))
            pipe.zrem(s.key("owners"), session_id)
            pipe.zrem(s.key("histories"), session_id)
            pipe.execute()


class RedisConversations:
    """Conversation history in Redis lists; idle histories also expire after ``ttl_s``."""

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
                    *(m.model_dump_json(exclude_defaults=True) for m in messages),
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


class RedisAnswers:
    """Answers (hashes that expire unless rated), their feedback, and each session's last ids."""

    #: Answer ids remembered per session for :meth:`recent`.
    RECENT = 20

    def __init__(self, store: RedisStore) -> None:
        self._store = store

    def add(self, client: str, answer: Answer) -> str:
        s, answer_id = self._store, base.new_answer_id()
        fields: dict[FieldT, EncodableT] = {
            "created": repr(time.time()),
            "client": client,
            "session_id": answer.session_id or "",
            "question": answer.question,
            "text": answer.text,
            "answer_json": answer.model_dump_json(),
        }
        with s.failures("recording an answer"):
            pipe = s.client.pipeline()
            pipe.hset(s.key("answer", answer_id), mapping=fields)
            pipe.pexpire(s.key("answer", answer_id), s.answer_ttl_ms)
            if answer.session_id:
                recent = s.key("answers", answer.session_id)
                pipe.lpush(recent, answer_id)
                pipe.ltrim(recent, 0, self.RECENT - 1)
                pipe.pexpire(recent, s.ttl_us // 1000)
            pipe.execute()
        return answer_id

    def owner(self, answer_id: str) -> str | None:
        with self._store.failures("looking up an answer"):
            owner = self._store.client.hget(self._store.key("answer", answer_id), "client")
        return owner if isinstance(owner, str) else None

    def get(self, answer_id: str) -> Answer | None:
        with self._store.failures("reading an answer"):
            found = self._store.client.hget(self._store.key("answer", answer_id), "answer_json")
        return Answer.model_validate_json(found) if isinstance(found, str) else None

    def recent(self, session_id: str, limit: int = 10) -> list[Answer]:
        s = self._store
        with s.failures("reading a session's answers"):
            ids = s.client.lrange(s.key("answers", session_id), 0, limit - 1)
            pipe = s.client.pipeline(transaction=False)
            for answer_id in ids:
                pipe.hget(s.key("answer", str(answer_id)), "answer_json")
            found = pipe.execute()
        return [Answer.model_validate_json(a) for a in found if isinstance(a, str)]

    def rate(self, answer_id: str, client: str, helpful: bool, comment: str) -> None:
        s = self._store
        fields: dict[FieldT, EncodableT] = {
            "created": repr(time.time()),
            "client": client,
            "helpful": int(helpful),
            "comment": comment,
        }
        with s.failures("recording feedback"):
            if not s.client.exists(s.key("answer", answer_id)):
                return
            pipe = s.client.pipeline()
            pipe.hset(s.key("feedback", answer_id), mapping=fields)
            pipe.persist(s.key("answer", answer_id))  # a rated answer is kept with its rating
            pipe.execute()

    def feedback(self, answer_id: str) -> Feedback | None:
        s = self._store
        with s.failures("reading feedback"):
            pipe = s.client.pipeline(transaction=False)
            pipe.hgetall(s.key("feedback", answer_id))
            pipe.hget(s.key("answer", answer_id), "answer_json")
            rating, answer_json = pipe.execute()
        if not rating or not isinstance(answer_json, str):
            return None
        return Feedback(
            answer_id=answer_id,
            helpful=rating["helpful"] == "1",
            comment=rating["comment"],
            answer=Answer.model_validate_json(answer_json),
        )


class RedisOutbox(RecordOutbox):
    """The outbox: each escalation a JSON string, changed in optimistic transactions
    (``WATCH``/``MULTI``), found through sorted sets kept in the same transaction."""

    #: Optimistic transactions retried this many times when another client changed the record.
    ATTEMPTS = 50

    def __init__(self, store: RedisStore) -> None:
        super().__init__(time.time)
        self._store = store

    def _index(self, pipe: redis.client.Pipeline, old: Escalation | None, new: Escalation) -> None:
        s = self._store
        pipe.set(s.key("escalation", new.id), new.model_dump_json())
        if new.claimable_at is None:
            pipe.zrem(s.key("outbox", "due"), new.id)
        else:
            pipe.zadd(s.key("outbox", "due"), {new.id: new.claimable_at})
        if old is not None and old.status != new.status:
            pipe.zrem(s.key("outbox", "status", old.status), new.id)
        pipe.zadd(s.key("outbox", "status", new.status), {new.id: new.created})
        if new.ticket_open:
            pipe.zadd(s.key("outbox", "open"), {new.id: new.created})
        else:
            pipe.zrem(s.key("outbox", "open"), new.id)
        if new.session_id is not None:
            if new.holds_conversation:
                pipe.set(s.key("outbox", "holds", new.session_id), new.id)
            elif old is not None and old.holds_conversation:
                pipe.delete(s.key("outbox", "holds", new.session_id))

    def _insert(self, escalation: Escalation) -> None:
        s = self._store
        with s.failures("queueing an escalation"):
            if not s.client.set(s.key("escalation", escalation.id), escalation.model_dump_json(), nx=True):
                raise ValueError(f"escalation {escalation.id} already exists")
            pipe = s.client.pipeline()
            self._index(pipe, None, escalation)
            pipe.execute()

    def _change(
        self, escalation_id: str, change: Callable[[Escalation], Escalation | None]
    ) -> Escalation | None:
        s, key = self._store, self._store.key("escalation", escalation_id)
        with s.failures("updating an escalation"), s.client.pipeline() as pipe:
            for _ in range(self.ATTEMPTS):
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    old = Escalation.model_validate_json(raw) if isinstance(raw, str) else None
                    new = change(old) if old is not None else None
                    if new is None:
                        pipe.unwatch()
                        return None
                    pipe.multi()
                    self._index(pipe, old, new)
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue
            raise redis.RedisError(f"escalation {escalation_id} kept changing under {self.ATTEMPTS} attempts")

    def get(self, escalation_id: str) -> Escalation | None:
        with self._store.failures("reading an escalation"):
            raw = self._store.client.get(self._store.key("escalation", escalation_id))
        return Escalation.model_validate_json(raw) if isinstance(raw, str) else None

    def _due(self, now: float, limit: int) -> list[str]:
        with self._store.failures("listing due escalations"):
            ids = self._store.client.zrangebyscore(self._store.key("outbox", "due"), "-inf", now, 0, limit)
        return [str(i) for i in ids]

    def _holding(self, session_id: str) -> str | None:
        with self._store.failures("looking up a handoff"):
            found = self._store.client.get(self._store.key("outbox", "holds", session_id))
        return found if isinstance(found, str) else None

    def _select(self, status: EscalationStatus | None, open_tickets: bool, limit: int) -> list[Escalation]:
        s = self._store
        with s.failures("listing escalations"):
            if status is not None or open_tickets:
                index = s.key("outbox", "status", status) if status is not None else s.key("outbox", "open")
                ids = [str(i) for i in s.client.zrange(index, 0, limit - 1)]
            else:
                pipe = s.client.pipeline(transaction=False)
                for each in ("pending", "delivering", "delivered", "dead"):
                    pipe.zrange(s.key("outbox", "status", each), 0, limit - 1, withscores=True)
                scored = sorted((score, str(i)) for found in pipe.execute() for i, score in found)
                ids = [i for _, i in scored[:limit]]
            pipe = s.client.pipeline(transaction=False)
            for escalation_id in ids:
                pipe.get(s.key("escalation", escalation_id))
            found = pipe.execute()
        return [Escalation.model_validate_json(raw) for raw in found if isinstance(raw, str)]


class RedisRateLimits:
    """Token buckets in Redis, shared by every replica."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store

    def limiter(self, rate: float, burst: int) -> Limiter:
        return RedisRateLimiter(self._store, rate, burst)


class RedisRateLimiter:
    """Token buckets taken atomically by a script, so limits hold across replicas."""

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
