"""A small website served on loopback by a real HTTP server, for the crawler's tests.

Pages live in :attr:`LoopbackSite.pages` (path -> (content type, body)) and can be
edited or deleted while it runs. Every answer carries an ``ETag`` and a
``Last-Modified``; a matching ``If-None-Match`` gets a 304. Every request is logged
with its arrival time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float
    status: int = 0


@dataclass
class LoopbackSite:
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    robots_status: int = 200
    _server: ThreadingHTTPServer | None = None
    _modified: dict[str, float] = field(default_factory=dict)

    def put(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        if self.pages.get(path, ("", b""))[1] != data:
            self._modified[path] = time.time()
        self.pages[path] = (content_type, data)

    def delete(self, path: str) -> None:
        self.pages.pop(path, None)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]

    def start(self) -> LoopbackSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                site.hits.append(hit)
                path = self.path.split("#", 1)[0]
                if path == "/robots.txt" and site.robots_status != 200:
                    hit.status = site.robots_status
                    self.send_response(site.robots_status)
                    self.end_headers()
                    return
                if path in site.redirects:
                    hit.status = 301
                    self.send_response(301)
                    self.send_header("Location", site.redirects[path])
                    self.end_headers()
                    return
                page = site.pages.get(path)
                if page is None:
                    hit.status = 404
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<h1>Not found</h1>")
                    return
                content_type, body = page
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                modified = formatdate(site._modified.get(path, 0.0), usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    hit.status = 304
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                hit.status = 200
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
