"""Scale-out: replicas that share a store serve any conversation; limits hold across them;
a store that is down is answered 503; ``grokassist serve --workers 2`` runs two processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from grokassist.assistant import Assistant
from grokassist.config import Settings
from grokassist.knowledge import KnowledgeBase
from grokassist.server import ServerSettings, create_app, run
from grokassist.stores import Store
from redis_server import MISSING, REDIS_SERVER, RedisServer, free_port

from .conftest import API_KEY, OTHER_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
OTHER = {"Authorization": f"Bearer {OTHER_KEY}"}
RESET = "How do I factory reset my router?"


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.integration)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL that two replicas share: one SQLite file, or one Redis."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/shared.sqlite3"
    url: str = request.getfixturevalue("redis_url")
    return url


def replicas(kb: KnowledgeBase, store_url: str, count: int = 2, **options: object) -> list[FastAPI]:
    """Apps over separate assistants (as in separate processes) that share ``store_url``."""
    settings = ServerSettings(store_url=store_url, api_keys=[API_KEY, OTHER_KEY], **options)  # type: ignore[arg-type]
    return [create_app(Assistant(kb, backend="extractive:"), settings) for _ in range(count)]


def store_of(app: FastAPI) -> Store:
    store: Store = app.state.service.store
    return store


def test_a_conversation_continues_on_another_replica(knowledge_base: KnowledgeBase, shared_url: str) -> None:
    one_app, two_app = replicas(knowledge_base, shared_url)
    with TestClient(one_app) as one, TestClient(two_app) as two:
        first = one.post("/v1/ask", json={"question": RESET}, headers=AUTH)
        assert first.status_code == 200, first.text
        sid = first.json()["session_id"]
        # the follow-up reaches the other replica, which knows what "it" is
        again = {"question": "How long do I hold it?", "session_id": sid}
        follow = two.post("/v1/ask", json=again, headers=AUTH)
        assert follow.status_code == 200, follow.text
        assert follow.json()["citations"][0]["doc_id"] == "router/factory-reset.md"
        history = one.get(f"/v1/sessions/{sid}", headers=AUTH).json()["messages"]
        assert [m["content"] for m in history if m["role"] == "user"] == [RESET, "How long do I hold it?"]

        # nobody else can read or continue it, on either replica
        for client in (one, two):
            assert client.get(f"/v1/sessions/{sid}", headers=OTHER).status_code == 404
            assert client.get(f"/v1/sessions/{sid}").status_code == 404
            stolen = client.post("/v1/ask", json={"question": "And then?", "session_id": sid}, headers=OTHER)
            assert stolen.status_code == 404

        # feedback given on one replica is visible to the other
        answer_id = first.json()["answer_id"]
        rated = two.post("/v1/feedback", json={"answer_id": answer_id, "helpful": True, "comment": "clear"})
        assert rated.status_code == 404  # anonymous is another client than the one served
        rated = two.post(
            "/v1/feedback", json={"answer_id": answer_id, "helpful": True, "comment": "clear"}, headers=AUTH
        )
        assert rated.status_code == 200, rated.text
        seen = store_of(one_app).answers.feedback(answer_id)
        assert seen is not None and seen.helpful is True and seen.comment == "clear"

        # an escalation on one replica carries the whole conversation
        escalated = one.post("/v1/escalate", json={"session_id": sid, "reason": "call me"}, headers=AUTH)
        assert escalated.status_code == 202
        pending = store_of(two_app).outbox.escalations("pending")
        assert [e.id for e in pending] == [escalated.json()["escalation_id"]]
        assert len(pending[0].transcript) == 4

        # ending it on one replica ends it everywhere
        assert two.delete(f"/v1/sessions/{sid}", headers=AUTH).status_code == 204
        assert one.get(f"/v1/sessions/{sid}", headers=AUTH).status_code == 404


def test_readiness_names_the_store(knowledge_base: KnowledgeBase, shared_url: str) -> None:
    (app,) = replicas(knowledge_base, shared_url, count=1)
    with TestClient(app) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["checks"]["store"] == "ok"
        assert ready["store"] == shared_url.partition(":")[0]


@pytest.mark.integration
def test_rate_limits_hold_across_replicas_with_redis(knowledge_base: KnowledgeBase, redis_url: str) -> None:
    one_app, two_app = replicas(knowledge_base, redis_url, rate_limit_burst=3, rate_limit_per_minute=1)
    with TestClient(one_app) as one, TestClient(two_app) as two:
        codes = [c.post("/v1/sessions", headers=AUTH).status_code for c in (one, two, one, two, one)]
        assert codes == [201, 201, 201, 429, 429]
        limited = two.post("/v1/sessions", headers=AUTH)
        assert limited.json()["error"]["type"] == "rate_limited" and int(limited.headers["retry-after"]) > 1
        assert two.post("/v1/sessions", headers=OTHER).status_code == 201  # other clients: own bucket


@pytest.mark.integration
@pytest.mark.skipif(REDIS_SERVER is None, reason=MISSING)
def test_redis_down_is_answered_503_until_it_is_back(knowledge_base: KnowledgeBase, tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as redis_server:
        (app,) = replicas(knowledge_base, redis_server.url, count=1)
        with TestClient(app) as client:
            sid = client.post("/v1/sessions", headers=AUTH).json()["session_id"]
            redis_server.stop()
            requests = [
                ("POST", "/v1/ask", {"question": RESET, "session_id": sid}),
                ("POST", "/v1/ask/stream", {"question": RESET}),
                ("GET", f"/v1/sessions/{sid}", None),
                ("POST", "/v1/feedback", {"answer_id": "ans_x", "helpful": True}),
            ]
            for method, path, body in requests:
                r = client.request(method, path, json=body, headers=AUTH)
                assert r.status_code == 503, (path, r.text)
                error = r.json()["error"]
                assert error["type"] == "store_unavailable" and "try again" in error["message"]
                assert "Traceback" not in r.text and "redis" not in r.text.lower()
                assert r.headers["retry-after"]
            assert client.get("/healthz").status_code == 200  # alive, but ...
            ready = client.get("/readyz")  # ... not ready, and it says why
            assert ready.status_code == 503 and ready.json()["store"] == "redis"
            assert ready.json()["checks"]["store"].startswith("failed: the Redis store at 127.0.0.1:")
            assert "grokassist_store_errors_total 4.0" in client.get("/metrics", headers=AUTH).text

            redis_server.start()  # back (empty: no persistence): the app recovers by itself
            assert client.get("/readyz").status_code == 200
            assert client.post("/v1/sessions", headers=AUTH).status_code == 201


def test_several_workers_need_a_shared_store(tmp_path: Path) -> None:
    from grokassist.cli import app as cli
    from grokassist.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="needs a store that the workers share"):
        run(workers=2, server_settings=ServerSettings(store_url="memory:"))
    result = CliRunner().invoke(
        cli, ["serve", "--workers", "2"], env={"GROKASSIST_SERVER_STORE_URL": "memory:"}
    )
    assert result.exit_code != 0
    assert "--workers 2 needs a store that the workers share" in result.output
    assert "GROKASSIST_SERVER_STORE_URL" in result.output


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


@pytest.fixture
def served(settings: Settings, knowledge_base: KnowledgeBase, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``grokassist serve --workers 2`` over the test knowledge base (default SQLite store)."""
    port = free_port()
    env = {
        **os.environ,
        "GROKASSIST_DATA_DIR": str(settings.data_dir),
        "GROKASSIST_BACKEND": "extractive:",
        "GROKASSIST_SERVER_API_KEYS": f'["{API_KEY}"]',
    }
    log = (tmp_path / "serve.log").open("w")
    cmd = [sys.executable, "-m", "grokassist.cli", "serve", "--kb", knowledge_base.name, "--port", str(port)]
    server = subprocess.Popen(
        [*cmd, "--workers", "2", "--log-level", "warning"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "grokassist serve did not become ready"
            time.sleep(0.1)
        yield url, server.pid
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.integration
def test_serve_with_two_workers_shares_sessions_between_processes(served: tuple[str, int]) -> None:
    url, pid = served
    workers = _workers(pid)
    assert len(workers) == 2, workers

    ask = httpx.post(f"{url}/v1/ask", json={"question": RESET}, headers=AUTH, timeout=30)
    assert ask.status_code == 200, ask.text
    sid = ask.json()["session_id"]

    # every read on a new connection, which the kernel hands to either worker, finds the session;
    # each worker counts the reads it served: a count between 0 and all of them means both did
    labels = 'method="GET",route="/v1/sessions/{session_id}",status="200"'
    counter = re.compile(re.escape(f"grokassist_http_requests_total{{{labels}}} ") + r"(\S+)")
    reads, counts = 0, set[int]()
    for _ in range(10):
        for _ in range(10):
            r = httpx.get(f"{url}/v1/sessions/{sid}", headers=AUTH, timeout=10)
            assert r.status_code == 200 and r.json()["messages"][0]["content"] == RESET
            reads += 1
        for _ in range(5):
            found = counter.search(httpx.get(f"{url}/metrics", headers=AUTH, timeout=10).text)
            counts.add(int(float(found.group(1))) if found else 0)
        if any(0 < c < reads for c in counts):
            break
        counts.clear()
    assert any(0 < c < reads for c in counts), f"one worker served all {reads} reads: {counts}"
    assert _workers(pid) == workers
