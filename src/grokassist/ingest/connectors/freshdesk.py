"""Freshdesk Solutions: the published articles of a Freshdesk knowledge base.

``freshdesk://acme`` (or ``freshdesk://acme.freshdesk.com``, or ``.../CATEGORY_ID`` for
one category) walks categories, folders, their subfolders and their articles through
the Freshdesk API v2 (``page``/``per_page`` pagination, ``Link: rel="next"``). Drafts
are left out, and so are folders not visible to all users unless
``include_restricted`` is set. Credentials: ``GROKASSIST_FRESHDESK_API_KEY``.
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
from .base import Item, html_document
from .settings import FreshdeskSettings

__all__ = ["FreshdeskConnector"]

_PER_PAGE = 100  # the most Freshdesk allows
_PUBLISHED = 2  # article status: 1 draft, 2 published
_ALL_USERS = 1  # folder visibility: 1 all users, 2 logged-in users, 3 agents, 4+ selected companies/segments


class FreshdeskConnector:
    """The published articles of one Freshdesk help desk (all categories, or one)."""

    def __init__(
        self,
        domain: str,
        *,
        category: int | None = None,
        settings: FreshdeskSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        domain = domain.strip().strip("/").lower()
        if not domain:
            raise ConfigurationError("freshdesk:// needs a domain, e.g. freshdesk://acme")
        self.domain = domain if "." in domain else f"{domain}.freshdesk.com"
        self.category = category
        self.settings = settings or FreshdeskSettings()
        self.origin = f"freshdesk://{self.domain}" + (f"/{category}" if category is not None else "")
        key = self.settings.api_key
        if key is None:
            raise ConfigurationError(
                "the Freshdesk API needs an API key: set GROKASSIST_FRESHDESK_API_KEY "
                "(Profile settings > View API key)"
            )
        self._http = Http(
            "Freshdesk",
            auth=httpx.BasicAuth(key.get_secret_value(), "X"),
            transport=transport,
            sleep=sleep,
            auth_hint="check GROKASSIST_FRESHDESK_API_KEY",
        )

    @classmethod
    def from_uri(
        cls, uri: str, *, ingest: IngestSettings | None = None, **options: Any
    ) -> FreshdeskConnector:
        """``freshdesk://DOMAIN[/CATEGORY_ID]``."""
        rest = uri.partition("://")[2]
        domain, _, category = rest.partition("/")
        category = category.strip("/")
        if category and not category.isdigit():
            raise ConfigurationError(f"freshdesk://{domain}/{category}: the category must be its numeric id")
        return cls(domain, category=int(category) if category else None, **options)

    def __repr__(self) -> str:
        return f"FreshdeskConnector(origin={self.origin!r})"

    def close(self) -> None:
        self._http.close()

    def _url(self, path: str) -> str:
        return f"https://{self.domain}/api/v2/solutions/{path}"

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list."""
        url: str | None = self._url(path)
        params: dict[str, Any] | None = {"per_page": _PER_PAGE, "page": 1}
        while url:
            response = self._http.get(url, params=params)
            try:
                items = response.json()
            except ValueError as exc:
                raise ConnectorError(f"Freshdesk: {url.split('?')[0]} did not answer JSON") from exc
            if not isinstance(items, list):
                raise ConnectorError(f"Freshdesk: unexpected answer from {url.split('?')[0]} (not a list)")
            yield from (item for item in items if isinstance(item, dict))
            following = response.links.get("next", {}).get("url")
            url, params = (following, None) if following else (None, None)

    def fetch(self, known: Mapping[str, Mapping[str, MetadataValue]]) -> Iterator[Item]:
        if self.category is not None:
            category = self._http.get_json(self._url(f"categories/{self.category}"))
            categories = [category] if isinstance(category, dict) else []
        else:
            categories = list(self._pages("categories"))
        for category in categories:
            folders = list(self._pages(f"categories/{category['id']}/folders"))
            while folders:
                folder = folders.pop(0)
                if (
                    folder.get("visibility", _ALL_USERS) != _ALL_USERS
                    and not self.settings.include_restricted
                ):
                    continue
                for article in self._pages(f"folders/{folder['id']}/articles"):
                    item = self._article(article, category, folder)
                    if item is not None:
                        yield item
                if folder.get("sub_folders_count"):
                    folders[0:0] = list(self._pages(f"folders/{folder['id']}/subfolders"))

    def _article(
        self, article: Mapping[str, Any], category: Mapping[str, Any], folder: Mapping[str, Any]
    ) -> Item | None:
        if article.get("status") != _PUBLISHED:
            return None
        doc_id = f"freshdesk://{self.domain}/articles/{article['id']}"
        tags = article.get("tags") or []
        return html_document(
            doc_id,
            str(article.get("description") or ""),
            title=str(article.get("title") or ""),
            source=f"https://{self.domain}/support/solutions/articles/{article['id']}",
            metadata={
                "connector": "freshdesk",
                "category": str(category.get("name") or ""),
                "folder": str(folder.get("name") or ""),
                "tags": ", ".join(str(tag) for tag in tags),
                "visibility": "public"
                if folder.get("visibility", _ALL_USERS) == _ALL_USERS
                else "restricted",
            },
            updated=parse_datetime(article.get("updated_at")),
        )
