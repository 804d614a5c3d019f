"""GrokAssistRetriever: a LangChain retriever over a grokassist knowledge base."""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from grokassist import KnowledgeBase
from grokassist.types import ScoredPassage

from ._kb import open_knowledge_base

__all__ = ["GrokAssistRetriever", "passage_to_document"]


def passage_to_document(sp: ScoredPassage) -> LCDocument:
    """A retrieved passage as a LangChain document; scores and provenance in its metadata."""
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
    """Hybrid (BM25 + dense) retrieval from a grokassist knowledge base.

    ``kb`` is a :class:`~grokassist.KnowledgeBase` or the name of one (in ``data_dir``,
    default: the grokassist data directory); ``sources`` (folders, files, help-centre
    or website URIs) are synced into it when it is first used. ``k`` and ``filters``
    (metadata filters, e.g. ``{"locale": "en-US"}``) can also be given per call:
    ``retriever.invoke(query, k=2, filters={...})``. Each document carries its
    ``score`` (fused), ``dense_score``, ``lexical_score``, ``doc_id``, ``title`` and
    ``source`` in its metadata.

    >>> retriever = GrokAssistRetriever(kb="starlink", k=4)   # doctest: +SKIP
    >>> retriever.invoke("How do I fix an obstruction?")      # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase | str | None = None
    data_dir: str | None = None
    sources: list[str] = Field(default_factory=list)
    k: int = Field(default=4, gt=0)
    filters: dict[str, Any] | None = None

    _base: KnowledgeBase | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base, opened (and synced from ``sources``) on first use."""
        with self._lock:
            if self._base is None:
                self._base = open_knowledge_base(self.kb, data_dir=self.data_dir, sources=self.sources)
            return self._base

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        **kwargs: Any,
    ) -> list[LCDocument]:
        k = int(kwargs.get("k", self.k))
        filters = kwargs.get("filters", self.filters)
        return [passage_to_document(sp) for sp in self.knowledge_base.search(query, k, filters)]
