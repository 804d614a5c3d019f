"""Ingestion: load support documents (Markdown, text, HTML, PDF) and chunk them into passages."""

from __future__ import annotations

from .chunking import chunk_document, chunk_documents, count_tokens
from .loaders import LoadResult, load_documents

__all__ = ["LoadResult", "chunk_document", "chunk_documents", "count_tokens", "load_documents"]
