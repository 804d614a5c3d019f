"""A process-wide, reference-counted cache of loaded local models.

Backends with the same model file and load options share one loaded model and
one generation lock; the model is freed when the last backend using it closes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["ModelCache", "SharedModel"]

T = TypeVar("T")


@dataclass(eq=False)
class SharedModel(Generic[T]):
    """A loaded model, the lock that serialises generation on it, and its users."""

    key: Hashable
    model: T
    lock: threading.Lock = field(default_factory=threading.Lock)
    refs: int = 0


class ModelCache(Generic[T]):
    """``acquire`` loads a model once per key; ``release`` frees it after its last user."""

    def __init__(self, free: Callable[[T], None]) -> None:
        self._free = free
        self._models: dict[Hashable, SharedModel[T]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: Hashable, load: Callable[[], T]) -> SharedModel[T]:
        with self._lock:  # loading is rare: one lock keeps two threads from loading twice
            shared = self._models.get(key)
            if shared is None:
                shared = SharedModel(key, load())
                self._models[key] = shared
            shared.refs += 1
            return shared

    def release(self, shared: SharedModel[T]) -> None:
        with self._lock:
            shared.refs -= 1
            if shared.refs > 0 or self._models.get(shared.key) is not shared:
                return
            del self._models[shared.key]
        with shared.lock:  # wait for a generation still running on it
            self._free(shared.model)

    def __len__(self) -> int:
        return len(self._models)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._models)
