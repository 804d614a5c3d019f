"""The in-process pieces: history, session ownership, token buckets."""

import pytest

from grokassist.server.security import retry_after_header
from grokassist.stores.memory import MemorySessions, RateLimiter, SessionStore
from grokassist.types import Message


def test_sessions_are_isolated_bounded_and_evicted() -> None:
    store = SessionStore(max_sessions=2, max_messages=3)
    for i in range(5):
        store.append("a", Message(role="user", content=f"a{i}"))
    store.append("b", Message(role="user", content="b0"))
    assert [m.content for m in store.history("a")] == ["a2", "a3", "a4"]
    assert [m.content for m in store.history("b")] == ["b0"]
    store.history("a")  # touch a: b becomes least recently used
    store.append("c", Message(role="user", content="c0"))
    assert "b" not in store and "a" in store and len(store) == 2
    assert store.history("unknown") == []


def test_token_bucket_allows_a_burst_then_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert wait == pytest.approx(0.5)
    assert retry_after_header(wait) == "1"
    assert limiter.acquire("b") == 0.0  # other clients have their own bucket
    now[0] += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0


def test_token_bucket_forgets_the_oldest_clients() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2, clock=lambda: 0.0)
    limiter.acquire("a")
    limiter.acquire("b")
    limiter.acquire("c")
    assert limiter.acquire("a") == 0.0  # "a" was evicted: a fresh bucket


def test_sessions_belong_to_their_owner_and_expire() -> None:
    now = [0.0]
    expired: list[str] = []
    reg = MemorySessions(ttl_s=10, max_sessions=2, on_expire=expired.append, clock=lambda: now[0])
    sid = reg.create("key:a")
    assert reg.owns(sid, "key:a") and not reg.owns(sid, "key:b") and not reg.owns("guess", "key:a")
    now[0] = 9.0
    assert reg.owns(sid, "key:a")  # use keeps it alive
    now[0] = 18.0
    assert reg.owns(sid, "key:a")
    now[0] = 40.0
    assert not reg.owns(sid, "key:a") and expired == [sid]
    ids = [reg.create("key:a") for _ in range(3)]
    assert len(reg) == 2 and expired[-1] == ids[0]
