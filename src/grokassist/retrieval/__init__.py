"""Retrieval: ONNX embeddings, the Chroma vector store, BM25 and hybrid fusion.

>>> from grokassist.retrieval import Bm25Index, ChromaStore, HybridRetriever, OnnxEmbedder
>>> store = ChromaStore.persistent("kb-folder", "docs")  # doctest: +SKIP
>>> retriever = HybridRetriever(OnnxEmbedder(), store, Bm25Index())  # doctest: +SKIP
"""

from __future__ import annotations

from .base import Embedder, Filters, LexicalIndex, VectorStore, matches
from .embedder import OnnxEmbedder
from .fusion import group_documents, rrf, rrf_documents
from .lexical import Bm25Index
from .retriever import HybridRetriever, RetrievalMode
from .store import ChromaStore, filters_to_where

__all__ = [
    "Bm25Index",
    "ChromaStore",
    "Embedder",
    "Filters",
    "HybridRetriever",
    "LexicalIndex",
    "OnnxEmbedder",
    "RetrievalMode",
    "VectorStore",
    "filters_to_where",
    "group_documents",
    "matches",
    "rrf",
    "rrf_documents",
]
