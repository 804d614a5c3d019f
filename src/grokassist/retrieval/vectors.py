"""A bounded cache of sentence vectors, by embedding model and text."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["SENTENCE_VECTORS", "VectorCache"]


class VectorCache:
    """Sentence vectors by text (sources recur across questions), bounded."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, embedder: Any, texts: Sequence[str]) -> Any:
        key_name = str(getattr(embedder, "name", id(embedder)))
        found: dict[int, Any] = {}
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._data.get((key_name, text))
                if vector is None:
                    missing.append(i)
                else:
                    found[i] = vector
        if missing:
            fresh = embedder.embed([texts[i] for i in missing])
            with self._lock:
                for i, vector in zip(missing, fresh, strict=True):
                    found[i] = vector
                    self._data[(key_name, texts[i])] = vector
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
        return np.stack([found[i] for i in range(len(texts))]) if texts else np.zeros((0, 1), np.float32)


#: The process's cache of source-sentence vectors, shared by the sentence scorer and the
#: rendering check (the same sentences recur across questions and checks).
SENTENCE_VECTORS = VectorCache()
