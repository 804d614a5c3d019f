"""The stores: one contract per concern for memory, SQLite and Redis; URLs; sharing between processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grokassist.errors import ConfigurationError, SessionStoreError
from grokassist.server.settings import ServerSettings
from grokassist.stores import MemoryStore, SqliteStore, Store, open_store, store_kind
from grokassist.testing import check_store_conformance
from grokassist.types import Message
from redis_server import RedisServer, free_port

StoreFactory = Callable[..., Store]


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.integration)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """``make_store(**limits)``: a new, empty store of each kind."""
    made = [0]

    def make(**limits: Any) -> Store:
        made[0] += 1
        if request.param == "memory":
            return MemoryStore(**limits)
        if request.param == "sqlite":
            return SqliteStore(tmp_path / f"store-{made[0]}.sqlite3", **limits)
        redis_server: RedisServer = request.getfixturevalue("redis_server")
        redis_server.flush()
        return open_store(redis_server.url, **limits)

    return make


def test_every_store_honours_the_contract(make_store: StoreFactory) -> None:
    check_store_conformance(make_store)


def test_store_urls(tmp_path: Path) -> None:
    urls = [None, "memory:", "sqlite:", "sqlite:///x.db", "redis://h:1/0", "rediss://h/1"]
    assert [store_kind(u) for u in urls] == ["sqlite", "memory", "sqlite", "sqlite", "redis", "redis"]
    with pytest.raises(ConfigurationError, match="unknown store URL scheme 'postgres'"):
        store_kind("postgres://user:secret@db/x")
    with pytest.raises(ValueError, match="use memory:, sqlite:"):
        ServerSettings(store_url="mysql://db")
    assert ServerSettings(store_url="  ").store_url is None

    default = open_store(folder=tmp_path / "server")
    named = open_store(f"sqlite://{tmp_path}/named.sqlite3")
    in_dir = open_store(f"sqlite://{tmp_path}")
    try:
        assert isinstance(default, SqliteStore) and default.path == tmp_path / "server" / SqliteStore.FILENAME
        assert isinstance(named, SqliteStore) and named.path == tmp_path / "named.sqlite3"
        assert isinstance(in_dir, SqliteStore) and in_dir.path == tmp_path / SqliteStore.FILENAME
    finally:
        for store in (default, named, in_dir):
            store.close()


_WORKER = """
import sys
from grokassist.stores import SqliteStore
from grokassist.types import Message

store = SqliteStore(sys.argv[1], max_messages=1000, busy_timeout_s=30)
for i in range(40):
    store.conversations.append("shared", Message(role="user", content=f"{sys.argv[2]}{i}"))
    store.sessions.create(sys.argv[2])
store.close()
"""


def test_sqlite_is_safe_to_share_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    SqliteStore(path).close()  # the schema exists before the writers race
    workers = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(_WORKER), str(path), name])
        for name in ("a", "b", "c")
    ]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    store = SqliteStore(path, max_messages=1000)
    try:
        history = [m.content for m in store.conversations.history("shared")]
        assert len(history) == 120, "an append was lost"  # read-modify-write under BEGIN IMMEDIATE
        for name in "abc":
            assert [c for c in history if c[0] == name] == [f"{name}{i}" for i in range(40)]
        journal = store._run("PRAGMA journal_mode")[0][0]
        assert journal == "wal"
    finally:
        store.close()


@pytest.mark.integration
def test_redis_rate_limits_are_shared_by_every_limiter(redis_url: str) -> None:
    first, second = open_store(redis_url), open_store(redis_url)
    try:
        a, b = first.limits.limiter(0.5, 3), second.limits.limiter(0.5, 3)
        assert [a.acquire("key:x"), b.acquire("key:x"), a.acquire("key:x")] == [0.0, 0.0, 0.0]
        assert b.acquire("key:x") > 1.0 and a.acquire("key:x") > 1.0
        assert b.acquire("ip:other") == 0.0
    finally:
        first.close()
        second.close()


def test_a_redis_that_is_down_raises_a_clear_error() -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        with pytest.raises(SessionStoreError, match=r"the Redis store at 127\.0\.0\.1:\d+/0 failed"):
            store.sessions.create("key:a")
        with pytest.raises(SessionStoreError):
            store.conversations.append("s", Message(role="user", content="hi"))
        with pytest.raises(SessionStoreError):
            store.ping()
    finally:
        store.close()


def test_a_sqlite_file_that_cannot_be_opened_raises_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SessionStoreError, match="cannot open the server store"):
        SqliteStore(tmp_path / "file" / "store.sqlite3")


def test_sqlite_bounds_hold_with_amortised_pruning(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3", max_sessions=300, max_messages=4)
    try:
        sessions = [store.sessions.create("owner") for _ in range(450)]
        for sid in sessions:
            store.conversations.append(sid, Message(role="user", content="q"))
        # pruned every max_sessions // 100 = 3 writes: never more than 1 % over the bound
        assert 300 <= store._run("SELECT count(*) FROM sessions")[0][0] <= 303
        assert 300 <= store._run("SELECT count(*) FROM conversations")[0][0] <= 303
        assert store.sessions.owns(sessions[-1], "owner")  # the newest survive
        assert not store.sessions.owns(sessions[0], "owner")  # the oldest were evicted
    finally:
        store.close()


_CLAIMER = """
import sys
from grokassist.stores import DeliveryPolicy, SqliteStore

store = SqliteStore(sys.argv[1], busy_timeout_s=30)
policy = DeliveryPolicy(lease_s=600)
while (claimed := store.outbox.claim(sys.argv[2], policy)) is not None:
    assert store.outbox.ack(claimed.id, claimed.lease, "T-" + claimed.id)
    print(claimed.id, flush=True)
store.close()
"""


def test_sqlite_outbox_claims_are_exclusive_between_processes(tmp_path: Path) -> None:
    from grokassist.testing import sample_escalation

    path = tmp_path / "outbox.sqlite3"
    store = SqliteStore(path)
    queued = [sample_escalation(None) for _ in range(60)]
    for escalation in queued:
        store.outbox.enqueue(escalation)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_CLAIMER), str(path), f"w{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    delivered = [line.strip() for w in workers for line in w.communicate(timeout=120)[0].splitlines()]
    assert [w.returncode for w in workers] == [0, 0, 0]
    try:
        assert sorted(delivered) == sorted(e.id for e in queued), (
            "an escalation was claimed twice or not at all"
        )
        assert {e.status for e in store.outbox.escalations(limit=1000)} == {"delivered"}
    finally:
        store.close()


def test_the_stores_need_no_web_framework_and_import_nothing_above_them() -> None:
    code = (
        "import sys, grokassist.stores, grokassist.handoff; "
        "heavy = ('fastapi', 'redis', 'starlette', 'grokassist.server'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
