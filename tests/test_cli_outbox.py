"""``grokassist outbox run | list | retry`` over a SQLite store and a registered help desk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from desk import Desk
from grokassist.adapters.ticketing import registry
from grokassist.adapters.ticketing.registry import register_ticketing
from grokassist.cli import app
from grokassist.errors import TicketingUnavailableError
from grokassist.stores import SqliteStore
from grokassist.testing import sample_escalation

runner = CliRunner()


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    made = Desk()
    register_ticketing("clidesk", lambda uri, **options: made)
    monkeypatch.setenv("GROKASSIST_TICKETING__URL", "clidesk://test")
    yield made
    registry._registered.pop("clidesk", None)


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path}/outbox.sqlite3"
    monkeypatch.setenv("GROKASSIST_SERVER_STORE_URL", url)
    monkeypatch.setenv("GROKASSIST_HANDOFF_DELIVERY", '{"max_attempts": 1}')
    return url


def run(tmp_path: Path, *args: str) -> Any:
    return runner.invoke(app, ["--data-dir", str(tmp_path), "outbox", *args])


def test_run_list_and_retry(tmp_path: Path, desk: Desk, store_url: str) -> None:
    store = SqliteStore(tmp_path / "outbox.sqlite3")
    first, second = sample_escalation("s1"), sample_escalation("s2")
    store.outbox.enqueue(first)
    store.outbox.enqueue(second)
    store.close()
    assert "pending" in run(tmp_path, "list").stdout

    desk.fail = [TicketingUnavailableError("RT is down")]  # the first delivery fails: max_attempts 1
    done = run(tmp_path, "run", "--once", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {
        "delivered": 1,
        "failed": 1,
        "dead": 1,
        "lost_leases": 0,
        "replies": 0,
        "resolved": 0,
    }
    dead = json.loads(run(tmp_path, "list", "--status", "dead", "--json").stdout)["escalations"]
    assert [e["escalation_id"] for e in dead] == [first.id] and "RT is down" in dead[0]["last_error"]
    listed = run(tmp_path, "list").stdout
    assert f"{second.id}  delivered" in listed and "ticket 1 (open)" in listed
    assert "last error: gave up after 1 attempts" in listed

    assert run(tmp_path, "retry", second.id).exit_code == 3  # delivered: nothing to retry
    missing = run(tmp_path, "retry", "esc_0000000000000000")
    assert missing.exit_code == 3 and "no escalation esc_0000000000000000" in missing.output
    retried = run(tmp_path, "retry", first.id)
    assert retried.exit_code == 0 and "queued again" in retried.stdout
    assert json.loads(run(tmp_path, "run", "--once", "--json").stdout)["delivered"] == 1
    assert desk.created == 2
    assert run(tmp_path, "list", "--status", "lost").exit_code == 2


def test_run_says_what_is_missing(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROKASSIST_TICKETING__URL", raising=False)
    result = run(tmp_path, "run", "--once")
    assert result.exit_code == 3 and "no ticketing system configured" in result.output
