"""Shared fixtures: a real ONNX embedder (loaded once) and small support corpora."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from grokassist.config import Settings, load_settings
from redis_server import MISSING, REDIS_SERVER, RedisServer

REPO = Path(__file__).resolve().parents[1]
STARLINK_DOCS = REPO / "examples" / "starlink" / "docs"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may only talk to loopback."""
    real = socket.create_connection

    def guarded(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host = str(address[0])
        if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("127."):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


class CountingEmbedder:
    """Wraps an embedder and counts the texts it embeds."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> Any:
        self.embedded += len(texts)
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


@pytest.fixture(scope="session")
def onnx_embedder() -> Any:
    from grokassist.retrieval import OnnxEmbedder

    embedder = OnnxEmbedder()
    embedder.embed(["warm up"])
    return embedder


@pytest.fixture
def embedder(onnx_embedder: Any) -> CountingEmbedder:
    return CountingEmbedder(onnx_embedder)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    for var in ("GROKASSIST_KB", "GROKASSIST_BACKEND", "GROKASSIST_CONFIG", "GROKASSIST_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return load_settings(data_dir=tmp_path / "data", backend="extractive:")


DOCS: dict[str, str] = {
    "router/reset-gen3.md": """---
title: Factory reset the Gen 3 router
product: router-gen3
locale: en-US
---
# Factory reset the Gen 3 router

## Steps
Press and hold the pinhole reset button on the back of the Gen 3 router for 10 seconds.
The light turns white when the router has restarted with its factory settings.
Reconnect to the default network name printed on the label.
""",
    "router/reset-gen2.md": """---
title: Factory reset the Gen 2 router
product: router-gen2
locale: en-US
---
# Factory reset the Gen 2 router

## Steps
The Gen 2 router is the older router and has no reset button.
Power-cycle the Gen 2 router three times: unplug it, wait for 3 seconds, and plug it back in.
After the third power cycle it returns to factory settings.
""",
    "placement/obstructions.md": """---
title: Fix obstructions
product: standard-kit
locale: en-US
---
# Fix obstructions

## What an obstruction is
Trees, roofs, chimneys and poles between the dish and the sky interrupt the signal.

## How to fix it
Open the app and run the obstruction checker to see a map of the sky around the dish.
Move the dish to a higher place with a clear view of the sky, for example the roof ridge.
""",
    "billing/pause.md": """---
title: Pause your service
product: all
locale: en-GB
---
# Pause your service

You can pause your service from the account page under Manage subscription.
A paused service is not billed, and you can resume it at any time.
""",
}


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for rel, text in DOCS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def kb(settings: Settings, embedder: CountingEmbedder, docs_dir: Path) -> Iterator[Any]:
    from grokassist.knowledge import KnowledgeBase

    base = KnowledgeBase("test", settings=settings, embedder=embedder)
    base.ingest(docs_dir)
    yield base
    base.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real ``redis-server`` for the session (on a free loopback port, no persistence)."""
    if REDIS_SERVER is None:
        pytest.skip(MISSING)
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url
