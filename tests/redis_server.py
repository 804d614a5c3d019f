"""A real ``redis-server`` on a free loopback port, for the shared-store tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from processes import free_port, stop_process

REDIS_SERVER = shutil.which("redis-server")
#: Why the Redis tests are skipped, if they are.
MISSING = "redis-server is not installed (scripts/install-system.sh installs it from Debian's packages)"


class RedisServer:
    """``redis-server`` on 127.0.0.1, no persistence, its files in ``folder``, until stopped."""

    def __init__(self, folder: Path) -> None:
        assert REDIS_SERVER is not None, MISSING
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.start()

    def start(self) -> None:
        """Start the server (again, on the same port, empty)."""
        folder = self.folder
        options = {
            "--port": str(self.port),
            "--bind": "127.0.0.1",
            "--save": "",
            "--appendonly": "no",
            "--dir": str(folder),
            "--logfile": str(folder / "redis.log"),
        }
        command = [REDIS_SERVER, *(part for pair in options.items() for part in pair)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start; see {folder / 'redis.log'}")
            time.sleep(0.02)

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(16).startswith(b"+OK")

    def stop(self) -> None:
        stop_process(self._process, timeout=5)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
