"""Local servers for backend tests: a fault-injecting OpenAI-compatible server
and a helper that runs llama-cpp-python's own server on the packaged model.

The fault server routes on the path: ``/<scenario>/<key>/v1/chat/completions``.
``key`` isolates one test's attempt counter and recorded request bodies.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from processes import free_port, stop_process

SCENARIOS = (
    "ok",  # three tokens, finish_reason, usage, [DONE]
    "rate-limit-once",  # 429 with Retry-After: 1, then ok
    "rate-limit-always",  # 429 with Retry-After: 1 every time
    "error-once",  # 500, then ok
    "error-always",  # 503 every time
    "bad-request",  # 400 with a JSON body
    "context-length",  # 400 saying the context length is exceeded
    "slow",  # no answer for 30 s (until the server stops)
    "drop-mid-stream",  # two tokens, then the connection is cut
    "drop-before-token-once",  # headers, then the connection is cut; then ok
    "malformed",  # a data line that is not JSON
    "stall-mid-stream",  # one token, then silence
    "no-done",  # two tokens, clean end of body, but no finish_reason and no [DONE]
    "endless",  # a token every 10 ms for a long time (cancellation)
)


def _event(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def _token(text: str) -> bytes:
    return _event({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]})


_FINISH = _event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
_USAGE = _event({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}})
_DONE = _event("[DONE]")


class FaultServer:
    """A threaded HTTP server on 127.0.0.1 that misbehaves on request."""

    def __init__(self) -> None:
        self.attempts: defaultdict[str, int] = defaultdict(int)
        self.bodies: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.headers: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
        self.sent: defaultdict[str, int] = defaultdict(int)
        self.aborted: dict[str, threading.Event] = defaultdict(threading.Event)
        self.stopping = threading.Event()
        self._keys = itertools.count()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                parts = self.path.strip("/").split("/")
                scenario, key = parts[0], parts[1]
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.attempts[key] += 1
                    attempt = server.attempts[key]
                    server.bodies[key].append(body)
                    server.headers[key].append(dict(self.headers.items()))
                try:
                    server._serve(self, scenario, key, attempt)
                except (BrokenPipeError, ConnectionResetError):
                    server.aborted[key].set()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, scenario: str) -> tuple[str, str]:
        """A fresh ``(base_url, key)`` for one test of ``scenario``."""
        assert scenario in SCENARIOS, scenario
        key = f"k{next(self._keys)}"
        return f"http://127.0.0.1:{self.port}/{scenario}/{key}/v1", key

    # -- responses ------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler, scenario: str, key: str, attempt: int) -> None:
        if scenario == "rate-limit-always" or (scenario == "rate-limit-once" and attempt == 1):
            return self._json(h, 429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
        if scenario == "error-always":
            return self._json(h, 503, {"error": {"message": "overloaded"}})
        if scenario == "error-once" and attempt == 1:
            return self._json(h, 500, {"error": {"message": "boom"}})
        if scenario == "bad-request":
            return self._json(h, 400, {"error": {"message": "bad temperature"}})
        if scenario == "context-length":
            msg = "This model's maximum context length is 2048 tokens; your messages resulted in 9000"
            return self._json(h, 400, {"error": {"message": msg}})
        if scenario == "slow":
            self.stopping.wait(30)
            return self._json(h, 200, {})
        self._start_stream(h)
        if scenario == "drop-before-token-once" and attempt == 1:
            return self._cut(h)
        if scenario == "malformed":
            self._chunk(h, _token("Hi"))
            self._chunk(h, b"data: {not json\n\n")
            return self._end(h)
        if scenario == "endless":
            for i in range(3000):
                if self.stopping.is_set():
                    break
                self._chunk(h, _token(f" t{i}"))
                self.sent[key] += 1
                time.sleep(0.01)
            return self._end(h)
        self._chunk(h, _token("Hello"))
        self._chunk(h, _token(","))
        if scenario == "drop-mid-stream":
            return self._cut(h)
        if scenario == "no-done":
            return self._end(h)
        if scenario == "stall-mid-stream":
            self.stopping.wait(30)
            return self._cut(h)
        self._chunk(h, _token(" world"))
        self._chunk(h, b": keep-alive comment\n\n" + _FINISH + _USAGE)
        self._chunk(h, _DONE)
        return self._end(h)

    @staticmethod
    def _json(
        h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    @staticmethod
    def _start_stream(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.flush()

    @staticmethod
    def _chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
        h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.flush()

    @staticmethod
    def _end(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    @staticmethod
    def _cut(h: BaseHTTPRequestHandler) -> None:
        """Drop the connection without finishing the chunked body."""
        h.wfile.flush()
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)
        h.close_connection = True


class LlamaServer:
    """``python -m llama_cpp.server`` on 127.0.0.1, started and killed by a fixture."""

    def __init__(self, model: Path, *, n_ctx: int = 2048, log: Path | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._log_path = log
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(n_ctx),
            "--n_threads",
            str(os.cpu_count() or 2),
        ]
        self._log = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        self.process = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited with {self.process.returncode} (log: {self._log_path})"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"llama_cpp.server did not start within {timeout}s (log: {self._log_path})")

    def stop(self) -> None:
        stop_process(self.process)
        if not isinstance(self._log, int):
            self._log.close()
