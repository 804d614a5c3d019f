"""The help-centre connectors against their vendors' recorded API shapes: the shared conformance
suite, then what is particular to each (authentication, hosts, visibility, markup)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from grokassist.errors import ConfigurationError, ConnectorError
from grokassist.ingest.connectors import Connector, Fetched, open_connector
from grokassist.ingest.connectors.confluence import ConfluenceConnector
from grokassist.ingest.connectors.freshdesk import FreshdeskConnector
from grokassist.ingest.connectors.intercom import IntercomConnector
from grokassist.ingest.connectors.settings import (
    ConfluenceSettings,
    FreshdeskSettings,
    IntercomSettings,
    ZendeskSettings,
)
from grokassist.ingest.connectors.zendesk import ZendeskConnector
from grokassist.testing import FakeArticle, FakeHelpCentre, check_connector_conformance

from .vendors import basic, confluence_transport, freshdesk_transport, intercom_transport, zendesk_transport

SECRET = "s3cr3t-T0KEN-value"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

Sleep = Callable[[float], None]


def zendesk(site: FakeHelpCentre, sleep: Sleep) -> Connector:
    settings = ZendeskSettings(email="agent@acme.test", api_token=SecretStr(SECRET))
    transport = zendesk_transport(site, auth=basic("agent@acme.test/token", SECRET))
    return ZendeskConnector("acme", settings=settings, transport=transport, sleep=sleep)


def freshdesk(site: FakeHelpCentre, sleep: Sleep) -> Connector:
    transport = freshdesk_transport(site, auth=basic(SECRET, "X"))
    return FreshdeskConnector(
        "acme", settings=FreshdeskSettings(api_key=SecretStr(SECRET)), transport=transport, sleep=sleep
    )


def confluence(site: FakeHelpCentre, sleep: Sleep) -> Connector:
    settings = ConfluenceSettings(email="writer@acme.test", api_token=SecretStr(SECRET))
    transport = confluence_transport(site, auth=basic("writer@acme.test", SECRET))
    return ConfluenceConnector(
        "acme.atlassian.net", "DOCS", settings=settings, transport=transport, sleep=sleep
    )


def intercom(site: FakeHelpCentre, sleep: Sleep) -> Connector:
    transport = intercom_transport(site, auth=f"Bearer {SECRET}")
    return IntercomConnector(
        settings=IntercomSettings(access_token=SecretStr(SECRET)), transport=transport, sleep=sleep
    )


@pytest.mark.parametrize("make", [zendesk, freshdesk, confluence, intercom], ids=lambda f: f.__name__)
def test_connector_conformance(make: Callable[[FakeHelpCentre, Sleep], Connector]) -> None:
    check_connector_conformance(make, secret=SECRET)


def docs(connector: Connector) -> dict[str, Any]:
    try:
        return {i.document.title: i.document for i in connector.fetch({}) if isinstance(i, Fetched)}
    finally:
        connector.close()


def site(*articles: FakeArticle) -> FakeHelpCentre:
    return FakeHelpCentre(articles=list(articles), page_size=10)


# -- URIs, settings, secrets ----------------------------------------------------------------------


def test_uris_name_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKASSIST_FRESHDESK_API_KEY", SECRET)
    monkeypatch.setenv("GROKASSIST_INTERCOM_ACCESS_TOKEN", SECRET)
    cases = {
        "zendesk://acme": "zendesk://acme.zendesk.com",
        "zendesk://help.acme.test/de": "zendesk://help.acme.test/de",
        "freshdesk://acme": "freshdesk://acme.freshdesk.com",
        "freshdesk://acme/3": "freshdesk://acme.freshdesk.com/3",
        "confluence://acme/DOCS": "confluence://acme.atlassian.net/DOCS",
        "intercom://": "intercom://api.intercom.io",
        "intercom://eu": "intercom://api.eu.intercom.io",
        "https://Docs.Acme.test:443/help/index.html#top": "https://docs.acme.test/help/index.html",
    }
    for uri, origin in cases.items():
        connector = open_connector(uri)
        assert connector.origin == origin
        connector.close()


def test_credentials_come_from_the_environment_and_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKASSIST_ZENDESK_EMAIL", "agent@acme.test")
    monkeypatch.setenv("GROKASSIST_ZENDESK_API_TOKEN", SECRET)
    settings = ZendeskSettings()
    assert settings.api_token is not None and settings.api_token.get_secret_value() == SECRET
    connector = open_connector("zendesk://acme")
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert SECRET not in repr(connector) and SECRET not in repr(vars(connector))


@pytest.mark.parametrize(
    ("uri", "variable"),
    [
        ("freshdesk://acme", "GROKASSIST_FRESHDESK_API_KEY"),
        ("intercom://", "GROKASSIST_INTERCOM_ACCESS_TOKEN"),
    ],
)
def test_a_missing_credential_names_its_variable(
    uri: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError, match=variable):
        open_connector(uri)


def test_token_without_email_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="GROKASSIST_ZENDESK_EMAIL"):
        ZendeskConnector("acme", settings=ZendeskSettings(api_token=SecretStr(SECRET)))


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="zendesk://"):
        open_connector("sharepoint://acme")


# -- Zendesk ----------------------------------------------------------------------------------


def test_zendesk_anonymous_locale_and_metadata() -> None:
    fake = site(FakeArticle(1, "Reset", "<p>Hold the button.</p>", WHEN))
    transport = zendesk_transport(fake, host="help.acme.test", locale="de")
    connector = ZendeskConnector(
        "help.acme.test", locale="de", settings=ZendeskSettings(), transport=transport
    )
    doc = docs(connector)["Reset"]
    assert "authorization" not in fake.requests[0].headers  # public articles need no credentials
    assert doc.id == "zendesk://help.acme.test/de/articles/1"
    assert doc.source == "https://help.acme.test/hc/de/articles/1"
    assert doc.metadata == {
        "connector": "zendesk",
        "locale": "de",
        "section_id": "28523491991699",
        "labels": "router, reset",
        "visibility": "public",
        "format": "html",
    }


def test_zendesk_restricted_articles_only_when_asked() -> None:
    fake = site(
        FakeArticle(1, "Public", "<p>a</p>", WHEN),
        FakeArticle(2, "Agents", "<p>b</p>", WHEN, restricted=True),
    )
    settings = ZendeskSettings(include_restricted=True)
    found = docs(ZendeskConnector("acme", settings=settings, transport=zendesk_transport(fake)))
    assert sorted(found) == ["Agents", "Public"]
    assert found["Agents"].metadata["visibility"] == "restricted"


def test_zendesk_oauth_token_is_a_bearer() -> None:
    fake = site(FakeArticle(1, "Reset", "<p>Hold the button.</p>", WHEN))
    transport = zendesk_transport(fake, auth=f"Bearer {SECRET}")
    connector = ZendeskConnector(
        "acme", settings=ZendeskSettings(oauth_token=SecretStr(SECRET)), transport=transport
    )
    assert list(docs(connector)) == ["Reset"]


def test_retry_after_too_long_is_reported_not_waited(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": "TooManyRequests"}, headers={"Retry-After": "3600"})

    slept: list[float] = []
    connector = ZendeskConnector("acme", transport=httpx.MockTransport(handler), sleep=slept.append)
    with pytest.raises(ConnectorError, match=r"rate limited .* \(HTTP 429\); it asks to wait 3600 s"):
        list(connector.fetch({}))
    assert slept == []


def test_server_errors_are_retried_with_backoff_then_reported(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, text="<html>Service Unavailable</html>")

    slept: list[float] = []
    connector = ZendeskConnector("acme", transport=httpx.MockTransport(handler), sleep=slept.append)
    with caplog.at_level(logging.INFO), pytest.raises(ConnectorError, match="HTTP 503") as raised:
        list(connector.fetch({}))
    assert raised.value.status_code == 503
    assert len(calls) == 5 and slept == [0.5, 1.0, 2.0, 4.0]
    assert "retrying in 0.5 s" in caplog.text


def test_a_network_error_is_a_connector_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    connector = ZendeskConnector("acme", transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(
        ConnectorError, match=r"cannot reach https://acme\.zendesk\.com/api/v2/help_center/articles\.json"
    ):
        list(connector.fetch({}))


# -- Freshdesk ----------------------------------------------------------------------------------


def test_freshdesk_walks_folders_and_subfolders_and_records_where() -> None:
    fake = site(*(FakeArticle(i, f"Article {i}", f"<p>Body {i}.</p>", WHEN) for i in range(1, 6)))
    transport = freshdesk_transport(fake, auth=basic(SECRET, "X"))
    found = docs(
        FreshdeskConnector("acme", settings=FreshdeskSettings(api_key=SecretStr(SECRET)), transport=transport)
    )
    assert sorted(found) == [f"Article {i}" for i in range(1, 6)]
    assert found["Article 1"].metadata["folder"] == "Getting started"
    assert found["Article 5"].metadata["folder"] == "Billing"  # from the subfolder
    assert found["Article 1"].metadata["category"] == "sample category"
    assert found["Article 1"].source == "https://acme.freshdesk.com/support/solutions/articles/1"


def test_freshdesk_one_category() -> None:
    fake = site(FakeArticle(1, "Only", "<p>x</p>", WHEN))
    transport = freshdesk_transport(fake, auth=basic(SECRET, "X"))
    connector = FreshdeskConnector.from_uri(
        "freshdesk://acme/3", settings=FreshdeskSettings(api_key=SecretStr(SECRET)), transport=transport
    )
    assert connector.origin == "freshdesk://acme.freshdesk.com/3"
    assert list(docs(connector)) == ["Only"]
    assert fake.requests[0].url.path == "/api/v2/solutions/categories/3"


# -- Confluence ---------------------------------------------------------------------------------


def test_confluence_storage_format_macros() -> None:
    from .vendors import recorded

    body = recorded("confluence")["page"]["body"]["storage"]["value"]
    fake = site(FakeArticle(98310, "Reset the router", body, WHEN))
    settings = ConfluenceSettings(email="writer@acme.test", api_token=SecretStr(SECRET))
    transport = confluence_transport(fake, auth=basic("writer@acme.test", SECRET))
    doc = docs(ConfluenceConnector("acme", "DOCS", settings=settings, transport=transport))[
        "Reset the router"
    ]
    assert doc.text == "Hold the button.\n\n```\nping 192.168.1.1\n```"  # the "bash" parameter is gone
    assert doc.source == "https://acme.atlassian.net/wiki/spaces/DOCS/pages/98310"
    assert doc.metadata["space"] == "Product documentation" and doc.metadata["version"] == 3


def test_confluence_unknown_space() -> None:
    fake = site(FakeArticle(1, "x", "<p>x</p>", WHEN))
    connector = ConfluenceConnector("acme", "NOPE", transport=confluence_transport(fake))
    with pytest.raises(ConnectorError, match="no space with key 'NOPE'"):
        list(connector.fetch({}))


# -- Intercom ---------------------------------------------------------------------------------


def test_intercom_regional_host_and_dates() -> None:
    fake = site(FakeArticle(39, "Pairing", "<p>Hold the pairing button.</p>", WHEN))
    transport = intercom_transport(fake, host="api.eu.intercom.io", auth=f"Bearer {SECRET}")
    connector = IntercomConnector(
        "eu", settings=IntercomSettings(access_token=SecretStr(SECRET)), transport=transport
    )
    doc = docs(connector)["Pairing"]
    assert doc.id == "intercom://api.eu.intercom.io/articles/39"
    assert doc.source == "https://help.acme.test/en/articles/39"
    assert doc.updated == WHEN and doc.metadata["locale"] == "en"
