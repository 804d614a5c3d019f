"""LangChain glue for grokassist.

- :class:`GrokAssistRetriever`: a LangChain ``BaseRetriever`` over a grokassist
  :class:`~grokassist.KnowledgeBase` (hybrid retrieval, metadata filters, scores in
  the documents' metadata).
- :class:`ChatGrokAssist`: a LangChain ``BaseChatModel`` over any grokassist backend
  URI, grounded in a knowledge base when given one (citations, confidence and
  abstention in the response metadata), streaming.
- :func:`from_langchain_documents`: feed documents from any LangChain loader into
  ``KnowledgeBase.ingest``.
- :func:`answer_to_documents`: an :class:`~grokassist.Answer`'s citations as
  LangChain documents.

Both classes pass LangChain's standard test suites (``langchain-tests``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from langchain_core.documents import Document as LCDocument

from grokassist import Answer, Document

from .chat_models import ChatGrokAssist
from .retrievers import GrokAssistRetriever, passage_to_document

__all__ = [
    "ChatGrokAssist",
    "GrokAssistRetriever",
    "answer_to_documents",
    "from_langchain_documents",
    "passage_to_document",
]


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
