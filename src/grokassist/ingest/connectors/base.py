"""The :class:`Connector` protocol: a help centre or website as a source of documents.

A connector lists everything its source holds, every time: the knowledge base
compares content hashes, so unchanged articles cost no embedding, and anything
it held before that the listing no longer has is deleted. A listing that fails
part-way raises :class:`~grokassist.errors.ConnectorError`; the knowledge base
then deletes nothing from that source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from ...types import Document, MetadataValue
from .._html import parse_html_text
from ..hashing import document_hash

__all__ = ["Connector", "Failed", "Fetched", "Item", "Unchanged", "html_document"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document read from the source; ``hidden`` counts the hidden text left out, by reason."""

    document: Document
    hidden: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A known document the source says has not changed (an HTTP 304): keep it as it is."""

    id: str


@dataclass(frozen=True, slots=True)
class Failed:
    """A document the source has but that could not be read this time: keep its indexed version."""

    id: str
    source: str
    reason: str


Item = Fetched | Unchanged | Failed


@runtime_checkable
class Connector(Protocol):
    """A source of documents that can be listed completely (a help centre, a website)."""

    #: What this connector syncs, as a URI (``zendesk://acme.zendesk.com/en-us``). Every
    #: document it yields carries it as ``metadata["origin"]``, and deletions are scoped to it.
    origin: str

    def fetch(self, known: Mapping[str, Mapping[str, MetadataValue]]) -> Iterator[Item]:
        """Yield every document of the source.

        ``known`` maps the ids of the documents already indexed from this origin to
        their metadata (for conditional requests). Raise
        :class:`~grokassist.errors.ConnectorError` if the listing cannot be completed.
        """
        ...

    def close(self) -> None:
        """Release the HTTP client."""
        ...


def html_document(
    doc_id: str,
    html: str,
    *,
    title: str,
    source: str,
    metadata: Mapping[str, MetadataValue] | None = None,
    updated: datetime | None = None,
    volatile: Mapping[str, MetadataValue] | None = None,
) -> Fetched | Failed:
    """A document from an article's HTML body, hidden text left out.

    The content hash covers the title, the visible text and ``metadata``, not the
    ``volatile`` metadata (validators such as an ETag), so a document whose visible
    text did not change is not embedded again.
    """
    parsed = parse_html_text(
        html, PurePosixPath(urlsplit(source).path or "/") if source else PurePosixPath("/")
    )
    text = parsed.text.strip()
    if not text:
        if parsed.hidden_chars:
            reason = f"no visible text: its {parsed.hidden_chars} characters are hidden from readers"
        else:
            reason = "no text in the article"
        return Failed(doc_id, source or doc_id, reason)
    meta = {k: v for k, v in (metadata or {}).items() if v is not None and v != ""}
    doc = Document(
        id=doc_id,
        text=text,
        title=title.strip() or parsed.title,
        source=source,
        metadata={**meta, "format": "html"},
        updated=updated,
    )
    doc = doc.model_copy(update={"content_hash": document_hash(doc)})
    if volatile:
        doc = doc.model_copy(update={"metadata": {**doc.metadata, **volatile}})
    return Fetched(doc, dict(parsed.hidden))
