"""Conformance checks for :class:`~grokassist.retrieval.base.VectorStore` implementations.

Subclass :class:`VectorStoreConformance` in a test module and provide a
``store`` fixture that yields an empty store (and removes it afterwards).
Vectors are small hand-made ones, so no embedding model is needed. Meant to
move to ``grokassist.testing`` once the store API settles.
"""

from __future__ import annotations

import numpy as np
import pytest

from grokassist.errors import StoreError
from grokassist.retrieval.base import VectorStore
from grokassist.types import Passage

DIM = 8


def unit(*values: float) -> np.ndarray:
    """A normalised float32 vector of length :data:`DIM` from its leading values."""
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def passage(pid: str, doc: str, text: str = "", **metadata: str | int | float | bool) -> Passage:
    return Passage(
        id=pid,
        doc_id=doc,
        text=text or f"text of {pid}",
        title=f"Title {doc}",
        source=f"docs/{doc}.md",
        heading_path=("Setup", f"Part {pid}"),
        position=int(pid.rsplit("-", 1)[-1]) if pid[-1].isdigit() else 0,
        metadata=dict(metadata),
    )


#: Five passages of three documents; axis 0 is "router", axis 1 "billing".
CORPUS = [
    (passage("r3-0", "reset-gen3", product="router-gen3", locale="en"), unit(1.0, 0.1)),
    (passage("r3-1", "reset-gen3", product="router-gen3", locale="de"), unit(1.0, 0.3)),
    (passage("r2-0", "reset-gen2", product="router-gen2", locale="en"), unit(1.0, 0.5)),
    (passage("b-0", "billing", product="all", locale="en", paid=True, weight=2), unit(0.1, 1.0)),
    (passage("b-1", "billing", product="all", locale="en", paid=False, weight=3), unit(0.2, 1.0, 0.2)),
]


def load(store: VectorStore) -> None:
    store.upsert([p for p, _ in CORPUS], np.stack([v for _, v in CORPUS]))


def ids(results: list[tuple[Passage, float]]) -> list[str]:
    return [p.id for p, _ in results]


class VectorStoreConformance:
    """The behaviour every vector store must show. Needs a ``store`` fixture."""

    def test_empty_store(self, store: VectorStore) -> None:
        assert store.count() == 0
        assert store.query(unit(1.0), 5) == []
        assert store.passages() == []

    def test_upsert_count_and_query_best_first(self, store: VectorStore) -> None:
        load(store)
        assert store.count() == 5
        results = store.query(unit(1.0, 0.1), 3)
        assert ids(results) == ["r3-0", "r3-1", "r2-0"]
        assert results[0][1] == pytest.approx(1.0, abs=1e-4)
        sims = [s for _, s in results]
        assert sims == sorted(sims, reverse=True)
        assert all(-1.0 - 1e-5 <= s <= 1.0 + 1e-5 for s in sims)

    def test_similarity_is_cosine(self, store: VectorStore) -> None:
        load(store)
        query = unit(0.3, 0.7, 0.1)
        for p, sim in store.query(query, 5):
            vector = dict((q.id, v) for q, v in CORPUS)[p.id]
            assert sim == pytest.approx(float(query @ vector), abs=1e-4)

    def test_fields_round_trip(self, store: VectorStore) -> None:
        load(store)
        by_id = {p.id: p for p in store.passages()}
        for original, _ in CORPUS:
            assert by_id[original.id] == original
        (hit, _), *_ = store.query(unit(0.1, 1.0), 1)
        assert hit == CORPUS[3][0]
        assert hit.metadata["paid"] is True and hit.metadata["weight"] == 2

    def test_k_bounds(self, store: VectorStore) -> None:
        load(store)
        assert len(store.query(unit(1.0), 50)) == 5
        assert store.query(unit(1.0), 0) == []

    def test_upsert_replaces_by_id(self, store: VectorStore) -> None:
        load(store)
        changed = CORPUS[0][0].model_copy(update={"text": "new text"})
        store.upsert([changed], unit(0.0, 0.0, 1.0)[None, :])
        assert store.count() == 5
        (hit, sim), *_ = store.query(unit(0.0, 0.0, 1.0), 1)
        assert hit.id == "r3-0" and hit.text == "new text" and sim == pytest.approx(1.0, abs=1e-4)

    def test_duplicate_ids_in_one_call_keep_the_last(self, store: VectorStore) -> None:
        first, second = CORPUS[0][0], CORPUS[0][0].model_copy(update={"text": "second"})
        store.upsert([first, second], np.stack([unit(1.0), unit(0.0, 1.0)]))
        assert store.count() == 1
        assert store.passages()[0].text == "second"

    def test_filter_equal(self, store: VectorStore) -> None:
        load(store)
        assert ids(store.query(unit(0.0, 1.0), 5, {"product": "router-gen3"})) == ["r3-1", "r3-0"]

    def test_filter_any_of(self, store: VectorStore) -> None:
        load(store)
        got = ids(store.query(unit(1.0), 5, {"product": ["router-gen2", "all"]}))
        assert set(got) == {"r2-0", "b-0", "b-1"} and got[0] == "r2-0"

    def test_filter_several_keys(self, store: VectorStore) -> None:
        load(store)
        assert ids(store.query(unit(1.0), 5, {"product": ["router-gen3", "all"], "locale": "de"})) == ["r3-1"]
        assert ids(store.query(unit(1.0), 5, {"paid": True})) == ["b-0"]
        assert ids(store.query(unit(1.0), 5, {"weight": 3})) == ["b-1"]

    def test_filter_without_match(self, store: VectorStore) -> None:
        load(store)
        assert store.query(unit(1.0), 5, {"product": "toaster"}) == []
        assert store.query(unit(1.0), 5, {"missing-key": "x"}) == []
        assert store.query(unit(1.0), 5, {"product": []}) == []

    def test_filtered_query_returns_the_best_matching(self, store: VectorStore) -> None:
        load(store)
        # the billing passages are the worst matches overall but the only ones passing
        got = store.query(unit(1.0), 1, {"product": "all"})
        assert ids(got) == ["b-1"]

    def test_delete_documents(self, store: VectorStore) -> None:
        load(store)
        store.delete_documents(["reset-gen3", "not-there"])
        assert store.count() == 3
        assert {p.doc_id for p in store.passages()} == {"reset-gen2", "billing"}
        store.delete_documents([])
        assert store.count() == 3

    def test_passages_pages_through_everything(self, store: VectorStore) -> None:
        many = [passage(f"m-{i}", f"doc{i % 7}") for i in range(1234)]
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(len(many), DIM)).astype(np.float32)
        store.upsert(many, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        listed = store.passages()
        assert len(listed) == 1234 and {p.id for p in listed} == {p.id for p in many}

    def test_drop(self, store: VectorStore) -> None:
        load(store)
        store.drop()
        assert store.count() == 0

    def test_vector_count_mismatch(self, store: VectorStore) -> None:
        with pytest.raises(StoreError):
            store.upsert([CORPUS[0][0]], np.zeros((2, DIM), dtype=np.float32))
