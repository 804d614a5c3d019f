"""The MCP server, driven by the official MCP Python SDK's client: in process, over stdio and over
streamable HTTP (real subprocesses, loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp  # noqa: F401  (the dev and test installs carry it: a broken install must fail, not skip)
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from grokassist.assistant import Assistant
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.mcp import TOOLS, StoreEscalations, create_mcp_server
from grokassist.stores import open_store
from grokassist.stores.memory import MemoryStore
from processes import free_port, stop_process

QUESTION = "How do I factory reset the Gen 3 router?"


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict), result
    return data


@pytest.fixture
def served(kb: Any) -> Iterator[tuple[Any, MemoryStore]]:
    store = MemoryStore()
    assistant = Assistant(kb, backend=ExtractiveBackend())
    yield create_mcp_server(assistant, StoreEscalations(store)), store
    store.close()


async def test_in_process_client_lists_the_tools_and_gets_a_cited_answer(
    served: tuple[Any, MemoryStore],
) -> None:
    server, store = served
    async with Client(server) as client:
        tools = await client.list_tools()
        assert [t.name for t in tools.tools] == list(TOOLS)
        schemas = {t.name: t.input_schema for t in tools.tools}
        assert schemas["ask_support"]["required"] == ["question"]
        assert schemas["search_support_docs"]["required"] == ["query"]

        answer = structured(await client.call_tool("ask_support", {"question": QUESTION}))
        assert "pinhole" in answer["answer"] and "[1]" in answer["answer"]
        assert answer["citations"][0]["doc_id"] == "router/reset-gen3.md"
        assert answer["citations"][0]["source"].endswith("router/reset-gen3.md")
        assert answer["abstained"] is False and answer["confidence"] > 0.5
        session = answer["session_id"]

        follow = structured(
            await client.call_tool(
                "ask_support", {"question": "and the Gen 2 router?", "session_id": session}
            )
        )
        assert "three times" in follow["answer"]

        unknown = structured(
            await client.call_tool("ask_support", {"question": "What is the capital of France?"})
        )
        assert unknown["abstained"] is True and unknown["suggested_actions"] == ["offer_human"]

        found = structured(
            await client.call_tool(
                "search_support_docs", {"query": "reset", "k": 2, "filters": {"product": "router-gen2"}}
            )
        )
        assert [r["doc_id"] for r in found["results"]] == ["router/reset-gen2.md"]

        queued = structured(
            await client.call_tool(
                "escalate_to_human",
                {
                    "reason": "Router still broken after reset",
                    "contact": "ana@example.test",
                    "session_id": session,
                },
            )
        )
    assert queued["status"] == "queued"
    pending = store.outbox.escalations("pending")
    assert [e.id for e in pending] == [queued["escalation_id"]]
    assert pending[0].client == "mcp" and pending[0].contact == "ana@example.test"
    assert [m.content for m in pending[0].transcript][:2] == [QUESTION, follow_text(pending[0])]


def follow_text(escalation: Any) -> str:
    return escalation.transcript[1].content  # the assistant's first answer, as it was given


async def test_escalation_needs_a_reason_or_a_conversation(served: tuple[Any, MemoryStore]) -> None:
    server, store = served
    async with Client(server) as client:
        result = await client.call_tool("escalate_to_human", {"reason": "  "})
    assert result.is_error and "reason" in result.content[0].text
    assert store.outbox.escalations("pending") == []


# -- real transports ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(kb: Any, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GROKASSIST_DATA_DIR=str(kb.settings.data_dir),
        GROKASSIST_BACKEND="extractive:",
        GROKASSIST_SERVER_STORE_URL=f"sqlite:///{tmp_path / 'outbox.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    return env


async def test_stdio(cli_env: dict[str, str], tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "grokassist.cli", "mcp", "--kb", "test"],
        env=cli_env,
        cwd=str(tmp_path),
    )
    async with Client(params, read_timeout_seconds=60) as client:
        assert [t.name for t in (await client.list_tools()).tools] == list(TOOLS)
        answer = structured(await client.call_tool("ask_support", {"question": QUESTION}))
        queued = structured(await client.call_tool("escalate_to_human", {"reason": "wants a call back"}))
    assert answer["citations"][0]["doc_id"] == "router/reset-gen3.md"
    outbox = open_store(cli_env["GROKASSIST_SERVER_STORE_URL"])
    try:
        assert [e.id for e in outbox.outbox.escalations("pending")] == [queued["escalation_id"]]
    finally:
        outbox.close()


def _serve_http(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grokassist.cli",
            "mcp",
            "--kb",
            "test",
            "--transport",
            "http",
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"grokassist mcp exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.2)
    stop_process(process)
    raise AssertionError("grokassist mcp did not start listening")


@pytest.mark.integration
async def test_streamable_http(cli_env: dict[str, str]) -> None:
    process, url = _serve_http(cli_env)
    try:
        async with Client(url) as client:
            assert [t.name for t in (await client.list_tools()).tools] == list(TOOLS)
            answer = structured(await client.call_tool("ask_support", {"question": QUESTION}))
        assert answer["citations"][0]["title"] == "Factory reset the Gen 3 router"
    finally:
        stop_process(process)


@pytest.mark.integration
async def test_streamable_http_with_an_api_key(cli_env: dict[str, str]) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    env = {**cli_env, "GROKASSIST_MCP_API_KEY": "mcp-secret-key"}
    process, url = _serve_http(env)
    try:
        async with httpx2.AsyncClient() as bare:
            refused = await bare.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401
        headers = {"Authorization": "Bearer mcp-secret-key"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            names = [t.name for t in (await client.list_tools()).tools]
        assert names == list(TOOLS)
    finally:
        stop_process(process)


def test_http_on_a_public_interface_needs_a_key(kb: Any) -> None:
    from grokassist.errors import ConfigurationError
    from grokassist.mcp import run_mcp

    assistant = Assistant(kb, backend=ExtractiveBackend())
    with pytest.raises(ConfigurationError, match="GROKASSIST_MCP_API_KEY"):
        run_mcp(assistant, StoreEscalations(MemoryStore()), transport="http", host="0.0.0.0")
