"""Status sources against a real local HTTP server: Statuspage, Atom, JSON; the cache and its refresh."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grokassist.errors import LiveDataError
from grokassist.live import (
    FeedSource,
    JsonSource,
    LiveSources,
    Snapshot,
    StatuspageSource,
    asks_status,
    status_passage,
)

from .status_server import StatusServer, atom_feed, incident, summary

REPO = Path(__file__).resolve().parents[2]


def test_statuspage_summary_becomes_facts(status_server: StatusServer) -> None:
    status_server.summary = summary(
        {"Australia": "major_outage", "Europe": "operational"},
        incidents=[
            incident(
                "Outage in Queensland", "Engineers are <b>restoring</b> service.", regions=("Australia",)
            )
        ],
    )
    facts = StatuspageSource(status_server.url).fetch()
    assert facts[0].kind == "summary" and facts[0].text == "Major System Outage" and facts[0].severity == 3
    by_kind = {f.kind: f for f in facts[1:]}
    assert {f.text for f in facts if f.kind == "component"} == {
        "Starlink Internet (Australia): major outage.",
        "Starlink Internet (Europe): operational.",
    }
    text = by_kind["incident"].text
    assert "Outage in Queensland" in text and "Engineers are restoring service." in text and "<b>" not in text
    assert "affecting Australia" in text and by_kind["incident"].severity == 2


def test_resolved_incidents_and_completed_maintenance_are_not_current(status_server: StatusServer) -> None:
    status_server.summary = summary(
        {"Australia": "operational"},
        incidents=[incident("Old outage", "Fixed.", status="resolved")],
        maintenances=[{"id": "m", "name": "Upgrade", "status": "completed", "incident_updates": []}],
    )
    facts = StatuspageSource(status_server.url + "/api/v2/summary.json").fetch()
    assert [f.kind for f in facts] == ["summary", "component"]


def test_an_atom_feed_gives_recent_entries_only(status_server: StatusServer) -> None:
    now = datetime.now(UTC)
    status_server.feed = atom_feed(
        [
            ("Degraded speeds in Europe", "We are investigating slow speeds.", now - timedelta(minutes=5)),
            ("Outage resolved in Chile", "Service has been restored.", now - timedelta(hours=2)),
            ("Ancient incident", "Long gone.", now - timedelta(days=30)),
        ]
    )
    facts = FeedSource(status_server.url + "/history.atom", recent_s=6 * 3600).fetch()
    assert [f.name for f in facts] == ["Degraded speeds in Europe", "Outage resolved in Chile"]
    assert facts[0].severity == 2 and facts[1].severity == 0  # resolved: no trouble
    assert "We are investigating slow speeds." in facts[0].text


def test_a_json_endpoint_is_read_through_a_mapping(status_server: StatusServer) -> None:
    status_server.regions = {
        "overall": "degraded",
        "message": "Some regions are degraded",
        "regions": [{"region": "Queensland", "state": "outage"}, {"region": "Victoria", "state": "ok"}],
    }
    source = JsonSource(
        status_server.url + "/regions.json",
        {"summary": "message", "summary_state": "overall", "items": "regions", "item_name": "region",
         "item_status": "state", "severities": {"outage": 3}},
    )  # fmt: skip
    facts = source.fetch()
    assert facts[0].text == "Some regions are degraded" and facts[0].severity == 2
    assert [(f.text, f.severity) for f in facts[1:]] == [("Queensland: outage.", 3), ("Victoria: ok.", 0)]
    with pytest.raises(LiveDataError, match="bad items expression"):
        JsonSource(status_server.url, {"items": "regions[?"})


@pytest.mark.parametrize(
    ("status", "delay", "message"),
    [(503, 0.0, "HTTP 503"), (200, 1.5, "no answer within")],
)
def test_a_failing_page_raises_live_data_error(
    status_server: StatusServer, status: int, delay: float, message: str
) -> None:
    status_server.status, status_server.delay = status, delay
    with pytest.raises(LiveDataError, match=message):
        StatuspageSource(status_server.url, timeout_s=0.5).fetch()


def test_a_page_that_is_not_a_summary_is_refused(status_server: StatusServer) -> None:
    with pytest.raises(LiveDataError, match="not a Statuspage summary"):
        StatuspageSource(status_server.url + "/regions.json").fetch()
    with pytest.raises(LiveDataError, match="cannot reach"):
        StatuspageSource("http://127.0.0.1:9", timeout_s=0.5).fetch()


def test_the_cache_serves_fresh_snapshots_marks_old_ones_stale_and_retries_a_down_page(
    status_server: StatusServer,
) -> None:
    clock = [datetime(2026, 5, 1, 14, 2, tzinfo=UTC)]
    live = LiveSources(
        [StatuspageSource(status_server.url, ttl_s=60)], background=False, retry_s=30, clock=lambda: clock[0]
    )
    first = live.snapshot("status")
    assert first.state(clock[0]) == "fresh" and status_server.hits == 1
    clock[0] += timedelta(seconds=59)
    assert live.snapshot("status") is first and status_server.hits == 1  # cached
    status_server.status = 503
    clock[0] += timedelta(seconds=2)  # past the time-to-live: fetched again, and that fails
    stale = live.snapshot("status")
    assert stale.state(clock[0]) == "stale" and "HTTP 503" in stale.error and status_server.hits == 2
    clock[0] += timedelta(seconds=10)
    assert live.snapshot("status").checked_at == stale.checked_at and status_server.hits == 2  # retry_s
    status_server.status = 200
    clock[0] += timedelta(seconds=30)
    assert live.snapshot("status").state(clock[0]) == "fresh" and status_server.hits == 3
    live.close()


def test_the_background_thread_keeps_the_snapshot_fresh_by_itself(status_server: StatusServer) -> None:
    live = LiveSources([StatuspageSource(status_server.url, ttl_s=0.4)], retry_s=0.2)
    assert live.snapshot("status").facts[1].text == "Starlink Internet (Australia): operational."
    status_server.summary = summary({"Australia": "major_outage", "Europe": "operational"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # nobody asks: the thread refreshes on its own
        current = live._snapshots["status"]
        if any("major outage" in f.text for f in current.facts):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the snapshot was not refreshed in the background")
    hits = status_server.hits
    live.close()
    time.sleep(0.5)
    assert status_server.hits == hits  # closed: no more requests
    assert not any(t.name == "grokassist-live" and t.is_alive() for t in threading.enumerate())


def test_status_passages_say_how_fresh_they_are() -> None:
    at = datetime(2026, 5, 1, 14, 2, tzinfo=UTC)
    snapshot = Snapshot(source="status", title="Service status", url="https://status.example.com", ttl_s=60)
    down, use = status_passage(snapshot.model_copy(update={"checked_at": at, "error": "HTTP 503"}), "q", at)
    assert use.state == "down" and "not answering right now (checked at 14:02 UTC)" in down.passage.text
    stale_snap = snapshot.model_copy(update={"fetched_at": at - timedelta(minutes=10), "checked_at": at})
    stale, use = status_passage(stale_snap, "q", at)
    assert use.state == "stale" and use.as_of is None and "13:52 UTC, which is too old" in stale.passage.text
    assert "as_of" not in stale.passage.metadata  # stale facts are not cited as current


ROUTED = [json.loads(line) for line in (REPO / "examples/eval/live/queries.jsonl").read_text().splitlines()]


def test_status_questions_are_told_apart_from_how_to_questions() -> None:
    status = [q["question"] for q in ROUTED if q["kind"] == "status"]
    assert sum(asks_status(q) for q in status) >= len(status) - 1
    others = []
    for name in ("starlink", "optimus", "offtopic"):
        lines = (REPO / "examples/eval" / name / "queries.jsonl").read_text().splitlines()
        others += [json.loads(line)["question"] for line in lines]
    assert sum(asks_status(q) for q in others) <= 1, [q for q in others if asks_status(q)]
    assert not asks_status("How do I get an outage credit?")
    assert not asks_status("What should I do during an outage?")
    assert asks_status("Is there an outage in my area?")


def test_status_questions_in_spanish_and_indonesian() -> None:
    for question in (
        "¿Hay una caída del servicio en mi zona?",
        "¿Starlink está caído ahora mismo?",
        "¿Cuál es el estado del servicio?",
        "Apakah ada gangguan layanan di daerah saya?",
        "Apakah Starlink sedang down?",
        "Status layanan sekarang?",
    ):
        assert asks_status(question), question
    for question in (
        "¿Cómo pido un reembolso por una caída?",
        "Si hay una caída, ¿me avisan?",
        "¿Hay algún problema con mi factura?",
        "Bagaimana cara mendapatkan kompensasi gangguan?",
        "Jika ada gangguan, apakah saya diberi tahu?",
    ):
        assert not asks_status(question), question
    others = []
    for name in ("starlink", "optimus", "offtopic"):
        for language in ("es", "id"):
            lines = (REPO / "examples/eval" / f"{name}-{language}" / "queries.jsonl").read_text().splitlines()
            others += [json.loads(line)["question"] for line in lines]
    assert sum(asks_status(q) for q in others) <= 2, [q for q in others if asks_status(q)]
