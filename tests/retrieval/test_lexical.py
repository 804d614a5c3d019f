"""Bm25Index: ranking, filters, persistence, edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grokassist.errors import RetrievalError
from grokassist.retrieval import Bm25Index, LexicalIndex
from grokassist.retrieval.lexical import tokenize
from grokassist.types import Passage


def p(pid: str, text: str, title: str = "", **metadata: str | int | bool) -> Passage:
    return Passage(id=pid, doc_id=pid.split("-")[0], text=text, title=title, metadata=dict(metadata))


PASSAGES = [
    p("reset-0", "Hold the reset button for ten seconds to restore factory settings.", "Reset the router",
      product="router", locale="en"),
    p("reset-1", "After resetting, reconnect to the default network.", "Reset the router",
      product="router", locale="de"),
    p("bill-0", "Pause your subscription from the account page; paused service is not billed.", "Billing",
      product="all", locale="en"),
    p("dish-0", "Obstructions such as trees interrupt the signal between the dish and the sky.", "Dish",
      product="dish", locale="en"),
    p("dish-1", "Mount the dish on the roof for a clear view of the sky.", "Dish",
      product="dish", locale="de"),
]  # fmt: skip


@pytest.fixture
def index() -> Bm25Index:
    idx = Bm25Index()
    idx.build(PASSAGES)
    return idx


def ids(results: list[tuple[Passage, float]]) -> list[str]:
    return [passage.id for passage, _ in results]


def test_tokenize_stems_and_drops_stopwords() -> None:
    assert tokenize("The Routers are Resetting!") == ["router", "reset"]
    assert tokenize("the a of") == []
    assert tokenize("Gen 3 router, step 2") == ["gen", "3", "router", "step", "2"]


def test_a_hyphenated_compound_is_found_written_either_way() -> None:
    idx = Bm25Index()
    idx.build(
        [
            p("wifi-0", "Change the Wi-Fi password in the app."),
            p("mail-0", "We e-mail your invoice."),
            *PASSAGES,
        ]
    )
    assert ids(idx.search("wifi password", 1)) == ["wifi-0"]
    assert ids(idx.search("when is the invoice email sent", 1)) == ["mail-0"]
    # a long compound stays two words: "self-aligning" is not "selfaligning"
    assert "selfalign" not in tokenize("a self-aligning dish")


def test_protocol_and_len(index: Bm25Index) -> None:
    assert isinstance(index, LexicalIndex)
    assert len(index) == 5
    assert index.passages() == PASSAGES


def test_ranking(index: Bm25Index) -> None:
    results = index.search("how to reset my router", 3)
    assert set(ids(results)[:2]) == {"reset-0", "reset-1"}  # "resetting" is stemmed; the title counts
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert ids(index.search("paused billing", 1)) == ["bill-0"]


def test_only_matching_passages_are_returned(index: Bm25Index) -> None:
    assert ids(index.search("subscription", 10)) == ["bill-0"]


def test_unknown_terms_and_empty_queries(index: Bm25Index) -> None:
    assert index.search("xylophone quasar", 5) == []
    assert index.search("the of and", 5) == []
    assert index.search("", 5) == []
    assert index.search("router", 0) == []


def test_empty_index() -> None:
    empty = Bm25Index()
    assert len(empty) == 0
    assert empty.search("router", 5) == []
    empty.build([])
    assert empty.search("router", 5) == []


def test_filters(index: Bm25Index) -> None:
    assert set(ids(index.search("reset router dish sky", 5, {"locale": "de"}))) == {"reset-1", "dish-1"}
    assert ids(index.search("reset", 5, {"product": "dish"})) == []
    assert set(ids(index.search("dish router", 5, {"product": ["dish", "router"], "locale": "en"}))) == {
        "reset-0",
        "dish-0",
    }
    assert index.search("reset", 5, {"product": []}) == []


def test_filtered_search_returns_the_best_passing_not_fewer() -> None:
    """Many better-scoring passages fail the filter: the k best passing ones still come back."""
    noise = [p(f"noise-{i}", "router reset router reset router", product="other") for i in range(200)]
    wanted = [p(f"want-{i}", "router " + "filler " * i, product="mine") for i in range(5)]
    idx = Bm25Index()
    idx.build(noise + wanted)
    got = idx.search("router reset", 3, {"product": "mine"})
    assert ids(got) == ["want-0", "want-1", "want-2"]


def test_save_and_load_round_trip(index: Bm25Index, tmp_path: Path) -> None:
    index.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25")
    assert loaded.passages() == PASSAGES
    for query in ("reset router", "sky", "billing pause"):
        assert loaded.search(query, 5) == index.search(query, 5)
    assert loaded.search("sky", 5, {"locale": "de"}) == index.search("sky", 5, {"locale": "de"})
    np.testing.assert_allclose(loaded.scores("dish"), index.scores("dish"))


def test_save_and_load_empty(tmp_path: Path) -> None:
    Bm25Index().save(tmp_path / "empty")
    loaded = Bm25Index.load(tmp_path / "empty")
    assert len(loaded) == 0 and loaded.search("x", 3) == []


def test_load_errors(tmp_path: Path, index: Bm25Index) -> None:
    with pytest.raises(RetrievalError):
        Bm25Index.load(tmp_path / "missing")
    index.save(tmp_path / "bm25")
    (tmp_path / "bm25" / "passages.jsonl").write_text("")
    with pytest.raises(RetrievalError, match="does not match"):
        Bm25Index.load(tmp_path / "bm25")


def test_lookup_and_ids_matching(index: Bm25Index) -> None:
    assert index.lookup(["dish-1", "nope"]) == [PASSAGES[4], None]
    assert index.ids_matching({"locale": "de"}) == ["reset-1", "dish-1"]
    assert index.ids_matching({}) == [x.id for x in PASSAGES]


def test_rebuild_replaces(index: Bm25Index) -> None:
    index.build(PASSAGES[:1])
    assert len(index) == 1
    assert index.search("sky", 5) == []
