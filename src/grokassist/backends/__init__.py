"""Model backends: the :class:`ChatBackend` protocol and backends by URI.

Backends are named by short URIs, created lazily (importing this package
imports neither llama.cpp nor ONNX Runtime GenAI)::

    llama-cpp:default               the packaged Gemma 3 270M, on this machine
    llama-cpp:/models/x.gguf        any GGUF file
    onnx:/models/phi-dir            an ONNX Runtime GenAI model folder
    openai:https://host/v1#model    any OpenAI-compatible API
    xai:grok-4                      xAI's Grok API (XAI_API_KEY)
    vllm:http://host:8000/v1#model  a vLLM server
    llama-server:http://h:8080/v1   llama.cpp's server
    ollama:llama3.2                 Ollama on localhost:11434
    extractive:                     no model: quote the best passages

A comma-separated list is a fallback chain (:func:`parse_backend_chain`).
"""

from __future__ import annotations

from .base import ChatBackend, ChatRequest, Completion, GenerationSettings, SyncBackend, collect
from .registry import (
    BackendInfo,
    available_backends,
    create_backend,
    default_backend_uris,
    known_schemes,
    parse_backend_chain,
    register_backend,
    split_backend_chain,
)

__all__ = [
    "BackendInfo",
    "ChatBackend",
    "ChatRequest",
    "Completion",
    "GenerationSettings",
    "SyncBackend",
    "available_backends",
    "collect",
    "create_backend",
    "default_backend_uris",
    "known_schemes",
    "parse_backend_chain",
    "register_backend",
    "split_backend_chain",
]
