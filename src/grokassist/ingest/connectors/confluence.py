"""Confluence Cloud: the current pages of one space, through the REST API v2.

``confluence://acme.atlassian.net/DOCS`` finds the space by key
(``/wiki/api/v2/spaces?keys=DOCS``) and lists its pages with their storage-format body
(``/wiki/api/v2/spaces/{id}/pages?body-format=storage``), following ``_links.next``.
Macros' parameters are dropped and code macros kept as code. Credentials:
``GROKASSIST_CONFLUENCE_EMAIL`` and ``GROKASSIST_CONFLUENCE_API_TOKEN``; without them
only a space open to anonymous users can be read.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import httpx

from ...config import IngestSettings
from ...errors import ConfigurationError, ConnectorError
from ...types import MetadataValue
from .._parsed import parse_datetime
from ._http import Http
from .base import Item, html_document
from .settings import ConfluenceSettings

__all__ = ["ConfluenceConnector"]

_LIMIT = 250  # the most the pages endpoint returns at once
_CODE = re.compile(r"<ac:plain-text-body>\s*<!\[CDATA\[(.*?)\]\]>\s*</ac:plain-text-body>", re.DOTALL)
_PARAMETER = re.compile(r"<ac:parameter\b[^>]*>.*?</ac:parameter>", re.DOTALL)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)


def storage_to_html(storage: str) -> str:
    """Confluence storage format as plain HTML: code macros become ``<pre>``, macro parameters go."""
    storage = _CODE.sub(lambda m: f"<pre>{html.escape(m.group(1))}</pre>", storage)
    storage = _PARAMETER.sub("", storage)
    return _CDATA.sub(lambda m: html.escape(m.group(1)), storage)


class ConfluenceConnector:
    """The current pages of one Confluence Cloud space."""

    def __init__(
        self,
        site: str,
        space: str,
        *,
        settings: ConfluenceSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        site = site.strip().strip("/").lower()
        space = space.strip().strip("/")
        if not site or not space:
            raise ConfigurationError(
                "confluence:// needs a site and a space key, e.g. confluence://acme.atlassian.net/DOCS"
            )
        self.site = site if "." in site else f"{site}.atlassian.net"
        self.space = space
        self.settings = settings or ConfluenceSettings()
        self.origin = f"confluence://{self.site}/{self.space}"
        s = self.settings
        auth: httpx.Auth | None = None
        if s.api_token is not None:
            if not s.email:
                raise ConfigurationError(
                    "GROKASSIST_CONFLUENCE_API_TOKEN needs GROKASSIST_CONFLUENCE_EMAIL "
                    "(the account it belongs to)"
                )
            auth = httpx.BasicAuth(s.email, s.api_token.get_secret_value())
        self._http = Http(
            "Confluence",
            auth=auth,
            transport=transport,
            sleep=sleep,
            auth_hint="check GROKASSIST_CONFLUENCE_EMAIL and GROKASSIST_CONFLUENCE_API_TOKEN",
        )

    @classmethod
    def from_uri(
        cls, uri: str, *, ingest: IngestSettings | None = None, **options: Any
    ) -> ConfluenceConnector:
        """``confluence://SITE/SPACE_KEY``."""
        rest = uri.partition("://")[2]
        site, _, space = rest.partition("/")
        return cls(site, space, **options)

    def __repr__(self) -> str:
        return f"ConfluenceConnector(origin={self.origin!r})"

    def close(self) -> None:
        self._http.close()

    def fetch(self, known: Mapping[str, Mapping[str, MetadataValue]]) -> Iterator[Item]:
        root = f"https://{self.site}"
        spaces = self._http.get_json(f"{root}/wiki/api/v2/spaces", params={"keys": self.space})
        results = spaces.get("results") if isinstance(spaces, dict) else None
        if not isinstance(results, list):
            raise ConnectorError("Confluence: unexpected answer from /wiki/api/v2/spaces (no 'results' list)")
        match = next((s for s in results if isinstance(s, dict) and s.get("key") == self.space), None)
        if match is None:
            raise ConnectorError(
                f"Confluence: no space with key {self.space!r} on {self.site} (or no permission to see it)",
                status_code=404,
            )
        space_name = str(match.get("name") or self.space)
        url: str | None = f"{root}/wiki/api/v2/spaces/{match['id']}/pages"
        params: dict[str, Any] | None = {"body-format": "storage", "limit": _LIMIT, "status": "current"}
        while url:
            data = self._http.get_json(url, params=params)
            pages = data.get("results") if isinstance(data, dict) else None
            if not isinstance(pages, list):
                raise ConnectorError(
                    "Confluence: unexpected answer from the pages endpoint (no 'results' list)"
                )
            links = data.get("_links") or {}
            base = str(links.get("base") or f"{root}/wiki")
            for page in pages:
                if isinstance(page, dict) and page.get("status", "current") == "current":
                    yield self._page(page, base, space_name)
            following = links.get("next")
            url, params = (
                (urljoin(root, following), None) if isinstance(following, str) and following else (None, None)
            )

    def _page(self, page: Mapping[str, Any], base: str, space_name: str) -> Item:
        body = ((page.get("body") or {}).get("storage") or {}).get("value") or ""
        webui = (page.get("_links") or {}).get("webui") or f"/pages/viewpage.action?pageId={page['id']}"
        version = page.get("version") or {}
        return html_document(
            f"confluence://{self.site}/pages/{page['id']}",
            storage_to_html(str(body)),
            title=str(page.get("title") or ""),
            source=base.rstrip("/") + str(webui),
            metadata={
                "connector": "confluence",
                "space": space_name,
                "parent_id": str(page.get("parentId") or ""),
            },
            updated=parse_datetime(version.get("createdAt") or page.get("createdAt")),
            volatile={"version": int(version.get("number") or 0)},
        )
