"""Protocols of the retrieval side: embedders, vector stores, lexical indexes.

Third parties implement these without importing a base class; the conformance
suites in :mod:`grokassist.testing` check an implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..types import MetadataValue, Passage

__all__ = ["Embedder", "Filters", "IdQueryStore", "LexicalIndex", "PassageCatalog", "VectorStore", "matches"]

#: Metadata filters: ``{"product": "router"}`` or ``{"locale": ["en", "en-GB"]}``
#: (any of the listed values). All keys must match.
Filters = Mapping[str, MetadataValue | Sequence[MetadataValue]]

Vectors = npt.NDArray[np.float32]


def matches(metadata: Mapping[str, MetadataValue], filters: Filters | None) -> bool:
    """Whether ``metadata`` satisfies ``filters``."""
    if not filters:
        return True
    for key, wanted in filters.items():
        value = metadata.get(key)
        if isinstance(wanted, (list, tuple, set, frozenset)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    ``name`` identifies the model (vectors of different models must not be
    mixed in one store); ``dim`` is the vector size. Plain attributes satisfy
    these read-only members.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed documents/passages: shape ``(len(texts), dim)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one query: shape ``(dim,)``."""
        ...


@runtime_checkable
class VectorStore(Protocol):
    """Stores passages with their vectors; nearest-neighbour search with filters."""

    def upsert(self, passages: Sequence[Passage], vectors: Vectors) -> None: ...

    def delete_documents(self, doc_ids: Iterable[str]) -> None: ...

    def query(self, vector: Vectors, k: int, filters: Filters | None = None) -> list[tuple[Passage, float]]:
        """Best ``k`` passages with cosine similarity, best first."""
        ...

    def passages(self) -> list[Passage]:
        """Every stored passage (to rebuild a lexical index)."""
        ...

    def count(self) -> int: ...

    def drop(self) -> None:
        """Delete the collection and everything in it."""
        ...


@runtime_checkable
class LexicalIndex(Protocol):
    """A keyword index (BM25) over passages."""

    def build(self, passages: Sequence[Passage]) -> None: ...

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Passage, float]]:
        """Best ``k`` passages with BM25 scores, best first."""
        ...

    def __len__(self) -> int: ...


@runtime_checkable
class IdQueryStore(Protocol):
    """Optional fast path of a vector store: ids and similarities only."""

    def query_ids(
        self, vector: Vectors, k: int, filters: Filters | None = None, *, within: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best ``k`` passage ids with cosine similarity, optionally only among ``within``."""
        ...

    def get(self, ids: Sequence[str]) -> list[Passage]:
        """The stored passages with these ids, in that order (missing ones left out)."""
        ...


@runtime_checkable
class PassageCatalog(Protocol):
    """Optional side of a lexical index that keeps every passage in memory."""

    def lookup(self, ids: Sequence[str]) -> list[Passage | None]:
        """The passages with these ids (``None`` where unknown)."""
        ...

    def ids_matching(self, filters: Filters) -> list[str]:
        """Ids of the passages whose metadata satisfies ``filters``."""
        ...
