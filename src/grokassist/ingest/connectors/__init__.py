"""Help centres and websites as sources of documents, by URI.

============================================  ===========================================
``zendesk://SUBDOMAIN[/LOCALE]``               Zendesk Guide articles (Help Center API)
``freshdesk://DOMAIN[/CATEGORY_ID]``           Freshdesk Solutions articles
``confluence://SITE/SPACE_KEY``                the pages of a Confluence Cloud space
``intercom://[eu|au]``                         Intercom Help Center articles
``https://SITE/PATH`` (or ``http://``)         a website: its sitemap, or a crawl from PATH
============================================  ===========================================

Third parties register a factory ``(uri, **options) -> Connector`` in the entry-point
group ``grokassist.connectors`` under their scheme.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

from ...errors import ConfigurationError
from .base import Connector, Failed, Fetched, Item, Unchanged, html_document

__all__ = [
    "BUILTIN_CONNECTORS",
    "ENTRY_POINT_GROUP",
    "Connector",
    "Failed",
    "Fetched",
    "Item",
    "Unchanged",
    "html_document",
    "open_connector",
]

ENTRY_POINT_GROUP = "grokassist.connectors"

#: scheme -> "module:attribute" of a factory ``(uri, **options)``
BUILTIN_CONNECTORS: dict[str, str] = {
    "confluence": "grokassist.ingest.connectors.confluence:ConfluenceConnector.from_uri",
    "freshdesk": "grokassist.ingest.connectors.freshdesk:FreshdeskConnector.from_uri",
    "http": "grokassist.ingest.connectors.web:WebCrawler.from_uri",
    "https": "grokassist.ingest.connectors.web:WebCrawler.from_uri",
    "intercom": "grokassist.ingest.connectors.intercom:IntercomConnector.from_uri",
    "zendesk": "grokassist.ingest.connectors.zendesk:ZendeskConnector.from_uri",
}


def open_connector(uri: str, **options: Any) -> Connector:
    """The connector for ``uri``; ``options`` (``settings``, ``transport``...) go to its factory."""
    scheme = uri.partition("://")[0].lower()
    target = BUILTIN_CONNECTORS.get(scheme)
    if target is not None:
        module, _, attribute = target.partition(":")
        factory: Any = importlib.import_module(module)
        for part in attribute.split("."):
            factory = getattr(factory, part)
    else:
        points = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        if scheme not in points:
            known = ", ".join(f"{s}://" for s in sorted({*BUILTIN_CONNECTORS, *points}))
            raise ConfigurationError(f"no connector for {scheme}:// sources; known: {known}")
        factory = points[scheme].load()
    connector: Connector = factory(uri, **options)
    return connector
