"""A knowledge base synced from a help centre: added, updated, deleted, and nothing lost when the
help centre fails part-way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from grokassist.ingest.connectors.zendesk import ZendeskConnector
from grokassist.testing import FakeArticle, FakeHelpCentre

from .vendors import zendesk_transport

WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def articles() -> list[FakeArticle]:
    return [
        FakeArticle(1, "Reset the router", "<p>Hold the pinhole button for ten seconds.</p>", WHEN),
        FakeArticle(2, "Pause your service", "<p>Pause it from the account page.</p>", WHEN),
        FakeArticle(3, "Snow", "<p>Snow melt mode heats the dish in winter.</p>", WHEN),
    ]


def connector(site: FakeHelpCentre) -> ZendeskConnector:
    return ZendeskConnector("acme", transport=zendesk_transport(site), sleep=lambda s: None)


def test_help_centre_sync(settings: Any, embedder: Any, docs_dir: Any) -> None:
    from grokassist.knowledge import KnowledgeBase

    kb = KnowledgeBase("zd", settings=settings, embedder=embedder)
    kb.ingest(docs_dir)  # a folder and a help centre in one knowledge base
    site = FakeHelpCentre(articles=articles())
    first = kb.ingest(connector(site), metadata={"brand": "acme"})
    assert (first.added, first.deleted) == (3, 0)
    assert len(kb) == 7
    hit = kb.search("pinhole button ten seconds", filters={"brand": "acme"})[0]
    assert hit.passage.doc_id == "zendesk://acme.zendesk.com/en-us/articles/1"
    assert hit.passage.source == "https://acme.zendesk.com/hc/en-us/articles/1"

    embedded = embedder.embedded
    same = kb.ingest(connector(FakeHelpCentre(articles=articles())), metadata={"brand": "acme"})
    assert (same.added, same.updated, same.deleted, same.unchanged) == (0, 0, 0, 3)
    assert embedder.embedded == embedded  # nothing re-embedded

    edited = articles()[:2]  # Snow deleted
    edited[0].html = "<p>Hold the pinhole button for twenty seconds.</p>"
    second = kb.ingest(connector(FakeHelpCentre(articles=edited)), metadata={"brand": "acme"})
    assert (second.added, second.updated, second.deleted, second.unchanged) == (0, 1, 1, 1)
    assert "zendesk://acme.zendesk.com/en-us/articles/3" not in kb.documents()
    assert len(kb) == 6  # the folder's documents are untouched

    broken = FakeHelpCentre(articles=[], fail_status=500)  # the help centre is down
    third = kb.ingest(connector(broken), metadata={"brand": "acme"})
    assert third.deleted == 0 and len(kb) == 6
    assert third.skipped[0][0] == "zendesk://acme.zendesk.com"
    assert "HTTP 500" in third.skipped[0][1] and "nothing from it is deleted" in third.skipped[0][1]

    # the folder sync does not delete the help centre's documents, nor the other way round
    again = kb.ingest(docs_dir)
    assert again.deleted == 0 and len(kb) == 6
    kb.close()
