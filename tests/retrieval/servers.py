"""A real Chroma server in a subprocess, for integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from processes import free_port, stop_process

CHROMA_CLI = Path(sys.executable).with_name("chroma")


class ChromaServer:
    """A ``chroma run`` subprocess on a free loopback port."""

    def __init__(self, path: Path) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.log = path.parent / "chroma-server.log"
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_TELEMETRY": "False"}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(CHROMA_CLI), "run", "--path", str(path), "--host", self.host, "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.port}/api/v2/heartbeat"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"chroma run exited with {code}: {self.log.read_text()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"chroma run did not answer within {timeout} s: {self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)
