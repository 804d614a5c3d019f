"""Evaluation on support-QA sets in the plain format of ``shared/eval``.

A dataset folder has ``docs/*.md`` (one article per file, its id the file
stem) and ``queries.jsonl`` (``question``, ``gold`` article ids, reference
``answer``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .errors import ConfigurationError
from .knowledge import KnowledgeBase
from .types import DocumentHit

__all__ = ["EvalQuery", "RetrievalMetrics", "evaluate_retrieval", "load_queries", "retrieval_metrics"]


class EvalQuery(BaseModel):
    """One question of an evaluation set."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    question: str
    gold: tuple[str, ...]
    answer: str = ""
    kind: str = ""


class RetrievalMetrics(BaseModel):
    """Document-level retrieval quality."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    n: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float

    def as_report(self) -> dict[str, float | int]:
        """The figures under their conventional names (``recall@5``...)."""
        return {
            "n": self.n,
            "recall@1": self.recall_at_1,
            "recall@5": self.recall_at_5,
            "recall@10": self.recall_at_10,
            "mrr@10": self.mrr_at_10,
        }


def load_queries(dataset: Path) -> list[EvalQuery]:
    """Read ``queries.jsonl`` of a dataset folder."""
    file = dataset / "queries.jsonl"
    if not file.is_file():
        raise ConfigurationError(f"{dataset} is not an evaluation set: {file} is missing")
    out = []
    for n, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuery.model_validate_json(line))
        except ValueError as exc:
            raise ConfigurationError(f"{file}:{n}: not a valid query record: {exc}") from exc
    return out


def doc_key(doc_id: str) -> str:
    """The evaluation id of an ingested document: its file stem."""
    return Path(doc_id).stem


def retrieval_metrics(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> RetrievalMetrics:
    """Recall@k and MRR@10 of ranked document ids against gold ids."""
    n = len(gold)
    if n == 0:
        return RetrievalMetrics(n=0, recall_at_1=0.0, recall_at_5=0.0, recall_at_10=0.0, mrr_at_10=0.0)
    rec = {1: 0.0, 5: 0.0, 10: 0.0}
    mrr = 0.0
    for ids, want in zip(ranked, gold, strict=True):
        wanted = set(want)
        for k in rec:
            if wanted.intersection(ids[:k]):
                rec[k] += 1
        for rank, doc in enumerate(ids[:10], start=1):
            if doc in wanted:
                mrr += 1.0 / rank
                break
    return RetrievalMetrics(
        n=n,
        recall_at_1=round(rec[1] / n, 4),
        recall_at_5=round(rec[5] / n, 4),
        recall_at_10=round(rec[10] / n, 4),
        mrr_at_10=round(mrr / n, 4),
    )


def ingest_dataset(kb: KnowledgeBase, dataset: Path, progress: Callable[[str, int, int], None] | None = None) -> None:
    """Sync the dataset's ``docs/`` into ``kb``."""
    docs = dataset / "docs"
    if not docs.is_dir():
        raise ConfigurationError(f"{dataset} is not an evaluation set: {docs} is missing")
    kb.ingest(docs, progress=progress)


def evaluate_retrieval(
    kb: KnowledgeBase,
    queries: Sequence[EvalQuery],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RetrievalMetrics, list[list[DocumentHit]]]:
    """Rank documents for every query; document-level metrics."""
    ranked: list[list[str]] = []
    hits_all: list[list[DocumentHit]] = []
    for i, q in enumerate(queries, start=1):
        hits = kb.search_documents(q.question, k=10)
        hits_all.append(hits)
        ranked.append([doc_key(h.doc_id) for h in hits])
        if progress:
            progress(i, len(queries))
    return retrieval_metrics(ranked, [q.gold for q in queries]), hits_all


def dump_json(data: object) -> str:
    """Compact, stable JSON for reports."""
    return json.dumps(data, sort_keys=False)
