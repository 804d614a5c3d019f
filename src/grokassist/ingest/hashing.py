"""Content hashes: they change when a document's content changes, and only then.

A file's hash covers its raw bytes and the caller's metadata, not its mtime,
so touching a file does not make it look changed. Both hashes cover
:data:`INGEST_VERSION` too: a release that reads or chunks documents differently
bumps it, and the next sync re-indexes every document once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ..types import Document, MetadataValue

__all__ = ["INGEST_VERSION", "document_hash", "file_hash", "metadata_json"]

#: How documents are read, chunked and indexed. 2: PDF lines that end before the margin end
#: their paragraph (table rows no longer run together); sentences split by ``text.split_prose``.
#: 3: short hyphenated compounds are indexed joined too ("Wi-Fi" as "wifi": ``text.compounds``).
INGEST_VERSION = 3


def metadata_json(metadata: Mapping[str, MetadataValue] | None) -> str:
    """Canonical JSON of ``metadata`` (sorted keys, compact)."""
    return json.dumps(dict(metadata or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def file_hash(raw: bytes, metadata: Mapping[str, MetadataValue] | None = None) -> str:
    """sha256 hex of a file's raw bytes plus the JSON of the caller's metadata."""
    digest = hashlib.sha256(raw)
    digest.update(b"\x00%d\x00" % INGEST_VERSION)
    digest.update(metadata_json(metadata).encode("utf-8"))
    return digest.hexdigest()


def document_hash(doc: Document) -> str:
    """sha256 hex of an in-memory document's title, text and metadata."""
    digest = hashlib.sha256(b"%d\x00" % INGEST_VERSION)
    for part in (doc.title, doc.text, metadata_json(doc.metadata)):
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()
