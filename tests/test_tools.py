"""Tools: validation, running, and asking backends for a call (grammar JSON and native tool_calls)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from grokassist.backends.base import ChatRequest, GenerationSettings
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.backends.openai_compat import OpenAICompatBackend
from grokassist.errors import BackendError, ConfigurationError, StructuredOutputError, ToolError
from grokassist.testing import FakeBackend
from grokassist.tools import (
    NO_TOOL,
    Tool,
    ToolCall,
    ToolRegistry,
    achoose_tool_call,
    choose_tool_call,
    tool_call_mode,
    tool_call_schema,
)
from grokassist.types import Message


class OrderArgs(BaseModel):
    order_id: str = Field(min_length=2, max_length=12)


class Place(BaseModel):
    name: str


class TripArgs(BaseModel):
    to: Place
    seats: int = Field(default=1, ge=1, le=4)


def registry() -> ToolRegistry:
    def status(args: OrderArgs) -> dict[str, str]:
        return {"order": args.order_id, "status": "shipped"}

    async def refund(args: OrderArgs) -> str:
        return f"refunded {args.order_id}"

    def slow(args: OrderArgs) -> str:
        time.sleep(2)
        return "late"

    def broken(args: OrderArgs) -> str:
        raise RuntimeError("database down")

    return ToolRegistry(
        [
            Tool("order_status", "Where an order is. Looks it up.", OrderArgs, status),
            Tool("refund", "Refund an order.", OrderArgs, refund, sensitive=True),
            Tool("slow", "Takes long.", OrderArgs, slow, timeout=0.2),
            Tool("broken", "Fails.", OrderArgs, broken),
            Tool("book_trip", "Book a trip.", TripArgs),
        ]
    )


def test_registry_validates_runs_and_logs_calls(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="grokassist.tools")
    tools = registry()
    result = tools.run(ToolCall(name="order_status", arguments={"order_id": "A1"}, id="c1"))
    assert result.ok and result.value == {"order": "A1", "status": "shipped"} and result.call_id == "c1"
    assert "order_status" in caplog.text
    # async tool, sensitive: refused without permission, run with it
    refused = tools.run(ToolCall(name="refund", arguments={"order_id": "A1"}))
    assert not refused.ok and refused.reason == "permission"
    assert tools.run(ToolCall(name="refund", arguments={"order_id": "A1"}), allow_sensitive=True).value == (
        "refunded A1"
    )
    # bad arguments, unknown tool, timeout, a failing tool: results, never exceptions
    assert tools.run(ToolCall(name="order_status", arguments={"order_id": "x"})).reason == "invalid_arguments"
    assert tools.run(ToolCall(name="nope", arguments={})).reason == "unknown_tool"
    started = time.monotonic()
    late = tools.run(ToolCall(name="slow", arguments={"order_id": "A1"}))
    assert late.reason == "timeout" and time.monotonic() - started < 1.5
    failed = tools.run(ToolCall(name="broken", arguments={"order_id": "A1"}))
    assert failed.reason == "failed" and "database down" in failed.error
    # a tool without a function can be validated but not run
    tool, args = tools.validate(ToolCall(name="book_trip", arguments={"to": {"name": "Oslo"}}))
    assert isinstance(args, TripArgs) and args.to.name == "Oslo" and tool.name == "book_trip"
    assert tools.run(ToolCall(name="book_trip", arguments={"to": {"name": "Oslo"}})).reason == "failed"


def test_validate_refuses_unparsable_and_out_of_range_arguments() -> None:
    tools = registry()
    with pytest.raises(ToolError) as caught:
        tools.validate(ToolCall(name="book_trip", raw_arguments='{"to": '))
    assert caught.value.reason == "invalid_arguments"
    with pytest.raises(ToolError, match="seats"):
        tools.validate(ToolCall(name="book_trip", arguments={"to": {"name": "Oslo"}, "seats": 9}))
    with pytest.raises(ToolError) as unknown:
        tools.validate(ToolCall(name="launch", arguments={}))
    assert unknown.value.reason == "unknown_tool" and "order_status" in str(unknown.value)


def test_tool_definitions_are_checked() -> None:
    with pytest.raises(ConfigurationError):
        Tool(NO_TOOL, "reserved", OrderArgs)
    with pytest.raises(ConfigurationError):
        Tool("has space", "bad name", OrderArgs)
    with pytest.raises(ConfigurationError):
        Tool("x", "not a model", dict)  # type: ignore[type-var]
    tools = registry()
    with pytest.raises(ConfigurationError):
        tools.register(Tool("refund", "again", OrderArgs))


def test_call_schema_has_every_tool_and_none_with_definitions_hoisted() -> None:
    schema = tool_call_schema(registry().specs())
    names = [v["properties"]["tool"]["const"] for v in schema["anyOf"]]
    assert names == ["order_status", "refund", "slow", "broken", "book_trip", NO_TOOL]
    assert "Place" in schema["$defs"]
    trip = schema["anyOf"][4]["properties"]["arguments"]
    assert trip["properties"]["to"] == {"$ref": "#/$defs/Place"}


def test_json_schema_mode_parses_the_choice_and_none() -> None:
    seen: list[ChatRequest] = []

    def reply(request: ChatRequest) -> str:
        seen.append(request)
        if "Where" in request.messages[-1].content:
            return json.dumps({"tool": "order_status", "arguments": {"order_id": "B7"}})
        return json.dumps({"tool": NO_TOOL})

    backend = FakeBackend(reply)
    call = choose_tool_call(backend, "Where is my order B7?", registry())
    assert call == ToolCall(
        name="order_status", arguments={"order_id": "B7"}, raw_arguments='{"order_id": "B7"}'
    )
    assert choose_tool_call(backend, "How do refunds work?", registry()) is None
    request = seen[0]
    assert request.settings.json_schema == tool_call_schema(registry().specs())
    assert request.settings.temperature == 0.0 and request.settings.tools is None
    # only what the caller passed reaches the model: no retrieved passages
    assert request.passages == () and "order_status" in request.question


def test_malformed_choice_is_an_error_and_extractive_is_skipped() -> None:
    with pytest.raises(StructuredOutputError):
        choose_tool_call(FakeBackend('{"tool": "order_st'), "Where is A1?", registry())
    assert tool_call_mode(ExtractiveBackend()) == "none"
    with pytest.raises(BackendError, match="none can"):
        choose_tool_call(ExtractiveBackend(), "Where is A1?", registry())
    # a failing backend hands over to the next
    failing = FakeBackend(fail=BackendError("down"))
    good = FakeBackend(json.dumps({"tool": "order_status", "arguments": {"order_id": "A1"}}))
    assert choose_tool_call([failing, good], "Where is A1?", registry()) is not None


async def test_async_twin() -> None:
    backend = FakeBackend(json.dumps({"tool": "order_status", "arguments": {"order_id": "C3"}}))
    history = [
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Hello"),
        Message(role="user", content="Where is C3?"),
    ]
    call = await achoose_tool_call(backend, history, registry())
    assert call is not None and call.arguments == {"order_id": "C3"}


# -- native tool calls (OpenAI-compatible), with the API's recorded shapes --------------------


def _sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"


# The shape OpenAI's chat completions API streams for a tool call: the id and name first,
# then the arguments in fragments, then finish_reason "tool_calls".
STREAMED_TOOL_CALL = [
    {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_abc",
                            "type": "function",
                            "function": {"name": "order_status", "arguments": ""},
                        }
                    ],
                },
                "finish_reason": None,
            }
        ],
    },
    {
        "id": "c",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ord'}}]},
                "finish_reason": None,
            }
        ],
    },
    {
        "id": "c",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": 'er_id": "D4"}'}}]},
                "finish_reason": None,
            }
        ],
    },
    {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    {"id": "c", "choices": [], "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92}},
]

WHOLE_TOOL_CALL = {
    "id": "c2",
    "object": "chat.completion",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_def",
                        "type": "function",
                        "function": {"name": "refund", "arguments": '{"order_id": "E5"}'},
                    }
                ],
            },
        }
    ],
    "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59},
}


def _backend(handler: Any) -> OpenAICompatBackend:
    return OpenAICompatBackend(
        "http://127.0.0.1:9/v1#gpt-test",
        transport=httpx.MockTransport(handler),
        async_transport=httpx.MockTransport(handler),
        max_retries=0,
    )


def test_native_tool_calls_streamed_and_whole() -> None:
    bodies: list[dict[str, Any]] = []

    def streamed(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(
            200, content=_sse(STREAMED_TOOL_CALL), headers={"content-type": "text/event-stream"}
        )

    backend = _backend(streamed)
    assert tool_call_mode(backend) == "native"
    call = choose_tool_call(backend, "Where is D4?", registry())
    assert call == ToolCall(
        name="order_status", arguments={"order_id": "D4"}, id="call_abc", raw_arguments='{"order_id": "D4"}'
    )
    body = bodies[0]
    assert body["tool_choice"] == "auto" and "response_format" not in body
    assert [t["function"]["name"] for t in body["tools"]][:2] == ["order_status", "refund"]
    assert body["tools"][0]["function"]["parameters"]["properties"]["order_id"]["maxLength"] == 12

    def whole(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=WHOLE_TOOL_CALL)

    chunks = list(
        _backend(whole).stream(
            ChatRequest(
                messages=(Message(role="user", content="Refund E5"),),
                settings=GenerationSettings(tools=registry().specs(), tool_choice="refund"),
            )
        )
    )
    assert chunks[-1].finish_reason == "tool_calls" and chunks[-1].usage is not None
    assert chunks[-1].tool_calls == (
        ToolCall(
            name="refund", arguments={"order_id": "E5"}, id="call_def", raw_arguments='{"order_id": "E5"}'
        ),
    )


def test_native_text_reply_means_no_tool_and_bad_arguments_are_kept_raw() -> None:
    text = [
        {
            "id": "c",
            "choices": [{"index": 0, "delta": {"content": "Refunds take 5 days."}, "finish_reason": "stop"}],
        }
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_sse(text), headers={"content-type": "text/event-stream"})

    assert choose_tool_call(_backend(handler), "How long do refunds take?", registry()) is None
    broken = json.loads(json.dumps(WHOLE_TOOL_CALL))
    broken["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"order_id": '

    def bad(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=broken)

    call = choose_tool_call(_backend(bad), "Refund E5", registry())
    assert call is not None and call.arguments == {} and call.raw_arguments == '{"order_id": '
    with pytest.raises(ToolError):
        registry().validate(call)


def test_native_async_stream_parses_tool_calls() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=_sse(STREAMED_TOOL_CALL), headers={"content-type": "text/event-stream"}
        )

    call = asyncio.run(achoose_tool_call(_backend(handler), "Where is D4?", registry()))
    assert call is not None and call.id == "call_abc" and call.arguments == {"order_id": "D4"}


@pytest.mark.slow
def test_llama_cpp_grammar_always_parses() -> None:
    """The packaged model, constrained by the call schema's grammar: every answer parses (or is 'none')."""
    pytest.importorskip("llama_cpp")
    from grokassist.backends.llama_cpp import LlamaCppBackend

    with LlamaCppBackend("default") as backend:
        tools = registry()
        for utterance in ("Where is my order A12?", "What are your opening hours?"):
            call = choose_tool_call(backend, utterance, tools, settings=GenerationSettings(max_tokens=40))
            assert call is None or call.name in tools
