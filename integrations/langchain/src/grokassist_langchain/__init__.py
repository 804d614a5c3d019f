"""LangChain glue for grokassist.

- :class:`GrokAssistRetriever`: a LangChain ``BaseRetriever`` over a grokassist
  :class:`~grokassist.KnowledgeBase` (hybrid retrieval, metadata filters).
- :func:`from_langchain_documents`: feed documents from any LangChain loader into
  ``KnowledgeBase.ingest``.
- :func:`answer_to_documents`: an :class:`~grokassist.Answer`'s citations as
  LangChain documents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from grokassist import Answer, Document, KnowledgeBase
from grokassist.types import ScoredPassage

__all__ = ["GrokAssistRetriever", "answer_to_documents", "from_langchain_documents"]


def _to_lc(sp: ScoredPassage) -> LCDocument:
    p = sp.passage
    metadata: dict[str, Any] = dict(p.metadata)
    metadata.update(
        doc_id=p.doc_id,
        passage_id=p.id,
        title=p.title,
        source=p.source,
        heading_path=list(p.heading_path),
        score=sp.score,
        dense_score=sp.dense_score,
        lexical_score=sp.lexical_score,
    )
    return LCDocument(page_content=p.text, metadata=metadata, id=p.id)


class GrokAssistRetriever(BaseRetriever):
    """Retrieve passages from a grokassist knowledge base."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase
    k: int = 5
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [_to_lc(sp) for sp in self.kb.search(query, self.k, self.filters)]


def from_langchain_documents(docs: Iterable[LCDocument]) -> list[Document]:
    """Convert LangChain documents (from any loader) into grokassist documents.

    The id is the document's ``id``, else its ``source`` metadata, else a hash of
    its text; scalar metadata is kept.
    """
    out = []
    for doc in docs:
        meta = {k: v for k, v in doc.metadata.items() if isinstance(v, str | int | float | bool)}
        source = str(meta.get("source", ""))
        doc_id = doc.id or source or hashlib.sha256(doc.page_content.encode()).hexdigest()[:16]
        title = str(meta.pop("title", "")) or (source.rsplit("/", 1)[-1] if source else doc_id)
        out.append(Document(id=doc_id, text=doc.page_content, title=title, source=source, metadata=meta))
    return out


def answer_to_documents(answer: Answer) -> list[LCDocument]:
    """The citations of ``answer`` as LangChain documents."""
    return [
        LCDocument(
            page_content=c.text,
            metadata={
                "index": c.index,
                "doc_id": c.doc_id,
                "title": c.title,
                "source": c.source,
                "score": c.score,
            },
            id=c.passage_id,
        )
        for c in answer.citations
    ]
