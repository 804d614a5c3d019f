"""Hybrid retrieval: dense (embedder + vector store) and BM25, fused by RRF."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from ..types import DocumentHit, Passage, ScoredPassage
from .base import (
    Embedder,
    Filters,
    IdQueryStore,
    LexicalIndex,
    PassageCatalog,
    Vectors,
    VectorStore,
    matches,
)
from .fusion import rrf, rrf_documents

__all__ = ["HybridRetriever", "RetrievalMode"]

RetrievalMode = Literal["hybrid", "dense", "lexical"]

#: A filter is first tried after an unfiltered nearest-neighbour search deep
#: enough to hold ``depth`` passing passages 1.5 times over, if that depth is
#: at most ``_MAX_OVERSAMPLE`` (HNSW cost grows with it: ~4 ms for 500 at 100k
#: passages, while a search restricted to a list of ids costs ~20 ms).
_MAX_OVERSAMPLE = 1000


class HybridRetriever:
    """Retrieve passages by meaning and by keywords, then fuse the two rankings.

    Each side returns its best ``candidates`` passages that pass the filters;
    reciprocal rank fusion (``rrf_k``, ``weights`` for dense and lexical)
    merges them. The defaults (``rrf_k=5``, equal weights, 50 candidates) are
    the measured best on the evaluation sets: a small ``k`` lets a passage
    ranked first by either side win, which suits short support passages.
    ``mode`` switches to one side only. Every result carries the cosine
    similarity of its passage when the dense side found it
    (:attr:`~grokassist.types.ScoredPassage.dense_score`), which is what answer
    confidence is derived from.

    When the store can answer with ids only (:class:`IdQueryStore`) and the
    lexical index keeps the passages (:class:`PassageCatalog`, as
    :class:`~grokassist.retrieval.Bm25Index` does), the dense side reads
    passages and evaluates filters from memory instead of from the store: on
    Chroma that turns a ~10 ms fetch and a full metadata scan (0.2 s at 100k
    passages) into an id-only HNSW search. This assumes the lexical index holds
    the same passages as the store, which a knowledge base guarantees.
    """

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        lexical: LexicalIndex,
        *,
        candidates: int = 50,
        rrf_k: int = 5,
        mode: RetrievalMode = "hybrid",
        weights: tuple[float, float] = (1.0, 1.0),
        max_passages: int = 3,
    ) -> None:
        if candidates <= 0:
            raise ValueError("candidates must be > 0")
        if mode not in ("hybrid", "dense", "lexical"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.mode: RetrievalMode = mode
        self.weights = weights
        self.max_passages = max_passages
        self._fast = isinstance(store, IdQueryStore) and isinstance(lexical, PassageCatalog)

    # -- public ----------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        weights: tuple[float, float] | None = None,
    ) -> list[ScoredPassage]:
        """Best ``k`` passages for ``query`` among those matching ``filters``, best first.

        ``weights`` (dense, lexical) replace the retriever's own for this query.
        """
        if k <= 0 or not query.strip():
            return []
        return self._fuse(query, max(k, self.candidates), filters, limit=k, weights=weights)

    def search_documents(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        weights: tuple[float, float] | None = None,
    ) -> list[DocumentHit]:
        """Best ``k`` documents (scored by their best passage), each with up to ``max_passages``.

        ``weights`` (dense, lexical) replace the retriever's own for this query: a
        question in another language than the documents' finds little by its words
        (:func:`grokassist.language.fusion_weights`).
        """
        if k <= 0 or not query.strip():
            return []
        depth = max(k * self.max_passages, self.candidates)
        return rrf_documents(
            self._rankings(query, depth, filters),
            k=self.rrf_k,
            weights=weights or self.weights,
            limit=2 * depth,
            documents=k,
            max_passages=self.max_passages,
            bonus=_title_bonus(query),
        )

    # -- internals -------------------------------------------------------------------

    def _fuse(
        self,
        query: str,
        depth: int,
        filters: Filters | None,
        *,
        limit: int,
        weights: tuple[float, float] | None = None,
    ) -> list[ScoredPassage]:
        return rrf(
            self._rankings(query, depth, filters),
            k=self.rrf_k,
            weights=weights or self.weights,
            limit=limit,
            bonus=_title_bonus(query),
        )

    def _rankings(self, query: str, depth: int, filters: Filters | None) -> list[list[tuple[Passage, float]]]:
        """The dense and the lexical ranking (either empty when the mode leaves it out)."""
        dense: list[tuple[Passage, float]] = []
        lexical: list[tuple[Passage, float]] = []
        if self.mode != "lexical":
            dense = self._dense(self.embedder.embed_query(query), depth, filters)
        if self.mode != "dense":
            lexical = self.lexical.search(query, depth, filters)
        return [dense, lexical]

    def _dense(self, vector: Vectors, depth: int, filters: Filters | None) -> list[tuple[Passage, float]]:
        store, catalog = self.store, self.lexical
        if not self._fast or len(self.lexical) == 0:
            return store.query(vector, depth, filters)
        assert isinstance(store, IdQueryStore) and isinstance(catalog, PassageCatalog)
        if not filters:
            return self._resolve(store.query_ids(vector, depth))
        allowed = catalog.ids_matching(filters)
        if not allowed:
            return []
        wanted = math.ceil(1.5 * depth * len(self.lexical) / len(allowed))
        if wanted <= _MAX_OVERSAMPLE:
            hits = self._resolve(store.query_ids(vector, wanted))
            passing = [(p, s) for p, s in hits if matches(p.metadata, filters)]
            if len(passing) >= depth or len(hits) < wanted:  # enough, or the whole store was seen
                return passing[:depth]
        return self._resolve(store.query_ids(vector, depth, within=allowed))

    def _resolve(self, hits: list[tuple[str, float]]) -> list[tuple[Passage, float]]:
        """Passages for ``(id, score)`` hits: from the lexical index, else from the store."""
        assert isinstance(self.lexical, PassageCatalog) and isinstance(self.store, IdQueryStore)
        found = self.lexical.lookup([pid for pid, _ in hits])
        missing = [pid for (pid, _), p in zip(hits, found, strict=True) if p is None]
        extra = {p.id: p for p in self.store.get(missing)} if missing else {}
        out: list[tuple[Passage, float]] = []
        for (pid, score), passage in zip(hits, found, strict=True):
            resolved = passage or extra.get(pid)
            if resolved is not None:
                out.append((resolved, score))
        return out

    def __repr__(self) -> str:
        return f"HybridRetriever(mode={self.mode!r}, candidates={self.candidates}, rrf_k={self.rrf_k})"


_TIE_EPSILON = 1e-6


@lru_cache(maxsize=8192)
def _terms(text: str) -> frozenset[str]:
    from .lexical import tokenize

    return frozenset(tokenize(text))


def _title_bonus(query: str) -> Callable[[Passage], float] | None:
    """A tie-break for reciprocal-rank fusion: the share of query terms in a passage's title and headings.

    Fusion gives exact ties when the two retrievers disagree (first vs second
    place); the title match settles them, e.g. "Gen 3" in a question and in one
    of two otherwise similar articles' titles. The bonus is far below the
    smallest gap between two distinct RRF scores, so it never reorders passages
    that were not tied.
    """
    terms = _terms(query)
    if not terms:
        return None

    def bonus(passage: Passage) -> float:
        head = _terms(" ".join((passage.title, *passage.heading_path)))
        return _TIE_EPSILON * len(terms & head) / len(terms)

    return bonus
