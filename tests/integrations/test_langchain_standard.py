"""LangChain's own standard test suites (langchain-tests) over GrokAssistRetriever and ChatGrokAssist.

The retriever and the grounded chat model run over the Starlink example docs; the chat
model runs once with the extractive backend (no model) and once, without a knowledge base,
with the packaged local model through llama.cpp.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from grokassist_langchain import ChatGrokAssist, GrokAssistRetriever
from langchain_tests.integration_tests import ChatModelIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

STARLINK = Path(__file__).resolve().parents[2] / "examples" / "starlink" / "docs"
KB = "langchain-standard"


@pytest.fixture(scope="session")
def standard_data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A knowledge base of the Starlink examples, built once for the whole session."""
    from grokassist import KnowledgeBase, load_settings

    folder = tmp_path_factory.mktemp("langchain-standard")
    kb = KnowledgeBase(KB, settings=load_settings(data_dir=folder))
    kb.ingest(STARLINK)
    kb.close()
    return str(folder)


class _OverTheExamples:
    data_dir: str = ""

    @pytest.fixture(autouse=True)
    def _knowledge_base(self, standard_data_dir: str) -> None:
        type(self).data_dir = standard_data_dir


class TestGrokAssistRetrieverStandard(_OverTheExamples, RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[GrokAssistRetriever]:
        return GrokAssistRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"kb": KB, "data_dir": self.data_dir}

    @property
    def retriever_query_example(self) -> str:
        return "How do I fix an obstruction?"


class TestChatGrokAssistUnit(_OverTheExamples, ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatGrokAssist]:
        return ChatGrokAssist

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"backend": "extractive:", "kb": KB, "data_dir": self.data_dir}


class TestChatGrokAssistExtractive(_OverTheExamples, ChatModelIntegrationTests):
    """Grounded answers composed from the docs, no model: citations in the response metadata."""

    @property
    def chat_model_class(self) -> type[ChatGrokAssist]:
        return ChatGrokAssist

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"backend": "extractive:", "kb": KB, "data_dir": self.data_dir}

    @property
    def model_override_value(self) -> str:
        return "fake:"  # grokassist.testing.FakeBackend, registered as a backend entry point


@pytest.mark.slow
class TestChatGrokAssistLocalModel(ChatModelIntegrationTests):
    """The packaged model through llama.cpp, the messages passed as they are (no knowledge base)."""

    @property
    def chat_model_class(self) -> type[ChatGrokAssist]:
        return ChatGrokAssist

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"backend": "llama-cpp:default", "max_tokens": 24}

    @property
    def model_override_value(self) -> str:
        return "fake:"
