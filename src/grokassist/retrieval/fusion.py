"""Reciprocal rank fusion and grouping of passages into documents.

RRF (Cormack et al., 2009) scores a passage ``sum_i w_i / (k + rank_i)`` over
the rankings it appears in (ranks start at 1). It needs no score calibration
between BM25 and cosine similarity, which is why hybrid search uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..types import DocumentHit, Passage, ScoredPassage

__all__ = ["group_documents", "rrf", "rrf_documents"]


class _Fusion:
    """The fused ranking of passage ids; :meth:`scored` builds a result on demand."""

    def __init__(
        self,
        rankings: Sequence[Sequence[tuple[Passage, float]]],
        k: int,
        weights: Sequence[float] | None,
        bonus: Callable[[Passage], float] | None,
    ) -> None:
        if k < 0:
            raise ValueError("k must be >= 0")
        if weights is None:
            weights = [1.0] * len(rankings)
        if len(weights) != len(rankings):
            raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
        self.passages: dict[str, Passage] = {}
        self.fused: dict[str, float] = {}
        best_rank: dict[str, int] = {}
        self.evidence: dict[str, dict[int, tuple[float, int]]] = {}
        for which, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
            for rank, (passage, score) in enumerate(ranking, start=1):
                seen = self.evidence.setdefault(passage.id, {})
                if which in seen:
                    continue
                seen[which] = (score, rank)
                self.passages.setdefault(passage.id, passage)
                self.fused[passage.id] = self.fused.get(passage.id, 0.0) + weight / (k + rank)
                best_rank[passage.id] = min(best_rank.get(passage.id, rank), rank)
        if bonus is not None:
            for pid in self.fused:
                self.fused[pid] += bonus(self.passages[pid])
        # ties: best rank in any ranking, then first appearance (the sort is stable)
        self.order = sorted(self.fused, key=lambda pid: (-self.fused[pid], best_rank[pid]))

    def scored(self, pid: str) -> ScoredPassage:
        dense = self.evidence[pid].get(0)
        lexical = self.evidence[pid].get(1)
        return ScoredPassage.model_construct(  # trusted values: skip validation on the hot path
            passage=self.passages[pid],
            score=self.fused[pid],
            dense_score=dense[0] if dense else None,
            dense_rank=dense[1] if dense else None,
            lexical_score=lexical[0] if lexical else None,
            lexical_rank=lexical[1] if lexical else None,
        )


def rrf(
    rankings: Sequence[Sequence[tuple[Passage, float]]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
    limit: int,
    bonus: Callable[[Passage], float] | None = None,
) -> list[ScoredPassage]:
    """Fuse rankings (each best first) into the best ``limit`` passages.

    By convention ``rankings[0]`` is the dense ranking and ``rankings[1]`` the
    lexical one: their scores and ranks fill ``dense_score``/``dense_rank`` and
    ``lexical_score``/``lexical_rank``; further rankings only add to the fused
    score. A passage listed twice in one ranking counts at its best rank. Ties
    are broken by the best rank in any ranking, then by first appearance.
    ``bonus(passage)``, when given, is added to a passage's fused score before
    ranking (the retriever's title tie-break).
    """
    fusion = _Fusion(rankings, k, weights, bonus)
    return [fusion.scored(pid) for pid in fusion.order[: max(0, limit)]]


def rrf_documents(
    rankings: Sequence[Sequence[tuple[Passage, float]]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
    limit: int,
    documents: int,
    max_passages: int = 3,
    bonus: Callable[[Passage], float] | None = None,
) -> list[DocumentHit]:
    """``group_documents(rrf(rankings, limit=limit, ...), max_passages=max_passages)[:documents]``.

    The same result, but only the passages of the returned documents are built,
    which matters on a busy server (a search fuses about a hundred candidates).
    """
    fusion = _Fusion(rankings, k, weights, bonus)
    groups: dict[str, list[str]] = {}
    for pid in fusion.order[: max(0, limit)]:  # best first, so each group's first is its best
        groups.setdefault(fusion.passages[pid].doc_id, []).append(pid)
    hits: list[DocumentHit] = []
    for doc_id, pids in list(groups.items())[: max(0, documents)]:
        items = tuple(fusion.scored(pid) for pid in pids[: max(1, max_passages)])
        first = items[0].passage
        hits.append(
            DocumentHit.model_construct(
                doc_id=doc_id, title=first.title, source=first.source, score=items[0].score, passages=items
            )
        )
    return hits


def group_documents(
    scored: Sequence[ScoredPassage], *, max_passages: int = 3, bonus: float = 0.0
) -> list[DocumentHit]:
    """Group passages by document, best document first.

    A document scores as its best passage, plus ``bonus`` times the scores of
    its other passages. The default 0 (max aggregation) is measured: on
    emanual-s10 / stackfaq a bonus of 0.1 dropped MRR@10 from 0.84 / 0.94 to
    0.78 / 0.67 and summing (1.0) to 0.43 / 0.54, because long documents with
    many mediocre passages overtake the one with the answer.
    Each hit keeps its ``max_passages`` best passages.
    """
    groups: dict[str, list[ScoredPassage]] = {}
    for sp in scored:
        groups.setdefault(sp.passage.doc_id, []).append(sp)
    hits: list[DocumentHit] = []
    for doc_id, items in groups.items():
        items.sort(key=lambda sp: -sp.score)
        score = items[0].score + bonus * sum(sp.score for sp in items[1:])
        first = items[0].passage
        hits.append(
            DocumentHit(
                doc_id=doc_id,
                title=first.title,
                source=first.source,
                score=score,
                passages=tuple(items[: max(1, max_passages)]),
            )
        )
    hits.sort(key=lambda h: -h.score)  # stable: ties keep the order of their best passage
    return hits
