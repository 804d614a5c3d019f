"""Backends by URI: ``scheme:target``.

Built-in schemes resolve lazily to ``module:attribute`` so that naming a
backend imports nothing heavy until it is created. Third parties register a
class or factory taking ``(target: str, **options)`` in the entry-point group
``grokassist.backends``; :func:`register_backend` does the same at run time.
A scheme registered at run time wins over a built-in, which wins over an
entry point of the same name.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError, UnknownBackendError
from .base import ChatBackend

__all__ = [
    "BUILTIN_BACKENDS",
    "ENTRY_POINT_GROUP",
    "BackendFactory",
    "BackendInfo",
    "available_backends",
    "create_backend",
    "default_backend_uris",
    "gpu_present",
    "known_schemes",
    "parse_backend_chain",
    "register_backend",
    "split_backend_chain",
    "split_uri",
]

BackendFactory = Callable[..., ChatBackend]

ENTRY_POINT_GROUP = "grokassist.backends"

#: scheme -> "module:attribute" of a class or factory ``(target, **options)``
BUILTIN_BACKENDS: dict[str, str] = {
    "extractive": "grokassist.backends.extractive:ExtractiveBackend",
    "llama-cpp": "grokassist.backends.llama_cpp:LlamaCppBackend",
    "llama-server": "grokassist.backends.openai_compat:llama_server_backend",
    "ollama": "grokassist.backends.openai_compat:ollama_backend",
    "onnx": "grokassist.backends.onnx_genai:OnnxGenaiBackend",
    "openai": "grokassist.backends.openai_compat:openai_backend",
    "vllm": "grokassist.backends.openai_compat:vllm_backend",
    "xai": "grokassist.backends.openai_compat:xai_backend",
}

_LOCAL = 'pip install "grokassist[local]"'
_ONNX = 'pip install "grokassist[onnx]"'
_LLAMA_CUDA = 'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
_ONNX_CUDA = "pip uninstall -y onnxruntime-genai && pip install onnxruntime-genai-cuda"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-_]*$")
_registered: dict[str, BackendFactory] = {}


def register_backend(scheme: str, factory: BackendFactory) -> None:
    """Register ``factory(target, **options)`` under ``scheme`` for this process."""
    if not _SCHEME.match(scheme):
        raise ConfigurationError(f"invalid backend scheme {scheme!r}")
    _registered[scheme] = factory


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_schemes() -> list[str]:
    """Every scheme that :func:`create_backend` accepts, sorted."""
    return sorted({*_registered, *BUILTIN_BACKENDS, *_entry_points()})


def split_uri(uri: str) -> tuple[str, str]:
    """``"llama-cpp:/m.gguf"`` -> ``("llama-cpp", "/m.gguf")``; a bare name has an empty target."""
    scheme, _, target = uri.strip().partition(":")
    return scheme.strip().lower(), target.strip()


def _load(reference: str) -> BackendFactory:
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    factory: BackendFactory = getattr(module, attribute)
    return factory


def _resolve(scheme: str) -> BackendFactory:
    if scheme in _registered:
        return _registered[scheme]
    if scheme in BUILTIN_BACKENDS:
        return _load(BUILTIN_BACKENDS[scheme])
    entry_point = _entry_points().get(scheme)
    if entry_point is None:
        raise UnknownBackendError(
            f"unknown backend scheme {scheme!r}; known: {', '.join(known_schemes())} "
            f"(third-party backends register in the entry-point group {ENTRY_POINT_GROUP!r})"
        )
    try:
        factory: BackendFactory = entry_point.load()
    except Exception as exc:
        raise ConfigurationError(f"the backend plugin {entry_point.value!r} failed to load: {exc}") from exc
    return factory


def create_backend(uri: str, **options: Any) -> ChatBackend:
    """Create the backend named by ``uri``; models load on first use, not here.

    Raises :class:`UnknownBackendError` for an unknown scheme,
    :class:`MissingDependencyError` when the backend's extra is not installed,
    and :class:`ConfigurationError` for bad options.
    """
    scheme, target = split_uri(uri)
    if not scheme:
        raise ConfigurationError(f"empty backend URI {uri!r}")
    backend = _resolve(scheme)(target, **options)
    if not isinstance(backend, ChatBackend):
        raise ConfigurationError(f"backend {scheme!r} returned {type(backend).__name__}, not a ChatBackend")
    return backend


def split_backend_chain(spec: str | Sequence[str]) -> list[str]:
    """The URIs of a comma-separated chain; ``"auto"`` (or empty) is :func:`default_backend_uris`."""
    uris = spec.split(",") if isinstance(spec, str) else list(spec)
    cleaned = [uri.strip() for uri in uris if uri.strip()]
    if not cleaned or cleaned == ["auto"]:
        return default_backend_uris()
    return cleaned


def parse_backend_chain(
    spec: str | Sequence[str], *, options: Mapping[str, Mapping[str, Any]] | None = None
) -> list[ChatBackend]:
    """Create the backends of a fallback chain, in order.

    ``options`` maps a full URI or a scheme to that backend's options (the
    URI wins). The caller tries them in order and falls back only before the
    first streamed token.
    """
    options = options or {}
    backends: list[ChatBackend] = []
    for uri in split_backend_chain(spec):
        scheme, _ = split_uri(uri)
        backends.append(create_backend(uri, **dict(options.get(uri, options.get(scheme, {})))))
    return backends


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def default_backend_uris() -> list[str]:
    """The default chain: ``["extractive:"]``, whatever is installed.

    Chosen by measurement (``docs/evaluation.md``): on the example help centres the
    packaged local models, behind the grounding guard and with the extractive answer
    as fallback, stated the articles' facts no more often than the sources' own
    sentences, cited the right article less often, and took seconds instead of a
    fraction of one to start an answer on 2 cores. A model is one setting away
    (``GROKASSIST_BACKEND="llama-cpp:default,extractive:"`` or a remote model), and
    every model's text passes the same guards.
    """
    return ["extractive:"]


def gpu_present() -> bool:
    """Whether this machine shows an NVIDIA GPU (a device node or ``nvidia-smi``)."""
    return os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi") is not None


@dataclass(frozen=True)
class BackendInfo:
    """Whether a backend scheme can run here, and if not, why."""

    scheme: str
    available: bool
    reason: str = ""  # why it is not available, or a caveat
    install: str = ""  # the command that makes it available
    gpu: bool | None = None  # whether it can use a GPU here (None: not applicable)
    source: str = "builtin"  # "builtin", "entry-point" or "registered"


def _llama_info() -> BackendInfo:
    if not _importable("llama_cpp"):
        return BackendInfo("llama-cpp", False, "llama-cpp-python is not installed", _LOCAL)
    try:
        from .llama_cpp import import_llama_cpp

        offload = bool(import_llama_cpp().llama_supports_gpu_offload())
    except Exception as exc:  # a broken native library
        return BackendInfo("llama-cpp", False, f"llama-cpp-python fails to load: {exc}", _LOCAL)
    notes: list[str] = []
    install = ""
    from .models import packaged_model

    default = packaged_model("default")
    if not default.available():
        notes.append(f"llama-cpp:default ({default.title}) is not installed (GGUF paths work)")
        install = _LOCAL
    gpu = gpu_present()
    if offload and not gpu:
        notes.append("built with GPU offload, but no GPU here")
    elif not offload and gpu:
        notes.append("this build is CPU-only: rebuild it with CUDA for the GPU (docs/gpu.md)")
        install = install or _LLAMA_CUDA
    elif not offload:
        notes.append("CPU (no GPU here)")
    return BackendInfo("llama-cpp", True, "; ".join(notes), install, offload and gpu)


def _onnx_info() -> BackendInfo:
    if not _importable("onnxruntime_genai"):
        return BackendInfo("onnx", False, "onnxruntime-genai is not installed", _ONNX)
    try:
        import onnxruntime_genai as og

        cuda = bool(og.is_cuda_available())
    except Exception as exc:
        return BackendInfo("onnx", False, f"onnxruntime-genai fails to load: {exc}", _ONNX)
    gpu = gpu_present()
    if cuda and not gpu:
        return BackendInfo("onnx", True, "a CUDA build, but no GPU here", gpu=False)
    if not cuda and gpu:
        reason = "this build is CPU-only: install the CUDA build for the GPU (docs/gpu.md)"
        return BackendInfo("onnx", True, reason, _ONNX_CUDA, gpu=False)
    return BackendInfo("onnx", True, "" if cuda else "CPU (no GPU here)", gpu=cuda)


def _remote_info(scheme: str) -> BackendInfo:
    from .openai_compat import PRESETS

    preset = PRESETS[scheme]
    env = preset.api_key_env
    if (
        preset.key_required
        and env
        and not (os.environ.get(env) or os.environ.get(f"GROKASSIST_{scheme.upper()}_API_KEY"))
    ):
        return BackendInfo(scheme, False, f"set {env} to use {preset.base_url}")
    return BackendInfo(scheme, True, f"remote: {preset.base_url} (or the URL in the URI)")


def available_backends() -> list[BackendInfo]:
    """Every known scheme with whether it can run here and, if not, why."""
    infos: list[BackendInfo] = []
    entry_points = _entry_points()
    for scheme in known_schemes():
        if scheme in _registered:
            infos.append(BackendInfo(scheme, True, source="registered"))
        elif scheme == "llama-cpp":
            infos.append(_llama_info())
        elif scheme == "onnx":
            infos.append(_onnx_info())
        elif scheme in BUILTIN_BACKENDS and scheme != "extractive":
            infos.append(_remote_info(scheme))
        elif scheme in BUILTIN_BACKENDS:
            module = BUILTIN_BACKENDS[scheme].partition(":")[0]
            ok = _importable(module)
            infos.append(BackendInfo(scheme, ok, "" if ok else f"{module} is missing"))
        else:
            try:
                entry_points[scheme].load()
            except Exception as exc:
                infos.append(BackendInfo(scheme, False, f"plugin fails to load: {exc}", source="entry-point"))
            else:
                infos.append(BackendInfo(scheme, True, source="entry-point"))
    return infos
