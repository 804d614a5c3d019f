"""Exactly once, through an outage and a crash: the outbox against a real Request Tracker 5.

    python bench/escalation.py --json            # 100 escalations, the figures as JSON
    python bench/escalation.py --escalations 20  # smaller

1. A fresh RT 5 (Debian's packages, its own SQLite database, loopback) is set up but stopped.
2. ``--escalations`` escalations are queued in a SQLite store (tickets built by
   ``grokassist.handoff.build_escalation`` from support conversations, redaction on).
3. An outbox worker (``grokassist outbox run``, a subprocess) starts: RT is down, so every
   attempt fails and backs off.
4. RT starts. While the worker delivers, it is killed with SIGKILL in the middle of a
   delivery: an escalation claimed and not acknowledged whose ticket RT already holds (the
   window where a naive outbox creates a second ticket), and restarted; ``--kills`` times.
5. When the store says everything is delivered (or ``--time-limit`` runs out), RT's tickets
   are counted by their external id (the escalation id, in RT's custom field).

Output: ``queued``, ``delivered`` (acknowledged in the store), ``duplicates`` (tickets beyond
one per escalation), ``lost`` (escalations with no ticket), with the kills and timings.
Exits 1 unless delivered == queued and duplicates == lost == 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "src", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from adapters.rt_server import AVAILABLE, MISSING, RTServer  # noqa: E402
from grokassist.handoff import Fired, HandoffSettings, build_escalation  # noqa: E402
from grokassist.handoff.redact import PersonalDataRedactor  # noqa: E402
from grokassist.stores import SqliteStore  # noqa: E402
from grokassist.types import Answer, Message  # noqa: E402

QUESTIONS = [
    "My dish says it is obstructed even after I moved it. What now?",
    "The router keeps rebooting every ten minutes since the update.",
    "I was charged twice this month, please call me on +1 415 555 2671.",
    "How do I move my service to my new address in Lyon?",
    "The app says 'disconnected' but the lights are on.",
]
TRIGGERS: list[Any] = ["requested", "abstained", "negative_feedback", "repeated_failure", "keyword"]
#: What the worker logs between creating a ticket and acknowledging it.
CREATED = re.compile(r"escalation (esc_[0-9a-f]+): ticket \d+ created, not yet acknowledged")


def queue(store: SqliteStore, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    settings = HandoffSettings()
    redact = PersonalDataRedactor()
    ids = []
    for i in range(count):
        question = rng.choice(QUESTIONS)
        unsure = Answer(
            text="I don't know.", confidence=0.12, abstained=True, question=question, session_id=f"s{i}"
        )
        trigger = rng.choice(TRIGGERS)
        escalation = build_escalation(
            client=f"ip:10.0.0.{i % 250}",
            transcript=[
                Message(role="user", content=question),
                Message(role="assistant", content=unsure.text),
            ],
            answers=[unsure],
            fired=Fired(trigger, "refund" if trigger == "keyword" else "2"),
            settings=settings,
            session_id=f"bench-session-{i}",
            reason="" if i % 3 else "I need a person, please.",
            contact=f"customer{i}@example.com" if i % 2 else "",
            metadata={"plan": rng.choice(["standard", "pro"]), "locale": "en-GB"},
            redact=redact,
        )
        store.outbox.enqueue(escalation)
        ids.append(escalation.id)
    return ids


class Worker:
    """``grokassist outbox run`` in a subprocess, in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grokassist.cli", "-v", "outbox", "run"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def statuses(store: SqliteStore) -> Counter[str]:
    return Counter(e.status for e in store.outbox.escalations(limit=100_000))


def catch_in_the_act(store: SqliteStore, log: Path, deadline: float) -> str | None:
    """Wait until the worker says it created a ticket it has not acknowledged yet (the window
    where a crash tempts a second ticket); that escalation's id, or ``None`` at the deadline."""
    seen = log.stat().st_size
    while time.monotonic() < deadline:
        with log.open("rb") as f:
            f.seek(seen)
            fresh = f.read()
        seen += len(fresh)
        for line in fresh.decode(errors="replace").splitlines():
            found = CREATED.search(line)
            if found:
                current = store.outbox.get(found.group(1))
                if current is not None and current.status == "delivering":
                    return found.group(1)
        time.sleep(0.005)
    return None


def rt_external_ids(rt: RTServer) -> Counter[str]:
    """How many tickets RT holds per external id."""
    found: Counter[str] = Counter()
    for ticket in rt.tickets():
        for field in ticket.get("CustomFields", []):
            if field.get("name") == rt.external_id_field:
                for value in field.get("values", []):
                    found[value] += 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--escalations", type=int, default=100)
    parser.add_argument(
        "--kills", type=int, default=3, help="SIGKILLs of the worker mid-delivery (default 3)"
    )
    parser.add_argument("--lease", type=float, default=5.0, help="delivery lease in seconds (default 5)")
    parser.add_argument("--outage", type=float, default=6.0, help="seconds RT stays down with the worker on")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not AVAILABLE:
        print(MISSING, file=sys.stderr)
        return 2
    started = time.monotonic()
    deadline = started + args.time_limit
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="grokassist-escalation-") as tmp:
        folder = Path(tmp)
        rt = RTServer(folder / "rt", start=False)
        store_path = folder / "outbox.sqlite3"
        store = SqliteStore(store_path)
        ids = queue(store, args.escalations, args.seed)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "GROKASSIST_DATA_DIR": str(folder / "data"),
            "GROKASSIST_SERVER_STORE_URL": f"sqlite://{store_path}",
            "GROKASSIST_TICKETING__URL": rt.adapter_uri,
            "GROKASSIST_TICKETING__TOKEN": rt.adapter_token,
            "GROKASSIST_TICKETING__TIMEOUT_S": "10",
            "GROKASSIST_HANDOFF_POLL_S": "0.2",
            "GROKASSIST_HANDOFF_SYNC_S": "30",
            "GROKASSIST_HANDOFF_DELIVERY": json.dumps(
                {"lease_s": args.lease, "max_attempts": 100, "backoff_base_s": 0.2, "backoff_cap_s": 2.0}
            ),
        }
        worker = Worker(env, folder / "worker.log")
        kills: list[dict[str, Any]] = []
        try:
            # RT is down: the worker tries, fails and backs off
            worker.start()
            time.sleep(args.outage)
            during_outage = statuses(store)
            attempts_during_outage = sum(e.attempts for e in store.outbox.escalations(limit=100_000))
            rt.start()
            rt_started = time.monotonic()

            # kill the worker while an escalation is between its claim and its ack
            while len(kills) < args.kills and time.monotonic() < deadline:
                target = (
                    rng.randint(10, max(11, args.escalations - 10)) * (len(kills) + 1) // (args.kills + 1)
                )
                while statuses(store)["delivered"] < target and time.monotonic() < deadline:
                    time.sleep(0.02)
                caught = catch_in_the_act(store, worker.log, time.monotonic() + 60)
                worker.kill()
                in_flight = store.outbox.escalations("delivering")
                in_rt = rt_external_ids(rt)
                kills.append(
                    {
                        "delivered_before": statuses(store)["delivered"],
                        "in_flight": len(in_flight),
                        "in_flight_with_ticket": sum(1 for e in in_flight if in_rt[e.id]),
                        "caught_between_create_and_ack": caught,
                    }
                )
                worker.start()
            while statuses(store)["delivered"] < len(ids) and time.monotonic() < deadline:
                time.sleep(0.2)
            finished = time.monotonic()
            worker.stop()

            in_rt = rt_external_ids(rt)
            final = statuses(store)
            delivered = final["delivered"]
            tickets = sum(in_rt[i] for i in ids)
            result = {
                "queued": len(ids),
                "delivered": delivered,
                "duplicates": sum(max(0, in_rt[i] - 1) for i in ids),
                "lost": sum(1 for i in ids if in_rt[i] == 0),
                "tickets_in_rt": tickets,
                "other_tickets_in_rt": sum(n for k, n in in_rt.items() if k not in set(ids)),
                "statuses": dict(final),
                "during_outage": {"statuses": dict(during_outage), "failed_attempts": attempts_during_outage},
                "kills": kills,
                "worker_starts": worker.starts,
                "deliver_s_after_rt_start": round(finished - rt_started, 1),
                "total_s": round(time.monotonic() - started, 1),
                "lease_s": args.lease,
            }
        finally:
            worker.stop()
            rt.stop()
            store.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    ok = result["delivered"] == result["queued"] and result["duplicates"] == 0 and result["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
