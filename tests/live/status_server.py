"""A real HTTP status server for the tests: a Statuspage summary, an Atom feed and a JSON endpoint,
whose state a test changes while the assistant reads it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StatusServer", "atom_feed", "summary"]


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def summary(
    regions: dict[str, str],
    *,
    incidents: list[dict[str, Any]] | None = None,
    maintenances: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Statuspage ``/api/v2/summary.json`` with one group of regional components."""
    now = datetime.now(UTC)
    worst = max(
        (
            ["operational", "degraded_performance", "partial_outage", "major_outage"].index(s)
            for s in regions.values()
        ),
        default=0,
    )
    indicator, description = [
        ("none", "All Systems Operational"),
        ("minor", "Minor Service Outage"),
        ("major", "Partial System Outage"),
        ("critical", "Major System Outage"),
    ][worst]
    components: list[dict[str, Any]] = [
        {"id": "grp", "name": "Starlink Internet", "status": "operational", "group": True, "group_id": None}
    ]
    for i, (name, status) in enumerate(regions.items()):
        components.append(
            {
                "id": f"c{i}",
                "name": name,
                "status": status,
                "group": False,
                "group_id": "grp",
                "updated_at": _iso(now),
                "position": i,
                "description": None,
                "showcase": False,
                "only_show_if_degraded": False,
                "page_id": "pg",
            }
        )
    return {
        "page": {"id": "pg", "name": "Starlink", "url": "https://status.example.com", "time_zone": "Etc/UTC",
                 "updated_at": _iso(now)},
        "components": components,
        "incidents": incidents or [],
        "scheduled_maintenances": maintenances or [],
        "status": {"indicator": indicator, "description": description},
    }  # fmt: skip


def incident(name: str, body: str, *, impact: str = "major", status: str = "investigating",
             regions: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    now = _iso(datetime.now(UTC) - timedelta(minutes=3))
    before = _iso(datetime.now(UTC) - timedelta(minutes=20))
    return {
        "id": "inc1",
        "name": name,
        "status": status,
        "impact": impact,
        "created_at": now,
        "updated_at": now,
        "shortlink": "https://stspg.io/x",
        "components": [{"id": f"r{i}", "name": r} for i, r in enumerate(regions)],
        "incident_updates": [  # newest first, as Statuspage lists them
            {"id": "u1", "status": status, "body": body, "created_at": now, "display_at": now},
            {
                "id": "u0",
                "status": "investigating",
                "body": "Looking into it.",
                "created_at": before,
                "display_at": before,
            },
        ],
    }


def atom_feed(entries: list[tuple[str, str, datetime]]) -> str:
    """An Atom feed of ``(title, text, updated)`` entries (Statuspage's ``history.atom`` shape)."""
    items = "".join(
        f"<entry><id>tag:status.example.com,2026:{i}</id><title>{title}</title>"
        f'<updated>{_iso(when)}</updated><content type="html">&lt;p&gt;{text}&lt;/p&gt;</content></entry>'
        for i, (title, text, when) in enumerate(entries)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>tag:status.example.com,2026:history</id><title>Status history</title>"
        f"<updated>{_iso(datetime.now(UTC))}</updated>{items}</feed>"
    )


class StatusServer:
    """Serves ``/api/v2/summary.json``, ``/history.atom`` and ``/regions.json`` on a free loopback port.

    Set :attr:`summary`, :attr:`feed`, :attr:`regions` to change what it says, :attr:`status` to answer
    every request with that HTTP status, :attr:`delay` to answer slowly. :attr:`hits` counts requests.
    """

    def __init__(self) -> None:
        self.summary: dict[str, Any] = summary({"Australia": "operational", "Europe": "operational"})
        self.feed = atom_feed([])
        self.regions: dict[str, Any] = {"overall": "ok", "regions": []}
        self.status = 200
        self.delay = 0.0
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                if server.delay:
                    time.sleep(server.delay)
                if server.status != 200:
                    body, kind = b'{"error": "unavailable"}', "application/json"
                    self.send_response(server.status)
                elif self.path.startswith("/api/v2/summary.json"):
                    body, kind = json.dumps(server.summary).encode(), "application/json"
                    self.send_response(200)
                elif self.path.startswith("/history.atom"):
                    body, kind = server.feed.encode(), "application/atom+xml"
                    self.send_response(200)
                elif self.path.startswith("/regions.json"):
                    body, kind = json.dumps(server.regions).encode(), "application/json"
                    self.send_response(200)
                else:
                    body, kind = b"not found", "text/plain"
                    self.send_response(404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> StatusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
