"""A LangChain agent that searches the support docs with grokassist, then answers with sources.

The agent (LangChain's ``create_agent``) gets one tool, ``search_support_docs``: a
:class:`~grokassist_langchain.GrokAssistRetriever` over a grokassist knowledge base (hybrid
BM25 + dense retrieval, metadata filters), built from ``examples/starlink/docs`` on first run.
Its model is any LangChain chat model that can call tools::

    pip install -e "integrations/langchain[agent]" langchain-openai
    # a hosted model
    OPENAI_API_KEY=... python examples/langchain_agent/agent.py --model openai:gpt-4.1-mini \\
        "My dish says it is obstructed. What should I do?"
    # any OpenAI-compatible server with tool calling, e.g. llama.cpp's llama-server --jinja
    python examples/langchain_agent/agent.py --model openai:qwen2.5 --base-url http://127.0.0.1:8080/v1 "..."
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from grokassist_langchain import GrokAssistRetriever
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, create_retriever_tool

DOCS = Path(__file__).resolve().parents[1] / "starlink" / "docs"

SYSTEM_PROMPT = (
    "You are a customer-support agent. Before answering, search the support docs with "
    "search_support_docs. Answer only from what it returns and name the source of each fact. "
    "If the docs do not cover the question, say so and offer to hand over to a human."
)


def support_docs_tool(kb: str = "starlink", data_dir: str | None = None, k: int = 4) -> BaseTool:
    """The retriever as a LangChain tool; the knowledge base is synced from the example docs."""
    retriever = GrokAssistRetriever(kb=kb, data_dir=data_dir, sources=[str(DOCS)], k=k)
    return create_retriever_tool(
        retriever,
        name="search_support_docs",
        description=(
            "Search the Starlink support articles. Input: a short search query. Returns the best "
            "passages, each with its article title and source."
        ),
        document_prompt=_document_prompt(),
        response_format="content_and_artifact",  # the Documents (with scores and sources) as the artifact
    )


def _document_prompt() -> Any:
    from langchain_core.prompts import PromptTemplate

    return PromptTemplate.from_template("[{title}] ({source})\n{page_content}")


def build_agent(model: BaseChatModel | str, tool: BaseTool) -> Any:
    from langchain.agents import create_agent

    return create_agent(model, tools=[tool], system_prompt=SYSTEM_PROMPT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    parser.add_argument("--model", required=True, help="a LangChain model spec, e.g. openai:gpt-4.1-mini")
    parser.add_argument("--base-url", help="an OpenAI-compatible server for --model openai:NAME")
    parser.add_argument("--data-dir", help="where the knowledge base lives (default: grokassist's)")
    args = parser.parse_args(argv)

    from langchain.chat_models import init_chat_model

    options = {"base_url": args.base_url} if args.base_url else {}
    agent = build_agent(init_chat_model(args.model, **options), support_docs_tool(data_dir=args.data_dir))
    state = agent.invoke({"messages": [{"role": "user", "content": args.question}]})
    for message in state["messages"]:
        if isinstance(message, ToolMessage):
            for doc in message.artifact or []:
                print(f"  searched: {doc.metadata['title']} ({doc.metadata['score']:.3f})", file=sys.stderr)
    print(state["messages"][-1].content)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
