"""A local backend on ONNX Runtime GenAI: ``onnx:/path/to/model-folder``.

The folder holds ``genai_config.json``, the ONNX files it names, and the
tokenizer files. ``provider="auto"`` uses CUDA when this onnxruntime-genai
build has it and a GPU is present, else the CPU. Models with a chat template
get the request's messages through it; others a completion-style grounded
prompt (see :mod:`._prompt`). Structured output uses ONNX Runtime GenAI's
guidance (a JSON schema constrains decoding).

Needs ``pip install "grokassist[onnx]"``; GPU setup is in ``docs/gpu.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._optional import require
from ..errors import BackendError, ConfigurationError, ContextLengthError
from ..prompting import FittedPrompt, fit_request
from ..types import Chunk, Message, Usage
from ._cache import ModelCache, SharedModel
from ._decoding import StopMatcher, closed_schema, schema_shape
from .base import ChatRequest, GenerationSettings, SyncBackend
from .registry import gpu_present

__all__ = ["OnnxGenaiBackend", "OnnxGenaiOptions"]


class OnnxGenaiOptions(BaseModel):
    """Options of :class:`OnnxGenaiBackend` (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["auto", "cpu", "cuda"] = "auto"
    device_id: int = Field(default=0, ge=0)
    context_length: int | None = Field(default=None, gt=0)  # default: genai_config.json's
    max_prompt_tokens: int | None = Field(default=None, gt=0)
    prompt_style: Literal["auto", "chat", "completion"] = "auto"
    defaults: GenerationSettings = GenerationSettings(max_tokens=256, temperature=0.0)


class _Loaded:
    """A loaded model with its tokenizer and what we learnt about it."""

    def __init__(self, og: ModuleType, path: Path, provider: str, device_id: int) -> None:
        config = og.Config(str(path))
        config.clear_providers()
        if provider == "cuda":
            config.append_provider("cuda")
            config.set_provider_option("cuda", "device_id", str(device_id))
        self.model = og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)
        self.provider = provider
        self.has_chat_template = True
        try:
            self.tokenizer.apply_chat_template(
                messages=json.dumps([{"role": "user", "content": "hi"}]), add_generation_prompt=True
            )
        except Exception:
            self.has_chat_template = False

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text))


_models: ModelCache[_Loaded] = ModelCache(free=lambda loaded: None)  # dropping the reference frees it


class OnnxGenaiBackend(SyncBackend):
    """Generation with ONNX Runtime GenAI; the model loads on first use (or :meth:`warm_up`)."""

    def __init__(self, target: str = "", **options: Any) -> None:
        self._og = require(
            "onnxruntime_genai", package="onnxruntime-genai", extra="onnx", feature="the onnx: backend"
        )
        try:
            self.options = OnnxGenaiOptions(**options)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid options for the onnx: backend:\n{exc}") from exc
        if not target:
            raise ConfigurationError("the onnx: backend needs a model folder: onnx:/path/to/model")
        self.path = Path(target).expanduser().resolve()
        config_file = self.path / "genai_config.json"
        if not config_file.is_file():
            raise ConfigurationError(
                f"{self.path} is not an ONNX Runtime GenAI model folder (no genai_config.json)"
            )
        try:
            genai_config = json.loads(config_file.read_text())
            self.context_length = int(
                self.options.context_length or genai_config["model"].get("context_length") or 2048
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{config_file} is not a valid genai_config.json: {exc}") from exc
        self.provider = self._pick_provider()
        self.name = f"onnx:{self.path}"
        self._shared: SharedModel[_Loaded] | None = None

    def _pick_provider(self) -> str:
        cuda = bool(self._og.is_cuda_available())
        if self.options.provider == "cuda" and not cuda:
            raise ConfigurationError(
                "provider='cuda' needs a CUDA build of onnxruntime-genai "
                "(pip install onnxruntime-genai-cuda; see docs/gpu.md)"
            )
        if self.options.provider == "auto":
            return "cuda" if cuda and gpu_present() else "cpu"
        return self.options.provider

    def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        self._loaded()

    def _loaded(self) -> SharedModel[_Loaded]:
        if self._shared is None:
            key = (str(self.path), self.provider, self.options.device_id)
            try:
                self._shared = _models.acquire(
                    key, lambda: _Loaded(self._og, self.path, self.provider, self.options.device_id)
                )
            except Exception as exc:
                raise ConfigurationError(f"cannot load the ONNX model in {self.path}: {exc}") from exc
        return self._shared

    def _use_chat(self, loaded: _Loaded) -> bool:
        style = self.options.prompt_style
        return style == "chat" or (style == "auto" and loaded.has_chat_template)

    def prompt(self, request: ChatRequest) -> FittedPrompt:
        """The prompt that :meth:`stream` would send, fitted to the context window."""
        loaded = self._loaded().model
        settings = request.settings.merged_over(self.options.defaults)
        budget = self.context_length - (settings.max_tokens or 256)
        if self.options.max_prompt_tokens:
            budget = min(budget, self.options.max_prompt_tokens)
        if budget <= 0:
            raise ContextLengthError(
                f"max_tokens={settings.max_tokens} leaves no room for a prompt "
                f"in {self.context_length} tokens",
                backend=self.name,
            )

        def render(messages: Sequence[Message]) -> str:
            payload = json.dumps([{"role": m.role, "content": m.content} for m in messages])
            text: str = loaded.tokenizer.apply_chat_template(messages=payload, add_generation_prompt=True)
            return text

        json_shape = schema_shape(settings.json_schema) if settings.json_schema is not None else None
        try:
            return fit_request(
                request,
                loaded.count,
                budget,
                render_chat=render if self._use_chat(loaded) else None,
                json_shape=json_shape,
            )
        except ContextLengthError as exc:
            exc.backend = self.name
            raise

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        """Stream the answer; closing the iterator stops generation."""
        og = self._og
        shared = self._loaded()
        loaded = shared.model
        settings = request.settings.merged_over(self.options.defaults)
        fitted = self.prompt(request)
        stop = tuple(settings.stop or ()) + tuple(fitted.stop) if settings.json_schema is None else ()
        max_tokens = settings.max_tokens or 256
        with shared.lock:
            try:
                ids = loaded.tokenizer.encode(fitted.text)
                params = og.GeneratorParams(loaded.model)
                search: dict[str, Any] = {"max_length": min(len(ids) + max_tokens, self.context_length)}
                temperature = settings.temperature or 0.0
                search["do_sample"] = temperature > 0
                if temperature > 0:
                    search["temperature"] = temperature
                    if settings.top_p is not None:
                        search["top_p"] = settings.top_p
                if settings.seed is not None:
                    search["random_seed"] = settings.seed
                params.set_search_options(**search)
                if settings.json_schema is not None:
                    params.set_guidance("json_schema", json.dumps(closed_schema(settings.json_schema)))
                generator = og.Generator(loaded.model, params)
                generator.append_tokens(ids)
                decoder = loaded.tokenizer.create_stream()
            except Exception as exc:
                raise BackendError(f"ONNX Runtime GenAI failed to start: {exc}", backend=self.name) from exc
            matcher = StopMatcher(stop)
            produced = 0
            finish = "stop"
            while True:
                try:
                    if generator.is_done():
                        break
                    generator.generate_next_token()
                    token = int(generator.get_next_tokens()[0])
                    piece = decoder.decode(token)
                except Exception as exc:
                    raise BackendError(f"ONNX Runtime GenAI failed: {exc}", backend=self.name) from exc
                produced += 1
                text = matcher.feed(piece)
                if text:
                    yield Chunk(text=text)
                if matcher.stopped:
                    break
                if produced >= max_tokens:
                    finish = "length"
                    break
            if rest := matcher.flush():
                yield Chunk(text=rest)
            if not matcher.stopped and produced < max_tokens and len(ids) + produced >= self.context_length:
                finish = "length"
            del generator
        yield Chunk(finish_reason=finish, usage=Usage(prompt_tokens=len(ids), completion_tokens=produced))

    def close(self) -> None:
        """Release this backend's hold on the shared model."""
        shared, self._shared = self._shared, None
        if shared is not None:
            _models.release(shared)

    def __repr__(self) -> str:
        return f"OnnxGenaiBackend({self.name!r}, provider={self.provider!r})"
