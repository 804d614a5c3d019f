"""The cached, exact graph optimisation of the embedding model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest

from grokassist.retrieval import OnnxEmbedder
from grokassist.retrieval.embedder import _default_files
from grokassist.retrieval.onnx_graph import optimise, remove_softmax_nan_guards

TEXTS = [
    "How do I factory reset the Gen 3 router?",
    "ok",
    "Trees, roofs and poles between the dish and the sky interrupt the signal. " * 40,  # > 256 tokens
    "Press and hold the reset button on the back of the router for ten seconds.",
    "You can pause your subscription from the account page; a paused service is not billed. " * 3,
]


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def test_nan_guards_of_the_packaged_model_are_removed() -> None:
    model = onnx.load(str(_default_files()[0]))
    before = op_counts(model)
    assert before.get("IsNaN") == 6  # one per attention layer

    assert remove_softmax_nan_guards(model.graph) == 6
    after = op_counts(model)
    assert "IsNaN" not in after
    assert after["Where"] == before["Where"] - 6
    assert after["Softmax"] == before["Softmax"]
    onnx.checker.check_model(model)  # still a valid graph: every input has a producer


def test_a_where_that_is_not_a_nan_guard_is_kept() -> None:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])  # fills with 1, not 0
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"]),
        helper.make_node("IsNaN", ["s"], ["n"]),
        helper.make_node("Where", ["n", "one", "s"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=[one])
    assert remove_softmax_nan_guards(graph) == 0
    assert [n.op_type for n in graph.node] == ["Softmax", "IsNaN", "Where"]


def test_optimised_model_gives_the_same_vectors_and_is_cached(tmp_path: Path) -> None:
    source = _default_files()[0]
    path = optimise(source, tmp_path)
    assert isinstance(path, Path) and path.parent == tmp_path / "onnx" and path.is_file()
    stamp = path.stat().st_mtime_ns
    assert optimise(source, tmp_path) == path and path.stat().st_mtime_ns == stamp  # reused
    ops = op_counts(onnx.load(str(path)))
    assert "IsNaN" not in ops and ops.get("BiasGelu") == 6 and ops.get("SkipLayerNormalization") == 12

    fast = OnnxEmbedder(threads=1)
    plain = OnnxEmbedder(threads=1, optimise_graph=False, batch_size=32)
    a, b = fast.embed(TEXTS), plain.embed(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.abs(a - b).max() < 1e-4
    assert np.min(np.sum(a * b, axis=1)) > 0.99999


def test_a_model_that_cannot_be_optimised_is_used_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"this is not a protobuf")
    with caplog.at_level(logging.WARNING, logger="grokassist.retrieval.onnx_graph"):
        assert optimise(broken, tmp_path / "cache") == broken
    assert "unoptimised" in caplog.text
    assert not (tmp_path / "cache" / "onnx").exists() or not any((tmp_path / "cache" / "onnx").iterdir())


def test_an_unwritable_cache_serves_the_model_from_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    result = optimise(_default_files()[0], blocker)
    assert isinstance(result, bytes)
    assert "IsNaN" not in op_counts(onnx.load_from_string(result))
