from typing import Any

import pytest

pytest.importorskip("langchain_core")
grokassist_langchain = pytest.importorskip("grokassist_langchain")

from langchain_core.documents import Document as LCDocument  # noqa: E402

from grokassist.assistant import Assistant  # noqa: E402
from grokassist.backends.extractive import ExtractiveBackend  # noqa: E402
from grokassist.knowledge import KnowledgeBase  # noqa: E402


def test_retriever_returns_scored_documents_with_filters(kb: Any) -> None:
    retriever = grokassist_langchain.GrokAssistRetriever(kb=kb, k=3)
    docs = retriever.invoke("How do I pause my service?")
    assert docs[0].metadata["doc_id"] == "billing/pause.md"
    assert docs[0].metadata["score"] >= docs[-1].metadata["score"]
    filtered = grokassist_langchain.GrokAssistRetriever(kb=kb, k=3, filters={"product": "router-gen2"})
    assert {d.metadata["doc_id"] for d in filtered.invoke("reset")} == {"router/reset-gen2.md"}


def test_langchain_documents_can_be_ingested(settings: Any, embedder: Any) -> None:
    base = KnowledgeBase("lc", settings=settings, embedder=embedder)
    docs = [
        LCDocument(
            page_content="The Mini Kit draws 25 to 40 watts.", metadata={"source": "mini.txt", "page": 1}
        ),
        LCDocument(page_content="Snow melt mode heats the dish.", metadata={"source": "snow.txt"}),
    ]
    report = base.ingest(*grokassist_langchain.from_langchain_documents(docs))
    assert report.added == 2
    answer = Assistant(base, backend=ExtractiveBackend()).ask("How much power does the Mini Kit draw?")
    cited = grokassist_langchain.answer_to_documents(answer)
    assert cited and cited[0].metadata["source"] == "mini.txt"
