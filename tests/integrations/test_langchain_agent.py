"""The LangChain agent example: LangChain's agent runtime calls the grokassist retriever tool."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import grokassist_langchain  # noqa: F401  (installed with the test extras: must import)
import langchain.agents  # noqa: F401
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import Field

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "langchain_agent" / "agent.py"


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("langchain_agent_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class ToolCallingScript(GenericFakeChatModel):
    """A scripted stand-in for the agent's LLM: it asks for a search, then answers.

    Only the planning model is scripted; the tool, the retriever and the knowledge base are real.
    """

    bound: list[str] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        self.bound = [getattr(t, "name", "") for t in tools]
        return self


def test_agent_searches_the_docs_with_the_grokassist_tool(settings: Any) -> None:
    example = _example()
    tool = example.support_docs_tool(data_dir=str(settings.data_dir), k=3)
    script = ToolCallingScript(
        messages=iter(
            [
                AIMessage(
                    "",
                    tool_calls=[
                        {"name": "search_support_docs", "args": {"query": "dish obstructed"}, "id": "c1"}
                    ],
                ),
                AIMessage("Move the dish to a spot with a clear view of the sky (Fixing obstructions)."),
            ]
        )
    )
    agent = example.build_agent(script, tool)
    state = agent.invoke({"messages": [{"role": "user", "content": "My dish says it is obstructed."}]})

    assert script.bound == ["search_support_docs"]
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(results) == 1
    searched = results[0]
    assert "obstruct" in searched.content.lower() and "(/" in searched.content  # passages with their sources
    titles = [doc.metadata["title"] for doc in searched.artifact]
    assert "Fixing obstructions" in titles
    assert all(doc.metadata["score"] > 0 for doc in searched.artifact)
    assert state["messages"][-1].content.startswith("Move the dish")
