"""ChromaStore: the embedded persistent store and a real Chroma server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conformance import CORPUS, VectorStoreConformance, load, passage, unit
from servers import ChromaServer, free_port

from grokassist.errors import RetrievalError, StoreError
from grokassist.retrieval import ChromaStore, VectorStore, filters_to_where


def test_filters_to_where() -> None:
    assert filters_to_where(None) is None
    assert filters_to_where({}) is None
    assert filters_to_where({"product": "router"}) == {"product": {"$eq": "router"}}
    assert filters_to_where({"locale": ["en", "de"], "paid": True}) == {
        "$and": [{"locale": {"$in": ["en", "de"]}}, {"paid": {"$eq": True}}]
    }


class TestPersistentStore(VectorStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ChromaStore]:
        store = ChromaStore.persistent(tmp_path / "chroma", "kb-test")
        yield store
        store.close()

    def test_is_a_vector_store(self, store: ChromaStore) -> None:
        assert isinstance(store, VectorStore)

    def test_reopen_from_disk(self, store: ChromaStore, tmp_path: Path) -> None:
        load(store)
        store.close()
        again = ChromaStore.persistent(tmp_path / "chroma", "kb-test")
        try:
            assert again.count() == 5
            assert [p.id for p, _ in again.query(unit(0.1, 1.0), 2, {"locale": "en"})] == ["b-0", "b-1"]
            assert {p.id: p for p in again.passages()}["r3-0"] == CORPUS[0][0]
        finally:
            again.close()

    def test_collections_are_separate_and_cosine(self, store: ChromaStore, tmp_path: Path) -> None:
        load(store)
        other = ChromaStore(store.client, "kb-other")
        longer = (np.float32(3.0) * unit(1.0))[None, :]  # not normalised: cosine ignores the length
        other.upsert([CORPUS[0][0]], longer)
        assert other.query(unit(1.0), 1)[0][1] == pytest.approx(1.0, abs=1e-4)
        assert store.list_collections() == ["kb-other", "kb-test"]
        other.drop()
        assert store.list_collections() == ["kb-test"]
        assert store.count() == 5

    def test_reserved_metadata_keys(self, store: ChromaStore) -> None:
        with pytest.raises(StoreError, match="reserved"):
            store.upsert([passage("x-0", "x", ga_doc_id="spoof")], unit(1.0)[None, :])

    def test_get_by_id(self, store: ChromaStore) -> None:
        load(store)
        assert [p.id for p in store.get(["b-1", "nope", "r3-0", "b-1"])] == ["b-1", "r3-0"]
        assert store.get([]) == []

    def test_query_ids(self, store: ChromaStore) -> None:
        load(store)
        assert [pid for pid, _ in store.query_ids(unit(1.0, 0.1), 2)] == ["r3-0", "r3-1"]

    def test_upsert_in_batches(self, store: ChromaStore) -> None:
        store._max_batch = 2  # force several client calls
        load(store)
        assert store.count() == 5

    def test_chroma_errors_become_store_errors(self, store: ChromaStore) -> None:
        load(store)
        with pytest.raises(StoreError, match="kb-test"):
            store.query(np.ones(3, dtype=np.float32), 2)  # wrong dimension
        assert issubclass(StoreError, RetrievalError)

    def test_bad_collection_name(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError):
            ChromaStore.persistent(tmp_path / "c", "a b").count()


@pytest.mark.integration
class TestChromaServer(VectorStoreConformance):
    @pytest.fixture
    def store(self, chroma_server: ChromaServer) -> Iterator[ChromaStore]:
        store = ChromaStore.http(chroma_server.host, chroma_server.port, f"kb-{uuid.uuid4().hex[:12]}")
        yield store
        store.drop()
        store.close()

    def test_server_keeps_data_across_clients(self, store: ChromaStore, chroma_server: ChromaServer) -> None:
        load(store)
        second = ChromaStore.http(chroma_server.host, chroma_server.port, store.collection_name)
        try:
            assert second.count() == 5
            assert [p.id for p, _ in second.query(unit(1.0), 1, {"product": "router-gen2"})] == ["r2-0"]
        finally:
            second.close()


def test_dead_server_fails_fast() -> None:
    port = free_port()
    start = time.monotonic()
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
        ChromaStore.http("127.0.0.1", port, "kb")
    assert time.monotonic() - start < 5.0


@pytest.mark.integration
def test_server_going_down_raises_store_error_naming_it(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "data")
    try:
        server.wait_ready()
        store = ChromaStore.http(server.host, server.port, "kb-down")
        load(store)
        server.stop()
        start = time.monotonic()
        with pytest.raises(StoreError, match=f"{server.host}:{server.port}"):
            store.query(unit(1.0), 3)
        assert time.monotonic() - start < 10.0
        store.close()
    finally:
        server.stop()
