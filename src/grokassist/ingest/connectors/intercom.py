"""Intercom: the published articles of a Help Center, through the Articles API.

``intercom://`` reads ``https://api.intercom.io/articles`` (``intercom://eu`` and
``intercom://au`` the regional hosts), page by page. Drafts are left out; each article is
read in its default language. Credentials: ``GROKASSIST_INTERCOM_ACCESS_TOKEN``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from ...config import IngestSettings
from ...errors import ConfigurationError, ConnectorError
from ...types import MetadataValue
from ._http import Http
from .base import Item, html_document
from .settings import IntercomSettings

__all__ = ["IntercomConnector"]

_PER_PAGE = 50
_API_VERSION = "2.11"
_HOSTS = {
    "": "api.intercom.io",
    "us": "api.intercom.io",
    "eu": "api.eu.intercom.io",
    "au": "api.au.intercom.io",
}


class IntercomConnector:
    """The published articles of one Intercom workspace."""

    def __init__(
        self,
        region: str = "",
        *,
        settings: IntercomSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        region = region.strip().strip("/").lower()
        self.host = _HOSTS.get(region, region if "." in region else "")
        if not self.host:
            raise ConfigurationError(f"intercom://{region}: use intercom://, intercom://eu or intercom://au")
        self.settings = settings or IntercomSettings()
        self.origin = f"intercom://{self.host}"
        token = self.settings.access_token
        if token is None:
            raise ConfigurationError(
                "the Intercom API needs an access token: set GROKASSIST_INTERCOM_ACCESS_TOKEN "
                "(Developer Hub > your app > Authentication)"
            )
        self._http = Http(
            "Intercom",
            headers={"Authorization": f"Bearer {token.get_secret_value()}", "Intercom-Version": _API_VERSION},
            transport=transport,
            sleep=sleep,
            auth_hint="check GROKASSIST_INTERCOM_ACCESS_TOKEN",
        )

    @classmethod
    def from_uri(cls, uri: str, *, ingest: IngestSettings | None = None, **options: Any) -> IntercomConnector:
        """``intercom://[eu|au]``."""
        return cls(uri.partition("://")[2], **options)

    def __repr__(self) -> str:
        return f"IntercomConnector(origin={self.origin!r})"

    def close(self) -> None:
        self._http.close()

    def fetch(self, known: Mapping[str, Mapping[str, MetadataValue]]) -> Iterator[Item]:
        url: str | None = f"https://{self.host}/articles"
        params: dict[str, Any] | None = {"page": 1, "per_page": _PER_PAGE}
        while url:
            data = self._http.get_json(url, params=params)
            articles = data.get("data") if isinstance(data, dict) else None
            if not isinstance(articles, list):
                raise ConnectorError("Intercom: unexpected answer from /articles (no 'data' list)")
            for article in articles:
                if isinstance(article, dict) and article.get("state") == "published":
                    yield self._article(article)
            url, params = _next_page(data, url, params)

    def _article(self, article: Mapping[str, Any]) -> Item:
        doc_id = f"intercom://{self.host}/articles/{article['id']}"
        updated = article.get("updated_at")
        return html_document(
            doc_id,
            str(article.get("body") or ""),
            title=str(article.get("title") or ""),
            source=str(article.get("url") or doc_id),
            metadata={
                "connector": "intercom",
                "locale": str(article.get("default_locale") or ""),
                "description": str(article.get("description") or ""),
                "parent_id": str(article.get("parent_id") or ""),
            },
            updated=datetime.fromtimestamp(updated, UTC) if isinstance(updated, (int, float)) else None,
        )


def _next_page(
    data: Mapping[str, Any], url: str, params: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any] | None]:
    """Follow ``pages.next`` (a URL, or a ``starting_after`` cursor), else count pages."""
    pages = data.get("pages")
    if not isinstance(pages, dict):
        return None, None
    following = pages.get("next")
    if isinstance(following, str) and following:
        return following, None
    if isinstance(following, dict) and following.get("starting_after"):
        return url.split("?")[0], {"per_page": _PER_PAGE, "starting_after": following["starting_after"]}
    page, total = pages.get("page"), pages.get("total_pages")
    if isinstance(page, int) and isinstance(total, int) and page < total:
        return url.split("?")[0], {"page": page + 1, "per_page": _PER_PAGE}
    return None, None
