"""open_ticketing: URIs, settings, the entry-point group and run-time registration."""

from __future__ import annotations

from typing import Any

import pytest

from grokassist.adapters.ticketing import known_ticketing_schemes, open_ticketing, register_ticketing
from grokassist.adapters.ticketing.registry import _registered
from grokassist.adapters.ticketing.zendesk import ZendeskAdapter
from grokassist.config import TicketingSettings, load_settings
from grokassist.errors import ConfigurationError
from grokassist.testing import FakeTicketingAdapter


def test_every_system_has_a_scheme() -> None:
    assert {"freshdesk", "github", "jsm", "rt", "servicenow", "zendesk"} <= set(known_ticketing_schemes())


def test_the_entry_point_group_is_honoured() -> None:
    assert (
        "fake" in known_ticketing_schemes()
    )  # pyproject.toml: [project.entry-points."grokassist.ticketing"]
    assert isinstance(open_ticketing("fake://", settings=TicketingSettings()), FakeTicketingAdapter)


def test_run_time_registration_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, dict[str, Any]]] = []

    def factory(uri: str, **options: Any) -> FakeTicketingAdapter:
        made.append((uri, options))
        return FakeTicketingAdapter()

    monkeypatch.setitem(_registered, "zendesk", factory)
    register_ticketing("zendesk", factory)
    open_ticketing("zendesk://acme", settings=TicketingSettings(token="t"), extra="x")
    assert made == [("zendesk://acme", {"timeout": 15.0, "token": "t", "extra": "x"})]
    with pytest.raises(ConfigurationError, match="invalid ticketing scheme"):
        register_ticketing("Bad Scheme", factory)


def test_settings_come_from_the_environment_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GROKASSIST_TICKETING__URL", "zendesk://acme")
    monkeypatch.setenv("GROKASSIST_TICKETING__USER", "bot@acme.example")
    monkeypatch.setenv("GROKASSIST_TICKETING__TOKEN", "zd-secret-123")
    monkeypatch.setenv("GROKASSIST_TICKETING__TIMEOUT_S", "4")
    settings = load_settings()
    assert "zd-secret-123" not in repr(settings) and "zd-secret-123" not in str(settings.model_dump())
    adapter = open_ticketing()
    assert isinstance(adapter, ZendeskAdapter) and adapter.name == "zendesk:https://acme.zendesk.com"
    assert "zd-secret-123" not in repr(adapter)
    assert adapter._timeout == 4.0


def test_clear_errors_for_bad_uris_and_options() -> None:
    settings = TicketingSettings()
    with pytest.raises(ConfigurationError, match="no ticketing system configured"):
        open_ticketing(settings=settings)
    with pytest.raises(ConfigurationError, match=r"scheme://"):
        open_ticketing("zendesk", settings=settings)
    with pytest.raises(ConfigurationError, match="unknown ticketing system 'otrs'"):
        open_ticketing("otrs://helpdesk", settings=settings)
    with pytest.raises(ConfigurationError, match="names no host"):
        open_ticketing("zendesk://", settings=settings, token="t")
    with pytest.raises(ConfigurationError, match="unexpected keyword"):
        open_ticketing("github://acme/support", settings=settings, token="t", queue="General")
