from typing import Any

import grokassist_langchain  # the test extras install it: a broken import must fail, not skip
import pytest
from langchain_core.documents import Document as LCDocument

from grokassist.assistant import Assistant
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.knowledge import KnowledgeBase


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


def test_retriever_by_name_with_per_call_k_and_filters(kb: Any) -> None:
    retriever = grokassist_langchain.GrokAssistRetriever(kb="test", data_dir=str(kb.settings.data_dir), k=3)
    docs = retriever.invoke("factory reset", k=1, filters={"product": "router-gen2"})
    assert [d.metadata["doc_id"] for d in docs] == ["router/reset-gen2.md"]
    meta = docs[0].metadata
    assert meta["score"] > 0 and {"dense_score", "lexical_score", "title", "source", "heading_path"} <= set(
        meta
    )


def test_retriever_syncs_its_sources(settings: Any, docs_dir: Any) -> None:
    retriever = grokassist_langchain.GrokAssistRetriever(
        kb="synced", data_dir=str(settings.data_dir), sources=[str(docs_dir)]
    )
    assert retriever.invoke("pause my service")[0].metadata["doc_id"] == "billing/pause.md"


def test_chat_model_grounded_answer_has_citations(kb: Any) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    chat = grokassist_langchain.ChatGrokAssist(backend="extractive:", kb=kb)
    reply = chat.invoke([HumanMessage("How do I factory reset the Gen 3 router?")])
    assert "pinhole" in reply.content
    meta = reply.response_metadata
    assert meta["citations"][0]["doc_id"] == "router/reset-gen3.md"
    assert meta["abstained"] is False and meta["confidence"] > 0.5 and meta["model_name"] == "extractive:"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] > 0

    # the earlier turns are the conversation: a follow-up is rewritten with them
    follow = chat.invoke(
        [
            HumanMessage("How do I factory reset the Gen 3 router?"),
            AIMessage(reply.content),
            HumanMessage("and the Gen 2 router?"),
        ]
    )
    assert "three times" in follow.content

    abstained = chat.invoke("What is the capital of France?")
    assert abstained.response_metadata["abstained"] is True
    assert abstained.response_metadata["actions"][0]["type"] == "offer_human"


def test_chat_model_streams_pieces_then_metadata(kb: Any) -> None:
    chat = grokassist_langchain.ChatGrokAssist(backend="extractive:", kb=kb)
    chunks = list(chat.stream("How do I pause my service?"))
    assert len(chunks) >= 2 and chunks[-1].chunk_position == "last"
    assert "".join(str(c.content) for c in chunks).startswith("You can pause your service")
    assert chunks[-1].response_metadata["citations"][0]["doc_id"] == "billing/pause.md"


async def test_chat_model_async_stream_and_filters(kb: Any) -> None:
    chat = grokassist_langchain.ChatGrokAssist(
        backend="extractive:", kb=kb, filters={"product": "router-gen2"}
    )
    chunks = [c async for c in chat.astream("How do I factory reset the router?")]
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert "three times" in str(full.content)
    assert {c["doc_id"] for c in full.response_metadata["citations"]} == {"router/reset-gen2.md"}


def test_chat_model_without_a_knowledge_base_refuses_the_extractive_backend() -> None:
    from grokassist.errors import ConfigurationError

    chat = grokassist_langchain.ChatGrokAssist(backend="extractive:")
    with pytest.raises(ConfigurationError, match="give ChatGrokAssist a kb"):
        chat.invoke("Hello")


def test_chat_model_secret_is_not_shown() -> None:
    chat = grokassist_langchain.ChatGrokAssist(
        backend="openai:https://api.example.test/v1#m", api_key="sk-123"
    )
    assert "sk-123" not in repr(chat) and "sk-123" not in str(chat.model_dump())
