from pathlib import Path

import pytest

from grokassist.config import load_settings
from grokassist.errors import ConfigurationError


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.kb == "default"
    assert s.retrieval.top_k == 5
    assert 0 < s.answer.abstain_below < 1


def test_environment_then_file_then_explicit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "grokassist.toml").write_text(
        'kb = "from-file"\nbackend = "extractive:"\n[retrieval]\ntop_k = 7\n'
    )
    s = load_settings()
    assert (s.kb, s.backend, s.retrieval.top_k) == ("from-file", "extractive:", 7)
    monkeypatch.setenv("GROKASSIST_KB", "from-env")
    monkeypatch.setenv("GROKASSIST_RETRIEVAL__TOP_K", "3")
    s = load_settings()
    assert (s.kb, s.retrieval.top_k) == ("from-env", 3)
    assert load_settings(kb="explicit").kb == "explicit"


def test_config_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text("[answer]\nabstain_below = 0.3\n")
    monkeypatch.setenv("GROKASSIST_CONFIG", str(cfg))
    assert load_settings().answer.abstain_below == 0.3
    monkeypatch.setenv("GROKASSIST_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match="not a file"):
        load_settings()


def test_invalid_values_are_configuration_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="top_k"):
        load_settings(retrieval={"top_k": 0})
    with pytest.raises(ConfigurationError):
        load_settings(unknown_option=1)
