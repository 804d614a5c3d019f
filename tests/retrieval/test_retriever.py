"""HybridRetriever over the real embedder, Chroma and BM25."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from grokassist.retrieval import Bm25Index, ChromaStore, HybridRetriever, OnnxEmbedder
from grokassist.retrieval.base import Filters, Vectors, matches
from grokassist.types import Passage

PASSAGES = [
    Passage(id="r3-0", doc_id="reset-gen3", title="Factory reset the Gen 3 router", position=0,
            text="Press and hold the pinhole reset button on the back of the Gen 3 router for 10 seconds.",
            metadata={"product": "router-gen3", "locale": "en"}),
    Passage(id="r3-1", doc_id="reset-gen3", title="Factory reset the Gen 3 router", position=1,
            text="The light turns white when the router has restarted with its factory settings.",
            metadata={"product": "router-gen3", "locale": "en"}),
    Passage(id="r2-0", doc_id="reset-gen2", title="Factory reset the Gen 2 router",
            text="The Gen 2 router has no reset button. Power-cycle it three times to reset it.",
            metadata={"product": "router-gen2", "locale": "en"}),
    Passage(id="ob-0", doc_id="obstructions", title="Fix obstructions",
            text="Trees, roofs and poles between the dish and the sky interrupt the signal.",
            metadata={"product": "dish", "locale": "en"}),
    Passage(id="ob-1", doc_id="obstructions", title="Fix obstructions", position=1,
            text="Run the obstruction checker in the app; move the dish to a clear view of the sky.",
            metadata={"product": "dish", "locale": "en"}),
    Passage(id="bill-0", doc_id="pause", title="Pause your service",
            text="You can pause your service from the account page. A paused service is not billed.",
            metadata={"product": "all", "locale": "en-GB"}),
]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, onnx_embedder: OnnxEmbedder) -> Iterator[ChromaStore]:
    chroma = ChromaStore.persistent(tmp_path / "chroma", "kb-retriever")
    chroma.upsert(PASSAGES, onnx_embedder.embed([p.indexed_text() for p in PASSAGES]))
    yield chroma
    chroma.close()


@pytest.fixture
def lexical() -> Bm25Index:
    index = Bm25Index()
    index.build(PASSAGES)
    return index


@pytest.fixture
def retriever(onnx_embedder: OnnxEmbedder, store: ChromaStore, lexical: Bm25Index) -> HybridRetriever:
    return HybridRetriever(onnx_embedder, store, lexical)


def test_hybrid_search(retriever: HybridRetriever) -> None:
    results = retriever.search("How do I reset my Gen 3 router?", 3)
    assert results[0].passage.id == "r3-0"
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    top = results[0]
    assert top.dense_score is not None and 0.3 < top.dense_score <= 1.0
    assert top.dense_rank is not None and top.lexical_rank == 1  # "Gen 3" decides it: BM25 wins here


def test_dense_score_is_the_cosine(retriever: HybridRetriever, onnx_embedder: OnnxEmbedder) -> None:
    query = "my dish loses signal because of trees"
    results = retriever.search(query, 2)
    embedded = onnx_embedder.embed([p.indexed_text() for p in PASSAGES])
    vectors = {p.id: v for p, v in zip(PASSAGES, embedded, strict=True)}
    q = onnx_embedder.embed_query(query)
    for r in results:
        assert r.dense_score == pytest.approx(float(q @ vectors[r.passage.id]), abs=1e-4)


def test_filters_apply_to_both_sides(retriever: HybridRetriever) -> None:
    results = retriever.search("reset the router", 5, {"product": "router-gen2"})
    assert [r.passage.id for r in results] == ["r2-0"]
    results = retriever.search("reset the router", 5, {"product": ["dish", "all"], "locale": "en"})
    assert {r.passage.id for r in results} <= {"ob-0", "ob-1"}
    assert retriever.search("reset the router", 5, {"product": "toaster"}) == []


def test_modes(onnx_embedder: OnnxEmbedder, store: ChromaStore, lexical: Bm25Index) -> None:
    dense = HybridRetriever(onnx_embedder, store, lexical, mode="dense").search("pause billing", 3)
    assert dense[0].passage.id == "bill-0" and all(r.lexical_rank is None for r in dense)
    words = HybridRetriever(onnx_embedder, store, lexical, mode="lexical").search("pause billing", 3)
    assert [r.passage.id for r in words] == ["bill-0"] and words[0].dense_score is None
    with pytest.raises(ValueError):
        HybridRetriever(onnx_embedder, store, lexical, mode="fuzzy")  # type: ignore[arg-type]


def test_search_documents(retriever: HybridRetriever) -> None:
    hits = retriever.search_documents("router factory reset", 2)
    assert len(hits) == 2 and {h.doc_id for h in hits} == {"reset-gen3", "reset-gen2"}
    gen3 = next(h for h in hits if h.doc_id == "reset-gen3")
    assert gen3.title == "Factory reset the Gen 3 router"
    assert {sp.passage.id for sp in gen3.passages} == {"r3-0", "r3-1"}
    assert gen3.score == max(sp.score for sp in gen3.passages)
    only = retriever.search_documents("router factory reset", 5, {"locale": "en-GB"})
    assert [h.doc_id for h in only] == ["pause"]


def test_trivial_queries(retriever: HybridRetriever) -> None:
    assert retriever.search("   ", 5) == []
    assert retriever.search("router", 0) == []
    assert retriever.search_documents("", 5) == []


# -- the fast path (ids from Chroma, passages from the BM25 index) ---------------------


class HashEmbedder:
    """Deterministic random unit vectors per text: fast, for structural tests."""

    name = "hash"
    dim = 16

    def embed(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self.embed_query(t) for t in texts])

    def embed_query(self, text: str) -> Vectors:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)


class PlainStore:
    """Only the VectorStore protocol: forces the retriever's general path."""

    def __init__(self, inner: ChromaStore) -> None:
        self.inner = inner

    def upsert(self, passages: Sequence[Passage], vectors: Vectors) -> None:
        self.inner.upsert(passages, vectors)

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        self.inner.delete_documents(doc_ids)

    def query(self, vector: Vectors, k: int, filters: Filters | None = None) -> list[tuple[Passage, float]]:
        return self.inner.query(vector, k, filters)

    def passages(self) -> list[Passage]:
        return self.inner.passages()

    def count(self) -> int:
        return self.inner.count()

    def drop(self) -> None:
        self.inner.drop()


@pytest.fixture
def synthetic(tmp_path: Path) -> Iterator[tuple[HashEmbedder, ChromaStore, Bm25Index, list[Passage]]]:
    embedder = HashEmbedder()
    many = [
        Passage(
            id=f"s-{i}",
            doc_id=f"d{i // 3}",
            text=f"passage {i} about topic{i % 7}",
            metadata={"bucket": i % 100, "half": i % 2 == 0},
        )
        for i in range(600)
    ]
    chroma = ChromaStore.persistent(tmp_path / "synthetic", "syn")
    chroma.upsert(many, embedder.embed([p.text for p in many]))
    index = Bm25Index()
    index.build(many)
    yield embedder, chroma, index, many
    chroma.close()


@pytest.mark.parametrize(
    "filters",
    [None, {"half": True}, {"bucket": list(range(12))}, {"bucket": 7}, {"bucket": [3, 4], "half": False}],
    ids=["none", "50%", "12%", "1%", "2-keys"],
)
def test_fast_path_matches_the_general_path(
    synthetic: tuple[HashEmbedder, ChromaStore, Bm25Index, list[Passage]], filters: Filters | None
) -> None:
    embedder, chroma, index, many = synthetic
    fast = HybridRetriever(embedder, chroma, index, mode="dense", candidates=20)
    slow = HybridRetriever(embedder, PlainStore(chroma), index, mode="dense", candidates=20)
    assert fast._fast and not slow._fast
    vectors = {p.id: embedder.embed_query(p.text) for p in many}
    for query in ("topic3 question", "another query", "passage 17"):
        got = fast.search(query, 10, filters)
        assert [r.passage.id for r in got] == [r.passage.id for r in slow.search(query, 10, filters)]
        # exact check against brute force over the passing passages
        q = embedder.embed_query(query)
        passing = [p for p in many if matches(p.metadata, filters)]
        best = sorted(passing, key=lambda p: -float(q @ vectors[p.id]))[: len(got)]
        assert [r.passage.id for r in got] == [p.id for p in best]
        assert all(matches(r.passage.metadata, filters) for r in got)


def test_fast_path_fetches_passages_the_index_lacks(
    synthetic: tuple[HashEmbedder, ChromaStore, Bm25Index, list[Passage]],
) -> None:
    embedder, chroma, index, _ = synthetic
    extra = Passage(id="extra-0", doc_id="extra", text="only in the store")
    chroma.upsert([extra], embedder.embed_query("only in the store")[None, :])
    retriever = HybridRetriever(embedder, chroma, index, mode="dense")
    assert retriever.search("only in the store", 1)[0].passage == extra
