"""Reciprocal rank fusion and document grouping."""

from __future__ import annotations

import pytest

from grokassist.retrieval import group_documents, rrf
from grokassist.types import Passage, ScoredPassage


def p(pid: str, doc: str | None = None) -> Passage:
    return Passage(id=pid, doc_id=doc or pid.split("-")[0], text=pid, title=f"T {doc or pid}")


A, B, C, D = p("a-0"), p("b-0"), p("c-0"), p("d-0")


def test_rrf_math_and_evidence() -> None:
    dense = [(A, 0.9), (B, 0.8), (C, 0.7)]
    lexical = [(C, 12.0), (A, 8.0), (D, 1.0)]
    fused = rrf([dense, lexical], k=60, limit=10)
    scores = {sp.passage.id: sp.score for sp in fused}
    assert scores["a-0"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c-0"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b-0"] == pytest.approx(1 / 62)
    assert scores["d-0"] == pytest.approx(1 / 63)
    assert [sp.passage.id for sp in fused] == ["a-0", "c-0", "b-0", "d-0"]
    a = fused[0]
    assert (a.dense_score, a.dense_rank, a.lexical_score, a.lexical_rank) == (0.9, 1, 8.0, 2)
    d = fused[-1]
    assert d.dense_score is None and d.dense_rank is None and d.lexical_rank == 3


def test_rrf_bonus_breaks_exact_ties_only() -> None:
    dense = [(A, 0.9), (B, 0.8), (C, 0.1)]
    lexical = [(B, 5.0), (A, 4.0)]  # a and b tie exactly: 1/61 + 1/62 each
    plain = rrf([dense, lexical], k=60, limit=5)
    assert [sp.passage.id for sp in plain] == ["a-0", "b-0", "c-0"]  # tie: first appearance
    favour_b = rrf([dense, lexical], k=60, limit=5, bonus=lambda q: 1e-6 if q.id == "b-0" else 0.0)
    assert [sp.passage.id for sp in favour_b] == ["b-0", "a-0", "c-0"]
    assert favour_b[0].score == pytest.approx(1 / 61 + 1 / 62 + 1e-6)
    favour_c = rrf([dense, lexical], k=60, limit=5, bonus=lambda q: 1e-6 if q.id == "c-0" else 0.0)
    assert [sp.passage.id for sp in favour_c][-1] == "c-0"  # a tiny bonus never jumps a real gap


def test_rrf_weights_limit_and_k() -> None:
    dense = [(A, 0.9), (B, 0.8)]
    lexical = [(B, 5.0), (A, 1.0)]
    assert [sp.passage.id for sp in rrf([dense, lexical], k=60, weights=[2.0, 1.0], limit=5)] == [
        "a-0",
        "b-0",
    ]
    assert [sp.passage.id for sp in rrf([dense, lexical], k=60, weights=[1.0, 2.0], limit=5)] == [
        "b-0",
        "a-0",
    ]
    assert len(rrf([dense, lexical], limit=1)) == 1
    assert rrf([dense, lexical], limit=0) == []
    fused = rrf([dense, lexical], k=0, limit=2)
    assert fused[0].score == pytest.approx(1 / 1 + 1 / 2)
    with pytest.raises(ValueError):
        rrf([dense, lexical], weights=[1.0], limit=2)


def test_rrf_equal_scores_keep_first_appearance() -> None:
    fused = rrf([[(A, 0.9), (B, 0.5)], [(C, 4.0), (D, 3.0)]], k=60, limit=4)
    assert [x.passage.id for x in fused] == ["a-0", "c-0", "b-0", "d-0"]
    assert fused[0].score == fused[1].score


def test_rrf_single_and_empty_rankings() -> None:
    only = rrf([[(A, 0.5), (B, 0.4)]], limit=5)
    assert [sp.passage.id for sp in only] == ["a-0", "b-0"] and only[0].lexical_score is None
    assert rrf([[], []], limit=5) == []
    lexical_only = rrf([[], [(C, 3.0)]], limit=5)
    assert lexical_only[0].lexical_rank == 1 and lexical_only[0].dense_score is None


def test_rrf_duplicate_in_one_ranking_counts_once() -> None:
    fused = rrf([[(A, 0.9), (A, 0.1)]], k=60, limit=5)
    assert len(fused) == 1 and fused[0].score == pytest.approx(1 / 61)


def sp(pid: str, score: float, doc: str | None = None) -> ScoredPassage:
    return ScoredPassage(passage=p(pid, doc), score=score)


def test_group_documents_scores_by_best_passage() -> None:
    scored = [
        sp("x-0", 0.9, "x"),
        sp("y-0", 0.8, "y"),
        sp("y-1", 0.7, "y"),
        sp("y-2", 0.6, "y"),
        sp("x-1", 0.1, "x"),
    ]
    hits = group_documents(scored, max_passages=2)
    assert [h.doc_id for h in hits] == ["x", "y"]
    assert hits[0].score == 0.9 and hits[0].title == "T x"
    assert [s.passage.id for s in hits[1].passages] == ["y-0", "y-1"]


def test_group_documents_bonus_sums_other_passages() -> None:
    scored = [sp("x-0", 0.9, "x"), sp("y-0", 0.8, "y"), sp("y-1", 0.7, "y")]
    hits = group_documents(scored, bonus=1.0)
    assert hits[0].doc_id == "y" and hits[0].score == pytest.approx(1.5)
    assert group_documents([]) == []


def test_rrf_documents_equals_grouping_the_fused_passages() -> None:
    import random

    from grokassist.retrieval import rrf_documents

    rng = random.Random(7)
    pool = [p(f"{doc}-{i}") for doc in "abcdefgh" for i in range(4)]
    for _ in range(50):
        dense = [(q, 1.0 - i / 40) for i, q in enumerate(rng.sample(pool, 20))]
        lexical = [(q, 20.0 - i) for i, q in enumerate(rng.sample(pool, 20))]
        bonus = (lambda q: 1e-6 if q.doc_id == "c" else 0.0) if rng.random() < 0.5 else None
        limit, documents, max_passages = rng.choice([(10, 3, 2), (40, 5, 3), (25, 8, 1)])
        expected = group_documents(
            rrf([dense, lexical], k=5, limit=limit, bonus=bonus), max_passages=max_passages
        )[:documents]
        got = rrf_documents(
            [dense, lexical],
            k=5,
            limit=limit,
            documents=documents,
            max_passages=max_passages,
            bonus=bonus,
        )
        assert [h.model_dump() for h in got] == [h.model_dump() for h in expected]
