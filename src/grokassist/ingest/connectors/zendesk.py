"""Zendesk Guide: the articles of a Help Center, through the Help Center API.

``zendesk://acme`` (or ``zendesk://acme.zendesk.com``, or a brand's host) lists
``/api/v2/help_center/articles.json`` with cursor pagination; ``zendesk://acme/en-us``
lists one locale's translations. Drafts are left out, and so are articles restricted
to a user segment (signed-in users, agents) unless ``include_restricted`` is set:
an assistant that answers customers should not quote internal articles.
Credentials: ``GROKASSIST_ZENDESK_EMAIL`` and ``GROKASSIST_ZENDESK_API_TOKEN`` (or
``GROKASSIST_ZENDESK_OAUTH_TOKEN``); without them only public articles are listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from ...config import IngestSettings
from ...errors import ConfigurationError, ConnectorError
from ...types import MetadataValue
from .._parsed import parse_datetime
from ._http import Http
from .base import Fetched, Item, html_document
from .settings import ZendeskSettings

__all__ = ["ZendeskConnector"]

_PAGE_SIZE = 100  # the most the articles endpoint allows


class ZendeskConnector:
    """The published articles of one Zendesk Help Center (one locale, or all)."""

    def __init__(
        self,
        host: str,
        *,
        locale: str | None = None,
        settings: ZendeskSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        host = host.strip().strip("/").lower()
        if not host:
            raise ConfigurationError("zendesk:// needs a subdomain, e.g. zendesk://acme")
        self.host = host if "." in host else f"{host}.zendesk.com"
        self.locale = locale.strip("/").lower() if locale else None
        self.settings = settings or ZendeskSettings()
        self.origin = f"zendesk://{self.host}" + (f"/{self.locale}" if self.locale else "")
        s = self.settings
        auth: httpx.Auth | None = None
        headers: dict[str, str] = {}
        if s.oauth_token is not None:
            headers["Authorization"] = f"Bearer {s.oauth_token.get_secret_value()}"
        elif s.api_token is not None:
            if not s.email:
                raise ConfigurationError(
                    "GROKASSIST_ZENDESK_API_TOKEN needs GROKASSIST_ZENDESK_EMAIL (the agent it belongs to)"
                )
            auth = httpx.BasicAuth(f"{s.email}/token", s.api_token.get_secret_value())
        self._http = Http(
            "Zendesk",
            auth=auth,
            headers=headers,
            transport=transport,
            sleep=sleep,
            auth_hint="check GROKASSIST_ZENDESK_EMAIL and GROKASSIST_ZENDESK_API_TOKEN "
            "(or GROKASSIST_ZENDESK_OAUTH_TOKEN)",
        )

    @classmethod
    def from_uri(cls, uri: str, *, ingest: IngestSettings | None = None, **options: Any) -> ZendeskConnector:
        """``zendesk://SUBDOMAIN[/LOCALE]``."""
        rest = uri.partition("://")[2]
        host, _, locale = rest.partition("/")
        return cls(host, locale=locale or None, **options)

    def __repr__(self) -> str:
        return f"ZendeskConnector(origin={self.origin!r})"

    def close(self) -> None:
        self._http.close()

    def fetch(self, known: Mapping[str, Mapping[str, MetadataValue]]) -> Iterator[Item]:
        path = (
            f"/api/v2/help_center/{self.locale}/articles.json"
            if self.locale
            else "/api/v2/help_center/articles.json"
        )
        url: str | None = f"https://{self.host}{path}"
        params: dict[str, Any] | None = {"page[size]": _PAGE_SIZE}
        seen: set[str] = set()
        while url:
            data = self._http.get_json(url, params=params)
            articles = data.get("articles") if isinstance(data, dict) else None
            if not isinstance(articles, list):
                raise ConnectorError(
                    f"Zendesk: unexpected answer from {url.split('?')[0]} (no 'articles' list)"
                )
            for article in articles:
                item = self._article(article)
                if isinstance(item, Fetched):
                    if item.document.id in seen:
                        continue  # listed twice while pages shifted
                    seen.add(item.document.id)
                if item is not None:
                    yield item
            url, params = _next_page(data), None

    def _article(self, article: Mapping[str, Any]) -> Item | None:
        if article.get("draft"):
            return None
        if article.get("user_segment_id") is not None and not self.settings.include_restricted:
            return None
        locale = str(article.get("locale") or self.locale or "")
        doc_id = f"zendesk://{self.host}/{locale}/articles/{article['id']}"
        labels = article.get("label_names") or []
        return html_document(
            doc_id,
            str(article.get("body") or ""),
            title=str(article.get("title") or article.get("name") or ""),
            source=str(article.get("html_url") or article.get("url") or doc_id),
            metadata={
                "connector": "zendesk",
                "locale": locale,
                "section_id": str(article.get("section_id") or ""),
                "labels": ", ".join(str(label) for label in labels),
                "visibility": "public" if article.get("user_segment_id") is None else "restricted",
            },
            updated=parse_datetime(article.get("edited_at") or article.get("updated_at")),
        )


def _next_page(data: Mapping[str, Any]) -> str | None:
    """The next page: cursor pagination (``meta.has_more``, ``links.next``) or offset (``next_page``)."""
    meta = data.get("meta")
    links = data.get("links")
    if isinstance(meta, dict) and "has_more" in meta:
        if meta.get("has_more") and isinstance(links, dict) and isinstance(links.get("next"), str):
            return str(links["next"])
        return None
    following = data.get("next_page")
    return following if isinstance(following, str) and following else None
