"""Fixtures of the retrieval tests: Chroma must never embed, and a real Chroma server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from servers import CHROMA_CLI, ChromaServer


@pytest.fixture(autouse=True)
def _chroma_never_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if Chroma tries to run (or download) its default embedding model."""
    try:
        from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2 as default_ef
    except ImportError:  # pragma: no cover - chromadb is a core dependency
        return

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Chroma tried to use its default embedding function")

    monkeypatch.setattr(default_ef.ONNXMiniLM_L6_V2, "__call__", refuse)
    monkeypatch.setattr(default_ef.ONNXMiniLM_L6_V2, "_download_model_if_not_exists", refuse)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real Chroma server for the whole session (skipped if the CLI is missing)."""
    if not CHROMA_CLI.exists():
        pytest.skip(f"the chroma CLI is not installed next to {sys.executable}")
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
